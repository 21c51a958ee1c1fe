// The netlink codec on datagrams the kernel really sent (test/helpers/neigh-fixtures.ts, with their provenance).
import test from 'ava';
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { Ipv4, Mac } from '@ersatz/wire';
import {
  AddressMessage,
  AF_INET,
  Arphrd,
  attributes,
  collectAcks,
  emitAttributes,
  attributesLen,
  Hdr,
  Iff,
  InvalidNeighbourError,
  LinkMessage,
  linkPrefix,
  NeighMessage,
  NetlinkAck,
  NetlinkError,
  NetlinkMalformedError,
  NetlinkMessage,
  NetlinkPermissionError,
  NetlinkSystemError,
  NetlinkTruncatedError,
  NetlinkUnsupportedError,
  NlmF,
  Nlmsg,
  Ntf,
  Nud,
  RouteMessage,
  Rtm,
  RT_TABLE_MAIN,
  Rtn,
  checkIp,
  checkMac,
  parseAttributes,
  parseDatagram,
  stateName,
  systemError,
  type AddressRepr,
  type BatchAnswer,
  type NeighRepr,
  type RouteRepr,
} from '@ersatz/netlink';
import * as F from './helpers/neigh-fixtures.js';

const ip = Ipv4.parse;
/** A copy of `bytes` at a non-zero byteOffset inside a larger buffer. */
function shifted(bytes: Uint8Array, by = 7): Uint8Array {
  const big = new Uint8Array(bytes.length + by + 5).fill(0xee);
  big.set(bytes, by);
  return big.subarray(by, by + bytes.length);
}

// ---------------------------------------------------------------------------------------------------------------
// nlmsghdr and datagrams

test('nlmsghdr: the RTM_NEWLINK answer parses, at offset 0 and at a non-zero byteOffset', (t) => {
  for (const bytes of [F.LINK_EZ0, shifted(F.LINK_EZ0)]) {
    const m = NetlinkMessage.parse(bytes);
    t.is(m.type, Rtm.NEWLINK);
    t.is(m.flags, 0);
    t.is(m.seq, 1795291576);
    t.is(m.pid, 2205564290);
    t.is(m.payload.length, 1500 - Hdr.SIZE);
  }
});

test('nlmsghdr: emit writes every header byte (buffer pre-filled with 0xa5) and round-trips', (t) => {
  const out = new Uint8Array(40).fill(0xa5);
  NetlinkMessage.emitHeader({ type: Rtm.GETLINK, flags: NlmF.REQUEST | NlmF.ACK, seq: 1795291576, pid: 0 }, 24, out, 4);
  // The echoed request inside ACK_LINK is exactly such a header: RTM_GETLINK, len 40, REQUEST|ACK, same seq.
  t.deepEqual(out.subarray(4, 20), F.ACK_LINK.subarray(Hdr.SIZE + 4, Hdr.SIZE + 20));
  t.deepEqual([...out.subarray(0, 4), ...out.subarray(20)], new Array(24).fill(0xa5));
  const view = NetlinkMessage.unchecked(out.subarray(4));
  t.is(view.length, 40);
  t.is(view.type, Rtm.GETLINK);
});

test('nlmsghdr: short, undersized and overlong lengths are typed errors', (t) => {
  t.throws(() => NetlinkMessage.parse(F.ACK_LINK.subarray(0, 12)), { instanceOf: NetlinkTruncatedError, message: 'nlmsghdr: need 16 bytes, have 12' });
  const small = F.ACK_LINK.slice();
  small[0] = 8;
  t.throws(() => NetlinkMessage.parse(small), { instanceOf: NetlinkMalformedError, message: 'nlmsghdr: nlmsg_len 8 is under the 16-byte header' });
  t.throws(() => NetlinkMessage.parse(F.ACK_LINK.subarray(0, 30)), { instanceOf: NetlinkTruncatedError, message: 'nlmsghdr: need 36 bytes, have 30' });
  t.throws(() => parseDatagram(F.LINK_EZ0.subarray(0, 1499)), { instanceOf: NetlinkTruncatedError });
});

test('a dump: NLM_F_MULTI messages, then NLMSG_DONE, several in one datagram', (t) => {
  const msgs = parseDatagram(F.NEIGH_DUMP);
  t.deepEqual(
    msgs.map((m) => [m.type, m.flags, m.seq]),
    [
      [Rtm.NEWNEIGH, NlmF.MULTI, 1795291577],
      [Nlmsg.DONE, NlmF.MULTI, 1795291577],
    ],
  );
  t.is(msgs[1]!.payload.length, 4); // NLMSG_DONE carries the dump's int status, 0
  const addrs = parseDatagram(F.ADDR_DUMP);
  t.deepEqual(addrs.map((m) => [m.type, m.flags & NlmF.MULTI]), [[Rtm.NEWADDR, NlmF.MULTI], [Rtm.NEWADDR, NlmF.MULTI]]);
  t.deepEqual(parseDatagram(F.ADDR_DONE).map((m) => m.type), [Nlmsg.DONE]);
});

// ---------------------------------------------------------------------------------------------------------------
// nlmsgerr

test('nlmsgerr: an ACK is error 0 and names its request', (t) => {
  const [m] = parseDatagram(F.ACK_LINK);
  t.is(m!.type, Nlmsg.ERROR);
  t.is(m!.flags, NlmF.CAPPED);
  t.deepEqual(NetlinkAck.parse(m!.payload, m!.flags), { error: 0, request: { length: 40, type: Rtm.GETLINK, flags: NlmF.REQUEST | NlmF.ACK, seq: 1795291576, pid: 0 } });
});

test('nlmsgerr: a refusal is -errno, and the extended ACK message is read', (t) => {
  const [e] = parseDatagram(F.ERR_EEXIST);
  const eexist = NetlinkAck.parse(e!.payload, e!.flags);
  t.is(eexist.error, -17);
  t.is(eexist.request.type, Rtm.NEWNEIGH);
  t.is(eexist.request.flags, NlmF.REQUEST | NlmF.ACK | NlmF.CREATE | NlmF.EXCL);
  t.is(eexist.message, undefined);
  const [n] = parseDatagram(F.ERR_ENODEV_EXTACK);
  t.is(n!.flags, NlmF.CAPPED | NlmF.ACK_TLVS);
  t.like(NetlinkAck.parse(n!.payload, n!.flags), { error: -19, message: 'Unknown device ifindex', request: { type: Rtm.GETNEIGH } });
  t.throws(() => NetlinkAck.parse(n!.payload.subarray(0, 19), n!.flags), { instanceOf: NetlinkTruncatedError, message: 'nlmsgerr: need 20 bytes, have 19' });
});

test('nlmsgerr: emit writes the capped form the kernel sends', (t) => {
  const [e] = parseDatagram(F.ERR_EEXIST);
  const repr = NetlinkAck.parse(e!.payload, e!.flags);
  const out = new Uint8Array(NetlinkAck.bufferLen()).fill(0xa5);
  NetlinkAck.emit(repr, out);
  t.deepEqual(out, e!.payload);
});

test('kernel refusals become typed errors; EPERM says how to get CAP_NET_ADMIN', (t) => {
  const [n] = parseDatagram(F.ERR_ENODEV_EXTACK);
  const ack = NetlinkAck.parse(n!.payload, n!.flags);
  const err = systemError('get neighbour 198.51.100.9', -ack.error, ack.message);
  t.true(err instanceof NetlinkSystemError);
  t.like(err, { errno: 19, code: 'ENODEV', extack: 'Unknown device ifindex' });
  t.is(err.message, 'get neighbour 198.51.100.9: no such device (ENODEV): kernel says "Unknown device ifindex"');
  const perm = systemError('add neighbour 198.51.100.9 dev ez0', 1);
  t.true(perm instanceof NetlinkPermissionError);
  t.is(perm.message, 'add neighbour 198.51.100.9 dev ez0: operation not permitted (EPERM): needs CAP_NET_ADMIN: run as root or `setcap cap_net_raw,cap_net_admin+ep $(command -v node)`');
});

test('batch ACKs: refusals by position, the last answer ends the batch, other requests are skipped', (t) => {
  // The batch's three requests have seq 1795291577..79; the first datagram answers the RTM_GETLINK before them.
  const refused: BatchAnswer[] = [];
  const done = F.BATCH_ACKS.map((d) => collectAcks(d, 1795291577, 3, refused));
  t.deepEqual(done, [false, false, false, true]);
  t.deepEqual(refused, [
    { index: 1, errno: 17 },
    { index: 2, errno: 2 },
  ]);
  // All four in one datagram (as the kernel may coalesce them) read the same.
  const joined = new Uint8Array(F.BATCH_ACKS.reduce((n, d) => n + d.length, 0));
  F.BATCH_ACKS.reduce((at, d) => (joined.set(d, at), at + d.length), 0);
  const again: BatchAnswer[] = [];
  t.true(collectAcks(shifted(joined), 1795291577, 3, again));
  t.deepEqual(again, refused);
  t.throws(() => collectAcks(joined.subarray(0, 50), 1795291577, 3, []), { instanceOf: NetlinkTruncatedError });
});

// ---------------------------------------------------------------------------------------------------------------
// rtattr

test('rtattr: values are views, padded to 4 bytes; bad lengths are typed errors', (t) => {
  const payload = parseDatagram(F.ADDR_DUMP)[0]!.payload.subarray(8); // lo's attributes
  const list = [...attributes(payload)];
  // IFA_LABEL "lo\0" is 7 bytes long and padded to 8: the next attribute still starts on a 4-byte boundary.
  t.deepEqual(list.map((a) => [a.type, a.value.length]), [[1, 4], [2, 4], [3, 3], [8, 4], [6, 16]]);
  const out = new Uint8Array(attributesLen(list)).fill(0xa5);
  t.is(emitAttributes(list, out, 0), payload.length);
  t.deepEqual(out, payload); // emit reproduces the kernel's bytes, padding zeroed
  const bad = payload.slice();
  bad[0] = 3; // rta_len under the header
  t.throws(() => parseAttributes(bad, 'ifaddrmsg attributes'), { instanceOf: NetlinkMalformedError, message: 'ifaddrmsg attributes: attribute length 3 at offset 0 is under the 4-byte header' });
  t.throws(() => parseAttributes(payload.subarray(0, 6)), { instanceOf: NetlinkTruncatedError, message: 'rtattr: need 8 bytes, have 6' });
  t.throws(() => parseAttributes(payload.subarray(0, 10)), { instanceOf: NetlinkTruncatedError, message: 'rtattr: need 12 bytes, have 10' });
});

// ---------------------------------------------------------------------------------------------------------------
// rtnetlink payloads

test('ifinfomsg: ez0 is an Ethernet link with its MAC, MTU, flags and operstate', (t) => {
  for (const bytes of [F.LINK_EZ0, shifted(F.LINK_EZ0, 3)]) {
    const l = LinkMessage.parse(NetlinkMessage.parse(bytes).payload);
    t.like(l, { family: 0, type: Arphrd.ETHER, index: 2, name: 'ez0', mtu: 1500, operstate: 6 });
    t.is(Mac.fromBytes(l.address!), Mac.parse('02:00:5e:10:00:01'));
    t.deepEqual(l.broadcast, Mac.toBytes(Mac.parse('ff:ff:ff:ff:ff:ff')));
    t.is(l.flags, Iff.UP | Iff.BROADCAST | Iff.RUNNING | Iff.MULTICAST | Iff.LOWER_UP);
  }
  t.throws(() => LinkMessage.parse(new Uint8Array(15)), { instanceOf: NetlinkTruncatedError, message: 'ifinfomsg: need 16 bytes, have 15' });
});

test('ifinfomsg: a GETLINK request by name emits as iproute2 does', (t) => {
  const repr = { family: 0, type: 0, index: 0, flags: 0, change: 0, name: 'ez0' };
  const out = new Uint8Array(LinkMessage.bufferLen(repr) + 3).fill(0xa5);
  LinkMessage.emit(repr, out, 3);
  // ifinfomsg all zeros, then IFLA_IFNAME (len 8, type 3) "ez0\0".
  t.deepEqual(out.subarray(3), F.hex('00000000 00000000 00000000 00000000 0800 0300 657a3000'));
  t.deepEqual(out.subarray(0, 3), Uint8Array.of(0xa5, 0xa5, 0xa5));
  t.like(LinkMessage.parse(out.subarray(3)), { name: 'ez0', index: 0 });
});

test('ifinfomsg: IFLA_MASTER, the bridge or bond a link is a port of, emits and parses back', (t) => {
  const repr = { family: 0, type: Arphrd.ETHER, index: 5, flags: 0, change: 0, master: 7 };
  const out = new Uint8Array(LinkMessage.bufferLen(repr));
  LinkMessage.emit(repr, out);
  // ifinfomsg, then IFLA_MASTER (len 8, type 10) holding index 7 in host order.
  t.deepEqual(out, F.hex('00000100 05000000 00000000 00000000 0800 0a00 07000000'));
  t.deepEqual(LinkMessage.parse(out), repr);
});

test("linkPrefix: an address's own prefix, a point-to-point address's peer's", (t) => {
  const ip = (s: string) => Ipv4.parse(s);
  const base = { ifindex: 2, secondary: false, scope: 0 };
  const range = (c: { network: Ipv4; broadcast: Ipv4 }) => `${Ipv4.format(c.network)}-${Ipv4.format(c.broadcast)}`;
  t.is(range(linkPrefix({ ...base, address: ip('198.51.100.1'), prefixLen: 24 })), '198.51.100.0-198.51.100.255');
  t.is(range(linkPrefix({ ...base, address: ip('10.41.0.1'), peer: ip('10.41.0.4'), prefixLen: 30 })), '10.41.0.4-10.41.0.7');
  t.is(range(linkPrefix({ ...base, address: ip('10.41.0.1'), peer: ip('10.41.0.5'), prefixLen: 32 })), '10.41.0.5-10.41.0.5');
});

test('ifaddrmsg: lo and ez0 addresses', (t) => {
  const [lo, ez0] = parseDatagram(F.ADDR_DUMP).map((m) => AddressMessage.parse(m.payload));
  t.deepEqual(lo, { family: AF_INET, prefixLen: 8, flags: 0x80, scope: 254, index: 1, address: ip('127.0.0.1'), local: ip('127.0.0.1'), label: 'lo' });
  t.deepEqual(ez0, { family: AF_INET, prefixLen: 24, flags: 0x80, scope: 0, index: 2, address: ip('198.51.100.1'), local: ip('198.51.100.1'), label: 'ez0' });
  const v6 = parseDatagram(F.ADDR_DUMP)[0]!.payload.slice();
  v6[0] = 10;
  t.throws(() => AddressMessage.parse(v6), { instanceOf: NetlinkUnsupportedError, message: 'ifaddrmsg: unsupported family 10' });
  const short = parseDatagram(F.ADDR_DUMP)[0]!.payload.slice();
  short[1] = 33;
  t.throws(() => AddressMessage.parse(short), { instanceOf: NetlinkMalformedError, message: 'ifaddrmsg: prefix length 33 is over 32' });
});

test('rtmsg: an on-link answer has no gateway, a routed one has', (t) => {
  const onLink = RouteMessage.parse(NetlinkMessage.parse(F.ROUTE_ONLINK).payload);
  t.like(onLink, { family: AF_INET, dstLen: 32, table: RT_TABLE_MAIN, type: Rtn.UNICAST, dst: ip('198.51.100.7'), oif: 2, prefsrc: ip('198.51.100.1') });
  t.is(onLink.gateway, undefined);
  const via = RouteMessage.parse(NetlinkMessage.parse(F.ROUTE_VIA).payload);
  t.like(via, { dst: ip('203.0.113.9'), oif: 2, gateway: ip('198.51.100.2'), prefsrc: ip('198.51.100.1'), table: RT_TABLE_MAIN });
  // RTA_GATEWAY cut to 3 bytes: the attribute is whole, its value is impossible.
  const bad = NetlinkMessage.parse(F.ROUTE_VIA).payload.slice();
  const at = [...attributes(bad.subarray(12))].findIndex((a) => a.type === 5);
  t.true(at >= 0);
  let offset = 12;
  for (const a of [...attributes(bad.subarray(12))].slice(0, at)) offset += (4 + a.value.length + 3) & ~3;
  bad[offset] = 7; // rta_len 7: 3 bytes of value
  t.throws(() => RouteMessage.parse(bad), { instanceOf: NetlinkMalformedError, message: 'rtmsg: RTA_GATEWAY is 3 bytes, an IPv4 address is 4' });
});

test('ndmsg: a permanent entry, a proxy entry, and the events of a delete', (t) => {
  const entry = NeighMessage.parse(parseDatagram(F.NEIGH_DUMP)[0]!.payload);
  t.deepEqual({ ...entry, lladdr: Mac.fromBytes(entry.lladdr!) }, { family: AF_INET, ifindex: 2, state: Nud.PERMANENT, flags: 0, type: Rtn.UNICAST, dst: ip('198.51.100.9'), lladdr: Mac.parse('02:00:5e:10:00:09'), probes: 0, cacheinfo: { confirmed: 0, used: 0, updated: 0, refcnt: 0 } });
  // NDA_CACHEINFO (type 3): four u32 in host order; a value that is not 16 bytes is refused.
  const withInfo = (value: number[]) => {
    const attr = [4 + value.length, 0, 3, 0, ...value];
    return Uint8Array.from([2, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 1, ...attr, ...Array<number>((4 - (attr.length % 4)) % 4).fill(0)]);
  };
  t.deepEqual(NeighMessage.parse(withInfo([1, 0, 0, 0, 2, 0, 0, 0, 0x2c, 1, 0, 0, 3, 0, 0, 0])).cacheinfo, { confirmed: 1, used: 2, updated: 300, refcnt: 3 });
  t.throws(() => NeighMessage.parse(withInfo([1, 0, 0, 0])), { instanceOf: NetlinkMalformedError, message: 'ndmsg: NDA_CACHEINFO is 4 bytes, struct nda_cacheinfo is 16' });
  const proxy = NeighMessage.parse(parseDatagram(F.PROXY_DUMP)[0]!.payload);
  t.deepEqual(proxy, { family: AF_INET, ifindex: 2, state: Nud.NONE, flags: Ntf.PROXY, type: Rtn.UNICAST, dst: ip('198.51.100.77') });
  const events = F.NEIGH_EVENTS.map((d) => NetlinkMessage.parse(d)).map((m) => [m.type, m.seq, NeighMessage.parse(m.payload)] as const);
  t.deepEqual(
    events.map(([type, seq, r]) => [type, seq, Ipv4.format(r.dst!), stateName(r.state), r.lladdr && Mac.fromBytes(r.lladdr)]),
    [
      [Rtm.NEWNEIGH, 0, '198.51.100.9', 'permanent', '02:00:5e:10:00:09'],
      [Rtm.NEWNEIGH, 0, '198.51.100.10', 'permanent', '02:00:5e:10:00:0a'],
      // An administrative delete first marks the entry FAILED (and drops its MAC), then removes it.
      [Rtm.NEWNEIGH, 0, '198.51.100.10', 'failed', undefined],
      [Rtm.DELNEIGH, 0, '198.51.100.10', 'failed', undefined],
    ],
  );
});

test('ndmsg: emit writes the kernel\'s own layout (ndmsg, NDA_DST, NDA_LLADDR, NDA_PROBES), every byte', (t) => {
  const payload = parseDatagram(F.NEIGH_DUMP)[0]!.payload;
  const repr = NeighMessage.parse(payload);
  const out = new Uint8Array(NeighMessage.bufferLen(repr) + 5).fill(0xa5);
  NeighMessage.emit(repr, out, 5);
  // The kernel adds NDA_CACHEINFO after these 40 bytes; a request never carries it.
  t.deepEqual(out.subarray(5), payload.subarray(0, 40));
  t.deepEqual(out.subarray(0, 5), new Uint8Array(5).fill(0xa5));
});

test('ndmsg: other families, truncation and odd attribute sizes are refused', (t) => {
  const payload = parseDatagram(F.NEIGH_DUMP)[0]!.payload.slice();
  t.throws(() => NeighMessage.parse(payload.subarray(0, 11)), { instanceOf: NetlinkTruncatedError, message: 'ndmsg: need 12 bytes, have 11' });
  const other = payload.slice();
  other[0] = 7; // AF_BRIDGE
  t.throws(() => NeighMessage.parse(other), { instanceOf: NetlinkUnsupportedError, message: 'ndmsg: unsupported family 7' });
  const v6 = payload.slice();
  v6[0] = 10; // AF_INET6 with an IPv4-sized address
  t.throws(() => NeighMessage.parse(v6), { instanceOf: NetlinkMalformedError, message: 'ndmsg: NDA_DST is 4 bytes, an IPv6 address is 16' });
  const dst = payload.slice();
  dst[12] = 6; // NDA_DST rta_len 6: two bytes of address, then padding
  t.throws(() => NeighMessage.parse(dst), { instanceOf: NetlinkMalformedError, message: 'ndmsg: NDA_DST is 2 bytes, an IPv4 address is 4' });
  // NDA_LLADDR needs bytes 20..30 (the last attribute may omit its padding): 28 cuts it.
  t.throws(() => NeighMessage.parse(payload.subarray(0, 28)), { instanceOf: NetlinkTruncatedError, message: 'ndmsg attributes: need 18 bytes, have 16' });
  t.notThrows(() => NeighMessage.parse(payload.subarray(0, 30)));
});

test('neighbour states and refusals of addresses ARP cannot use', (t) => {
  t.deepEqual([0, 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80].map(stateName), ['none', 'incomplete', 'reachable', 'stale', 'delay', 'probe', 'failed', 'noarp', 'permanent']);
  for (const m of ['ff:ff:ff:ff:ff:ff', '01:00:5e:00:00:01', '33:33:00:00:00:01', '00:00:00:00:00:00']) {
    t.throws(() => checkMac(Mac.parse(m)), { instanceOf: InvalidNeighbourError }, m);
  }
  t.notThrows(() => checkMac(Mac.parse('02:00:5e:10:00:09')));
  t.throws(() => checkMac('02-00-5e-10-00-09' as Mac), { instanceOf: InvalidNeighbourError, message: /is not a MAC address/ });
  for (const a of ['0.0.0.0', '255.255.255.255', '224.0.0.1', '127.0.0.1']) t.throws(() => checkIp(ip(a)), { instanceOf: InvalidNeighbourError }, a);
  t.throws(() => checkIp(-1 as Ipv4), { instanceOf: InvalidNeighbourError, message: /is not an IPv4 address/ });
});

// ---------------------------------------------------------------------------------------------------------------
// Properties

const PLAIN = { noNullPrototype: true };
const ipv4 = fc.integer({ min: 0, max: 0xffffffff }).map((n) => n as Ipv4);
const u8 = fc.integer({ min: 0, max: 0xff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const opt = <T>(key: string, arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined }).map((v) => (v === undefined ? {} : { [key]: v }));

const neighRepr: fc.Arbitrary<NeighRepr> = fc
  .tuple(
    fc.record({ family: fc.constant(AF_INET as typeof AF_INET), ifindex: fc.integer({ min: 0, max: 0x7fffffff }), state: fc.integer({ min: 0, max: 0xffff }), flags: u8, type: u8 }, PLAIN),
    opt('dst', ipv4),
    opt('lladdr', fc.uint8Array({ minLength: 0, maxLength: 20 })),
    opt('probes', u32),
  )
  .map(([base, ...rest]) => Object.assign({}, base, ...rest) as NeighRepr);

const addressRepr: fc.Arbitrary<AddressRepr> = fc
  .tuple(
    fc.record({ family: fc.constant(AF_INET as typeof AF_INET), prefixLen: fc.integer({ min: 0, max: 32 }), flags: fc.integer({ min: 0, max: 0xffff }), scope: u8, index: u32 }, PLAIN),
    opt('address', ipv4),
    opt('local', ipv4),
    opt('broadcast', ipv4),
    opt('label', fc.stringMatching(/^[a-z0-9:.]{1,15}$/)),
  )
  .map(([base, ...rest]) => Object.assign({}, base, ...rest) as AddressRepr);

const routeRepr: fc.Arbitrary<RouteRepr> = fc
  .tuple(
    fc.record(
      {
        family: fc.constant(AF_INET as typeof AF_INET),
        dstLen: fc.integer({ min: 0, max: 32 }),
        srcLen: fc.integer({ min: 0, max: 32 }),
        tos: u8,
        table: fc.oneof(fc.integer({ min: 1, max: 255 }), fc.integer({ min: 256, max: 0xffffffff })),
        protocol: u8,
        scope: u8,
        type: u8,
        flags: u32,
      },
      PLAIN,
    ),
    opt('dst', ipv4),
    opt('oif', u32),
    opt('gateway', ipv4),
    opt('priority', u32),
    opt('prefsrc', ipv4),
    opt('multipath', fc.array(fc.tuple(fc.integer({ min: 0, max: 0x7fffffff }), u8, u8, fc.option(ipv4, { nil: undefined })).map(([ifindex, flags, hops, gateway]) => ({ ifindex, flags, hops, ...(gateway !== undefined && { gateway }) })), { minLength: 1, maxLength: 3 })),
  )
  .map(([base, ...rest]) => Object.assign({}, base, ...rest) as RouteRepr);

function roundTrip<R>(codec: { bufferLen(r: R): number; emit(r: R, out: Uint8Array, offset?: number): void; parse(b: Uint8Array): R }, r: R, offset: number): boolean {
  const out = new Uint8Array(codec.bufferLen(r) + offset).fill(0xa5);
  codec.emit(r, out, offset);
  return isDeepStrictEqual(codec.parse(out.subarray(offset)), r);
}

test('property: ndmsg, ifaddrmsg and rtmsg round-trip through emit and parse', (t) => {
  fc.assert(fc.property(neighRepr, fc.nat(9), (r, o) => roundTrip(NeighMessage, r, o)));
  fc.assert(fc.property(addressRepr, fc.nat(9), (r, o) => roundTrip(AddressMessage, r, o)));
  fc.assert(fc.property(routeRepr, fc.nat(9), (r, o) => roundTrip(RouteMessage, r, o)));
  t.pass();
});

test('property: any bytes parse or throw a NetlinkError, never anything else', (t) => {
  const valid = [F.LINK_EZ0, F.ADDR_DUMP, F.NEIGH_DUMP, F.PROXY_DUMP, F.ROUTE_VIA, F.ERR_ENODEV_EXTACK, ...F.NEIGH_EVENTS];
  const input = fc.oneof(
    fc.uint8Array({ maxLength: 200 }),
    fc.tuple(fc.constantFrom(...valid), fc.array(fc.tuple(fc.nat(), u8), { maxLength: 4 }), fc.nat()).map(([b, edits, cut]) => {
      const c = b.slice();
      for (const [at, v] of edits) c[at % c.length] = v;
      return c.subarray(0, cut % (c.length + 1));
    }),
  );
  const codecs = { [Rtm.NEWLINK]: LinkMessage, [Rtm.NEWADDR]: AddressMessage, [Rtm.NEWROUTE]: RouteMessage, [Rtm.NEWNEIGH]: NeighMessage, [Rtm.DELNEIGH]: NeighMessage };
  fc.assert(
    fc.property(input, (bytes) => {
      try {
        for (const m of parseDatagram(bytes)) {
          if (m.type === Nlmsg.ERROR) NetlinkAck.parse(m.payload, m.flags);
          else (codecs as Record<number, { parse(b: Uint8Array): unknown }>)[m.type]?.parse(m.payload);
        }
        collectAcks(bytes, 0, 4, []);
      } catch (err) {
        if (!(err instanceof NetlinkError)) throw err;
      }
    }),
  );
  t.pass();
});
