import test from 'ava';
import { Ipv4, Mac, MalformedError, TruncatedError } from '@ersatz/wire';
import {
  AdapterAddresses, IpForwardRow2, IpNetRow2, IpNetTable2, SockaddrInet, UnicastAddress, GatewayAddress, AF, NlNeighborState, WinError,
  parseIpNetTable2, parseIpNetRow2, emitIpNetRow2, parseIpForwardRow2, parseSockaddrInet, emitSockaddrInet, luidInfo, memoryOver,
  parseAdapterAddresses, callGrowing, ipHelperError, winErrorName, type SizedAnswer,
  IpHelperError, AccessDeniedError, NotFoundError, InvalidParameterError, BufferTooSmallError, NoReplyError, AlreadyExistsError, NotSupportedError,
} from '@ersatz/win32';

/*
 * Every fixture below is bytes the Windows SDK structs hold, not bytes ersatz wrote: the C program in docs/windows.md
 * ("How the byte fixtures were made") fills the real structs from mingw-w64 10.0's netioapi.h / iptypes.h / ws2ipdef.h,
 * x86_64-w64-mingw32-gcc 12.2 compiles it, and `objcopy -O binary -j .data` dumps the initialised data.
 * Nothing here has run on Windows: these tests prove the decoders agree with the headers' layout, no more.
 */

const ip = (s: string): Ipv4 => Ipv4.parse(s);
const ETHERNET_LUID = 0x0006000005000000n; // IfType 6 (Ethernet), NetLuidIndex 5
const WIFI_LUID = 0x0047000002000000n; // IfType 71 (IEEE 802.11), NetLuidIndex 2

test('layouts are the sizes the SDK headers give (mingw-w64 10.0, x64)', (t) => {
  // sizeof/offsetof measured with x86_64-w64-mingw32-gcc -S (see packages/win32/src/layout.ts).
  t.is(SockaddrInet.SIZE, 28);
  t.is(IpNetRow2.SIZE, 88);
  t.is(IpForwardRow2.SIZE, 104);
  t.is(AdapterAddresses.SIZE, 448);
  t.is(UnicastAddress.SIZE, 64);
  t.is(GatewayAddress.SIZE, 32);
  t.is(IpNetTable2.TABLE, 8);
  t.deepEqual([AF.INET, AF.INET6], [2, 23]);
});

/* struct { MIB_IPNET_TABLE2 t; MIB_IPNET_ROW2 more[1]; } ipnet_table: two IPv4 rows on ifindex 12 */
const IPNET_TABLE = new Uint8Array([
  0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0xc6, 0x33, 0x64, 0x02,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x06, 0x00,
  0x02, 0xa5, 0x80, 0xff, 0x7f, 0xc3, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x06, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0xd2, 0x04, 0x00, 0x00,
  0x02, 0x00, 0x00, 0x00, 0xc6, 0x33, 0x64, 0x63, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x02, 0x00, 0x00, 0x00, 0x88, 0x13, 0x00, 0x00,
]);

const ROW_REACHABLE = { ip: ip('198.51.100.2'), ifindex: 12, luid: ETHERNET_LUID, mac: Mac.parse('02:a5:80:ff:7f:c3'), state: 'REACHABLE', isRouter: true, isUnreachable: false, reachabilityMs: 1234 };
const ROW_FAILED = { ip: ip('198.51.100.99'), ifindex: 12, luid: ETHERNET_LUID, mac: null, state: 'FAILED', isRouter: false, isUnreachable: true, reachabilityMs: 5000 };

test('a MIB_IPNET_TABLE2 with two rows decodes to both neighbours', (t) => {
  t.deepEqual(parseIpNetTable2(IPNET_TABLE), [ROW_REACHABLE, ROW_FAILED]);
});

test('MIB_IPNET_ROW2 decodes at a non-zero byteOffset and skips non-IPv4 rows', (t) => {
  const shifted = new Uint8Array(5 + IpNetRow2.SIZE);
  shifted.set(IPNET_TABLE.subarray(IpNetTable2.TABLE, IpNetTable2.TABLE + IpNetRow2.SIZE), 5);
  t.deepEqual(parseIpNetRow2(shifted.subarray(5)), ROW_REACHABLE);
  t.deepEqual(parseIpNetRow2(shifted, 5), ROW_REACHABLE);
  const v6 = IPNET_TABLE.slice();
  v6[IpNetTable2.TABLE] = AF.INET6;
  t.deepEqual(parseIpNetTable2(v6), [ROW_FAILED]);
});

test('a short or corrupt MIB_IPNET_TABLE2 is a typed error', (t) => {
  t.throws(() => parseIpNetTable2(IPNET_TABLE.subarray(0, 100)), { instanceOf: TruncatedError, message: 'MIB_IPNET_TABLE2 of 2 rows: need 184 bytes, have 100' });
  t.throws(() => parseIpNetTable2(new Uint8Array(2)), { instanceOf: TruncatedError });
  const badState = IPNET_TABLE.slice();
  badState[IpNetTable2.TABLE + IpNetRow2.STATE] = 9;
  t.throws(() => parseIpNetTable2(badState), { instanceOf: MalformedError, message: 'MIB_IPNET_ROW2: unknown NL_NEIGHBOR_STATE 9' });
  const badLen = IPNET_TABLE.slice();
  badLen[IpNetTable2.TABLE + IpNetRow2.PHYSICAL_ADDRESS_LENGTH] = 33;
  t.throws(() => parseIpNetTable2(badLen), { instanceOf: MalformedError, message: 'MIB_IPNET_ROW2: PhysicalAddressLength 33 is over 32' });
});

/* MIB_IPNET_ROW2 create_row: what CreateIpNetEntry2 gets for 198.51.100.7 -> 02:00:5e:00:53:07, permanent, ifindex 12 */
const CREATE_ROW = new Uint8Array([
  0x02, 0x00, 0x00, 0x00, 0xc6, 0x33, 0x64, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x5e, 0x00, 0x53, 0x07, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
]);

test('emitIpNetRow2 writes every byte of the row CreateIpNetEntry2 expects', (t) => {
  const out = new Uint8Array(IpNetRow2.SIZE).fill(0xa5);
  emitIpNetRow2({ ip: ip('198.51.100.7'), ifindex: 12, mac: Mac.parse('02:00:5e:00:53:07'), state: NlNeighborState.PERMANENT }, out);
  t.deepEqual(out, CREATE_ROW);
  t.deepEqual(parseIpNetRow2(CREATE_ROW), { ip: ip('198.51.100.7'), ifindex: 12, luid: 0n, mac: Mac.parse('02:00:5e:00:53:07'), state: 'PERMANENT', isRouter: false, isUnreachable: false, reachabilityMs: 0 });
});

/* MIB_IPFORWARD_ROW2 best_route and SOCKADDR_INET best_source: GetBestRoute2's answer for a default route via 198.51.100.2 */
const BEST_ROUTE = new Uint8Array([
  0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x06, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
  0xc6, 0x33, 0x64, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,
  0xff, 0xff, 0xff, 0xff, 0x19, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
  0x4d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
]);
const BEST_SOURCE = new Uint8Array([
  0x02, 0x00, 0x00, 0x00, 0xc6, 0x33, 0x64, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
]);

test('GetBestRoute2 answers decode to the route and the source address', (t) => {
  t.deepEqual(parseIpForwardRow2(BEST_ROUTE), {
    luid: ETHERNET_LUID, ifindex: 12, prefix: Ipv4.UNSPECIFIED, prefixLen: 0, nextHop: ip('198.51.100.2'), metric: 25, protocol: 3, loopback: false, age: 77, origin: 0,
  });
  t.is(parseSockaddrInet(BEST_SOURCE), ip('198.51.100.1'));
  const onLink = BEST_ROUTE.slice();
  onLink.fill(0, IpForwardRow2.NEXT_HOP + SockaddrInet.IN_ADDR, IpForwardRow2.NEXT_HOP + SockaddrInet.IN_ADDR + 4);
  t.is(parseIpForwardRow2(onLink)?.nextHop, null);
  t.throws(() => parseIpForwardRow2(BEST_ROUTE.subarray(0, 100)), { instanceOf: TruncatedError, message: 'MIB_IPFORWARD_ROW2: need 104 bytes, have 100' });
});

test('emitSockaddrInet writes the SOCKADDR_INET GetBestRoute2 reads', (t) => {
  const out = new Uint8Array(SockaddrInet.SIZE).fill(0xa5);
  emitSockaddrInet(ip('198.51.100.1'), out);
  t.deepEqual(out, BEST_SOURCE);
  t.deepEqual(luidInfo(ETHERNET_LUID), { ifType: 6, netLuidIndex: 5 });
});

/*
 * struct blob adapters: IP_ADAPTER_ADDRESSES_LH a1 -> a2 (Next), their unicast and gateway lists, sockaddrs and strings,
 * one buffer as GetAdaptersAddresses fills it, every pointer BASE + offset into the buffer.
 */
const BASE = 0x7ff600010000n;
const ADAPTERS = new Uint8Array(
  Buffer.from(
    'wAEAAAwAAADAAQEA9n8AAKwEAQD2fwAAgAMBAPZ/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABgFAQD2fwAA+gQBAPZ/AAACAF4A' +
    'UwEAAAYAAAAAAAAA3AUAAAYAAAABAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' +
    'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAEAEAQD2fwAAGQAAAAAAAAAAAAAFAAAGAAAAAAAAAAAAAAAAAAAAAAAAAAAA' +
    'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' +
    'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' +
    'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAMABAAARAAAAAAAAAAAAAADTBAEA9n8AAAAEAQD2fwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' +
    'AAAAAAAAAABGBQEA9n8AAAwFAQD2fwAAAqWA/3/DAAAGAAAAAAAAANwFAABHAAAAAgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' +
    'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAACMAAAAAAAAA' +
    'AAAAAgAARwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' +
    'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' +
    'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABAAAAAAAAAAMADAQD2fwAAYAQBAPZ/AAAcAAAA' +
    'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAEAAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAHwEAQD2fwAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' +
    'AAAAAAAAAAAYAAAAAAAAAEAAAAAAAAAAAAAAAAAAAACMBAEA9n8AABAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAGQAAAAAAAAAgAAAA' +
    'AAAAAAAAAAAAAAAAnAQBAPZ/AAAQAAAAAAAAABcAAAAAAAAA/oAAAAAAAAAAAAAAAAAAAQAAAAACAAAAxjNkAQAAAAAAAAAAAgAAAMsAcYIAAAAA' +
    'AAAAAAIAAADGM2QCAAAAAAAAAAB7M0YyQTFDNEUtMEI3RC00RThBLTlDNjEtMkQ1RjdBOEI5QzAxfQB7OUQ4QzdCNkEtNUY0RS00RDNDLThCMkEt' +
    'MUYwRTlEOEM3QjAyfQBFAHQAaABlAHIAbgBlAHQAAABXAGkALQBGAGkAAABJAG4AdABlAGwAKABSACkAIABFAHQAaABlAHIAbgBlAHQAIABJADIA' +
    'MQA5AAAAVwBpAHIAZQBsAGUAcwBzACAA6QB0AOkAAAA=',
    'base64',
  ),
);
const OFF = { A2: 448, G1: 1088 } as const; // offsetof(struct blob, ...)

const ETHERNET = {
  ifindex: 12, luid: ETHERNET_LUID, adapterName: '{3F2A1C4E-0B7D-4E8A-9C61-2D5F7A8B9C01}', device: '\\Device\\NPF_{3F2A1C4E-0B7D-4E8A-9C61-2D5F7A8B9C01}',
  friendlyName: 'Ethernet', description: 'Intel(R) Ethernet I219', mac: Mac.parse('02:00:5e:00:53:01'), mtu: 1500, ifType: 6, operStatus: 1, ipv4Metric: 25,
  unicast: [{ ip: ip('198.51.100.1'), prefixLen: 24 }], gateways: [ip('198.51.100.2')],
};
const WIFI = {
  ifindex: 17, luid: WIFI_LUID, adapterName: '{9D8C7B6A-5F4E-4D3C-8B2A-1F0E9D8C7B02}', device: '\\Device\\NPF_{9D8C7B6A-5F4E-4D3C-8B2A-1F0E9D8C7B02}',
  friendlyName: 'Wi-Fi', description: 'Wireless \u00e9t\u00e9', mac: Mac.parse('02:a5:80:ff:7f:c3'), mtu: 1500, ifType: 71, operStatus: 2, ipv4Metric: 35,
  unicast: [{ ip: ip('203.0.113.130'), prefixLen: 25 }], gateways: [],
};

test('a GetAdaptersAddresses buffer with two adapters linked by Next decodes to both', (t) => {
  // The IPv6 link-local address first in Ethernet's unicast list is skipped: ersatz is IPv4 only.
  t.deepEqual(parseAdapterAddresses(memoryOver(ADAPTERS, BASE), BASE), [ETHERNET, WIFI]);
});

test('the adapter walk refuses pointers outside the buffer, short records and loops', (t) => {
  const setPointer = (bytes: Uint8Array, at: number, value: bigint) => new DataView(bytes.buffer, bytes.byteOffset).setBigUint64(at, value, true);
  const wild = ADAPTERS.slice();
  setPointer(wild, AdapterAddresses.NEXT, 0x1000n);
  t.throws(() => parseAdapterAddresses(memoryOver(wild, BASE), BASE), { instanceOf: MalformedError, message: /pointer 0x1000 is outside the 1376-byte buffer/ });

  const loop = ADAPTERS.slice();
  setPointer(loop, OFF.A2 + AdapterAddresses.NEXT, BASE); // a2.Next -> a1
  t.throws(() => parseAdapterAddresses(memoryOver(loop, BASE), BASE), { instanceOf: MalformedError, message: /the Next pointers loop/ });

  const gatewayLoop = ADAPTERS.slice();
  setPointer(gatewayLoop, OFF.G1 + GatewayAddress.NEXT, BASE + BigInt(OFF.G1));
  t.throws(() => parseAdapterAddresses(memoryOver(gatewayLoop, BASE), BASE), { instanceOf: MalformedError, message: /IP_ADAPTER_GATEWAY_ADDRESS: more than 4096 entries/ });

  // Next points at a record that runs past the end of the buffer.
  const short = ADAPTERS.slice();
  setPointer(short, AdapterAddresses.NEXT, BASE + BigInt(short.length - 100));
  t.throws(() => parseAdapterAddresses(memoryOver(short, BASE), BASE), { instanceOf: TruncatedError, message: 'IP_ADAPTER_ADDRESSES: need 448 bytes, have 100' });

  // An injected reader can map more than one region: here AdapterName points at bytes with no NUL.
  const STRAY = 0x10000000n;
  const noNul = ADAPTERS.slice();
  setPointer(noNul, AdapterAddresses.ADAPTER_NAME, STRAY);
  const inBlob = memoryOver(noNul, BASE);
  const stray = memoryOver(new TextEncoder().encode('{3F2A'), STRAY);
  const twoRegions = (address: bigint, length: number) => (address >= BASE ? inBlob(address, length) : stray(address, length));
  t.throws(() => parseAdapterAddresses(twoRegions, BASE), { instanceOf: MalformedError, message: 'adapter list: string at 0x10000000 has no NUL within 5 bytes' });

  const old = ADAPTERS.slice();
  old[AdapterAddresses.LENGTH] = 144; // IP_ADAPTER_ADDRESSES_XP
  old[AdapterAddresses.LENGTH + 1] = 0;
  t.throws(() => parseAdapterAddresses(memoryOver(old, BASE), BASE), { instanceOf: MalformedError, message: /Length 144 is under 232/ });
});

test('an adapter with no lists and null strings decodes to empty ones', (t) => {
  const bare = ADAPTERS.slice(0, AdapterAddresses.SIZE);
  for (const at of [AdapterAddresses.NEXT, AdapterAddresses.ADAPTER_NAME, AdapterAddresses.FIRST_UNICAST_ADDRESS, AdapterAddresses.DESCRIPTION, AdapterAddresses.FRIENDLY_NAME, AdapterAddresses.FIRST_GATEWAY_ADDRESS]) {
    new DataView(bare.buffer).setBigUint64(at, 0n, true);
  }
  bare[AdapterAddresses.PHYSICAL_ADDRESS_LENGTH] = 0; // loopback: no hardware address
  t.deepEqual(parseAdapterAddresses(memoryOver(bare, BASE), BASE), [{ ...ETHERNET, adapterName: '', device: '\\Device\\NPF_', friendlyName: '', description: '', mac: null, unicast: [], gateways: [] }]);
});

/** A fake size-probing call: answers the scripted codes in turn and records the sizes it was given. */
function scripted(answers: SizedAnswer<string>[]): { call: (size: number) => SizedAnswer<string>; sizes: number[] } {
  const sizes: number[] = [];
  return { sizes, call: (size) => { sizes.push(size); const a = answers[sizes.length - 1]; if (!a) throw new Error('called too often'); return a; } };
}

test('the buffer loop grows to the size Windows asks for, then succeeds', (t) => {
  const fake = scripted([{ code: WinError.ERROR_BUFFER_OVERFLOW, size: 21_000 }, { code: WinError.NO_ERROR, size: 21_000, value: 'adapters' }]);
  t.is(callGrowing('list adapters', 'GetAdaptersAddresses', fake.call), 'adapters');
  t.deepEqual(fake.sizes, [15_000, 21_000]);
  // ERROR_INSUFFICIENT_BUFFER is the same request; a stale answer (no bigger) doubles instead of spinning.
  const stale = scripted([{ code: WinError.ERROR_INSUFFICIENT_BUFFER, size: 100 }, { code: WinError.ERROR_BUFFER_OVERFLOW, size: 0 }, { code: WinError.NO_ERROR, size: 400, value: 'ok' }]);
  t.is(callGrowing('list adapters', 'GetAdaptersAddresses', stale.call, { initialSize: 50 }), 'ok');
  t.deepEqual(stale.sizes, [50, 100, 200]);
});

test('the buffer loop is bounded, and passes ERROR_NO_DATA and failures on', (t) => {
  const always = scripted(Array.from({ length: 10 }, (_, i) => ({ code: WinError.ERROR_BUFFER_OVERFLOW, size: 20_000 + i * 1000 })));
  const err = t.throws(() => callGrowing('list adapters', 'GetAdaptersAddresses', always.call, { attempts: 3 }), { instanceOf: BufferTooSmallError });
  t.deepEqual(always.sizes, [15_000, 20_000, 21_000]);
  t.is(err?.message, 'list adapters: GetAdaptersAddresses failed with ERROR_BUFFER_OVERFLOW (111): buffer still too small after 3 tries (the last asked for 22000 bytes): the list kept changing while ersatz read it, try again');

  t.is(callGrowing('list adapters', 'GetAdaptersAddresses', scripted([{ code: WinError.ERROR_NO_DATA, size: 0 }]).call), null);
  const denied = scripted([{ code: WinError.ERROR_ACCESS_DENIED, size: 0 }]);
  t.throws(() => callGrowing('list adapters', 'GetAdaptersAddresses', denied.call), { instanceOf: AccessDeniedError, message: /failed with ERROR_ACCESS_DENIED \(5\): .*run ersatz from an elevated prompt \(Run as administrator\)$/ });
  t.is(denied.sizes.length, 1);
});

test('each IP Helper failure code maps to its typed error and advice', (t) => {
  const cases: [number, Function, string, RegExp][] = [
    [5, AccessDeniedError, 'ERROR_ACCESS_DENIED', /Administrator/],
    [1168, NotFoundError, 'ERROR_NOT_FOUND', /Get-NetNeighbor/],
    [2, NotFoundError, 'ERROR_FILE_NOT_FOUND', /Get-NetAdapter/],
    [87, InvalidParameterError, 'ERROR_INVALID_PARAMETER', /unicast IPv4 address, a six-octet MAC/],
    [67, NoReplyError, 'ERROR_BAD_NET_NAME', /no ARP reply/],
    [5010, AlreadyExistsError, 'ERROR_OBJECT_ALREADY_EXISTS', /delete it first/],
    [50, NotSupportedError, 'ERROR_NOT_SUPPORTED', /IPv4 is not enabled/],
    [111, BufferTooSmallError, 'ERROR_BUFFER_OVERFLOW', /try again/],
    [122, BufferTooSmallError, 'ERROR_INSUFFICIENT_BUFFER', /try again/],
  ];
  for (const [code, kind, symbol, advice] of cases) {
    const err = ipHelperError('add neighbour 198.51.100.7', 'CreateIpNetEntry2', code);
    t.is(err.constructor, kind, symbol);
    t.like(err, { winError: code, code: symbol, api: 'CreateIpNetEntry2', subject: 'add neighbour 198.51.100.7' });
    t.true(err.message.startsWith(`add neighbour 198.51.100.7: CreateIpNetEntry2 failed with ${symbol} (${code}): `), err.message);
    t.regex(err.message, advice);
  }
  const unknown = ipHelperError('list neighbours', 'GetIpNetTable2', 31);
  t.is(unknown.constructor, IpHelperError);
  t.like(unknown, { winError: 31, code: 'ERSATZ_WIN32' });
  t.is(winErrorName(31), 'error 31');
  t.regex(unknown.message, /^list neighbours: GetIpNetTable2 failed with error 31 \(31\): /);
  t.regex(ipHelperError('delete neighbour 198.51.100.7', 'DeleteIpNetEntry2', 1168, 'no entry for that address').message, /\(1168\): no entry for that address$/);
});
