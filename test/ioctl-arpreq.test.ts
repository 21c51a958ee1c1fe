import test from 'ava';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Ipv4, Mac, TruncatedError, UnsupportedError } from '@ersatz/wire';
import {
  Arpreq, Sockaddr, Atf, IFNAMSIZ, ARPHRD_ETHER, SIOCSARP, SIOCGARP, SIOCDARP, emitArpreq, parseArpreq, errorFor, arpSet, arpGet, arpDelete,
  IoctlError, ArpPermissionError, ArpNoEntryError, ArpNoDeviceError, ArpInvalidError, type ArpreqRepr,
} from '@ersatz/ioctl';

const ip = Ipv4.parse('198.51.100.9');
const mac = Mac.parse('02:a5:80:ff:7f:c3'); // octets ≥ 0x80: a signed c_char would mangle them

/*
 * Layout, measured with gcc 12.2 (Debian 12), glibc headers, Linux x86_64:
 *   printf sizeof(struct arpreq), offsetof(struct arpreq, arp_pa|arp_ha|arp_flags|arp_netmask|arp_dev),
 *   sizeof(struct sockaddr), offsetof(struct sockaddr, sa_data), offsetof(struct sockaddr_in, sin_addr)
 *   → sizeof(struct arpreq)=68 / arp_pa=0 arp_ha=16 arp_flags=32 arp_netmask=36 arp_dev=52
 *   → sizeof(struct sockaddr)=16 sa_data=2 / sin_port=2 sin_addr=4
 *   → SIOCSARP=0x8955 SIOCGARP=0x8954 SIOCDARP=0x8953 ATF_COM=0x2 ATF_PERM=0x4 ARPHRD_ETHER=1
 */
test('struct arpreq layout matches the C headers', (t) => {
  t.deepEqual({ ...Arpreq }, { PA: 0, HA: 16, FLAGS: 32, NETMASK: 36, DEV: 52, SIZE: 68 });
  t.is(Sockaddr.SIZE, 16);
  t.is(Sockaddr.DATA, 2);
  t.is(Sockaddr.IN_ADDR, 4);
  t.is(IFNAMSIZ, 16);
  t.deepEqual([SIOCSARP, SIOCGARP, SIOCDARP, Atf.COM, Atf.PERM, ARPHRD_ETHER], [0x8955, 0x8954, 0x8953, 0x2, 0x4, 1]);
});

/*
 * The SIOCSARP request `arp -s 198.51.100.9 02:a5:80:ff:7f:c3 -i ez0` makes, dumped by gcc 12.2 on x86_64:
 *   struct arpreq r = {0}; sockaddr_in pa = { AF_INET, inet_pton("198.51.100.9") }; r.arp_ha.sa_family = ARPHRD_ETHER;
 *   memcpy(r.arp_ha.sa_data, "\x02\xa5\x80\xff\x7f\xc3", 6); r.arp_flags = ATF_COM | ATF_PERM; strncpy(r.arp_dev, "ez0", 15);
 *   for each byte: printf("%02x ")
 */
const SET_REQUEST = new Uint8Array([
  0x02, 0x00, 0x00, 0x00, 0xc6, 0x33, 0x64, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x01, 0x00, 0x02, 0xa5, 0x80, 0xff, 0x7f, 0xc3, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x65, 0x7a, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00,
]);

/*
 * What Linux 6.18 (x86_64) wrote back for SIOCGARP 198.51.100.9 dev ez0 after a non-permanent SIOCSARP
 * (`ip neigh` showed `198.51.100.9 lladdr 02:a5:80:ff:7f:c3 STALE`): flags ATF_COM, netmask filled with 255.255.255.255.
 */
const GET_REPLY = new Uint8Array([
  0x02, 0x00, 0x00, 0x00, 0xc6, 0x33, 0x64, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x01, 0x00, 0x02, 0xa5, 0x80, 0xff, 0x7f, 0xc3, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x65, 0x7a, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00,
]);

const setRepr: ArpreqRepr = { ip, hwFamily: ARPHRD_ETHER, mac, flags: Atf.COM | Atf.PERM, netmask: 0 as Ipv4, ifname: 'ez0' };

test('emitArpreq writes every byte exactly as the C struct holds them', (t) => {
  const out = new Uint8Array(Arpreq.SIZE).fill(0xa5);
  t.is(emitArpreq(setRepr, out), out);
  t.deepEqual(out, SET_REQUEST);
  t.deepEqual(emitArpreq(setRepr), SET_REQUEST);
});

test('emitArpreq respects byteOffset and leaves the bytes around alone', (t) => {
  const big = new Uint8Array(3 + Arpreq.SIZE + 5).fill(0xa5);
  emitArpreq(setRepr, big.subarray(3));
  t.deepEqual(big.slice(3, 3 + Arpreq.SIZE), SET_REQUEST);
  t.deepEqual(big.slice(0, 3), new Uint8Array(3).fill(0xa5));
  t.deepEqual(big.slice(3 + Arpreq.SIZE), new Uint8Array(5).fill(0xa5));
});

test('parseArpreq reads a kernel SIOCGARP answer', (t) => {
  t.deepEqual(parseArpreq(GET_REPLY), { ip, hwFamily: ARPHRD_ETHER, mac, flags: Atf.COM, netmask: Ipv4.BROADCAST, ifname: 'ez0' });
  const shifted = new Uint8Array(7 + Arpreq.SIZE);
  shifted.set(GET_REPLY, 7);
  t.is(parseArpreq(shifted.subarray(7)).mac, mac);
});

test('parseArpreq refuses short and non-AF_INET input', (t) => {
  t.throws(() => parseArpreq(GET_REPLY.subarray(0, 60)), { instanceOf: TruncatedError, message: 'arpreq: need 68 bytes, have 60' });
  const inet6 = GET_REPLY.slice();
  inet6[0] = 10;
  t.throws(() => parseArpreq(inet6), { instanceOf: UnsupportedError, message: 'arpreq: unsupported arp_pa family 10' });
});

test('parseArpreq reads a 15-byte interface name that fills arp_dev', (t) => {
  const bytes = emitArpreq({ ...setRepr, ifname: 'abcdefghijklmno' });
  t.is(bytes[Arpreq.DEV + 15], 0);
  t.is(parseArpreq(bytes).ifname, 'abcdefghijklmno');
});

test('emit then parse gives the same fields back', (t) => {
  const repr = fc.record({
    ip: fc.nat({ max: 0xffffffff }).map((n) => n as Ipv4),
    hwFamily: fc.nat({ max: 0xffff }),
    mac: fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => Mac.fromBytes(b)),
    flags: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
    netmask: fc.nat({ max: 0xffffffff }).map((n) => n as Ipv4),
    ifname: fc.stringMatching(/^[a-z0-9.@_-]{1,15}$/),
  });
  // A throwing assertion (not t.deepEqual, which only records) lets fast-check shrink a failure; fc.record
  // builds null-prototype objects, hence the spread.
  t.notThrows(() => fc.assert(fc.property(repr, (r) => assert.deepStrictEqual(parseArpreq(emitArpreq(r, new Uint8Array(Arpreq.SIZE).fill(0xa5))), { ...r }))));
});

test('arguments the kernel would misread are refused before any ioctl', (t) => {
  const cases: [() => unknown, RegExp][] = [
    [() => arpSet({ ip: Ipv4.BROADCAST, mac, ifname: 'ez0' }), /255\.255\.255\.255 is the broadcast address/],
    [() => arpSet({ ip: Ipv4.parse('224.0.0.251'), mac, ifname: 'ez0' }), /224\.0\.0\.251 is a multicast address/],
    [() => arpSet({ ip: Ipv4.UNSPECIFIED, mac, ifname: 'ez0' }), /0\.0\.0\.0 is the unspecified address/],
    [() => arpGet(Ipv4.parse('127.0.0.1'), 'ez0'), /127\.0\.0\.1 is a loopback address/],
    [() => arpSet({ ip, mac, ifname: 'abcdefghijklmnop' }), /interface name is 16 bytes, Linux allows at most 15/],
    [() => arpDelete(ip, ''), /interface name "" is empty/],
    [() => arpGet(-1 as Ipv4, 'ez0'), /-1 is not an IPv4 address/],
    [() => arpSet({ ip, mac: 'nope' as Mac, ifname: 'ez0' }), /"nope" is not a MAC address/],
    [() => arpSet({ ip, mac: Mac.ZERO, ifname: 'ez0' }), /00:00:00:00:00:00 is not a station address/],
  ];
  for (const [call, message] of cases) {
    const err = t.throws(call, { instanceOf: ArpInvalidError, message });
    t.is(err?.code, 'EINVAL');
    t.is(err?.errno, 22);
  }
});

test('errno maps to a typed error that says what to do', (t) => {
  const perm = errorFor('set', ip, 'ez0', 1);
  t.true(perm instanceof ArpPermissionError);
  t.is(perm.message, `arp set 198.51.100.9 dev ez0: operation not permitted (EPERM): changing the ARP cache needs CAP_NET_ADMIN: run as root or grant it (sudo setcap cap_net_admin+ep ${process.execPath})`);
  const none = errorFor('delete', ip, 'ez0', 6);
  t.true(none instanceof ArpNoEntryError);
  t.regex(none.message, /^arp delete 198\.51\.100\.9 dev ez0: .* \(ENXIO\): no ARP entry for that address on ez0: list the cache with 'ip neigh show dev ez0'$/);
  const dev = errorFor('get', ip, 'ez9', 19);
  t.true(dev instanceof ArpNoDeviceError);
  t.regex(dev.message, /\(ENODEV\): no interface named "ez9" in this network namespace: list them with 'ip link'$/);
  const inval = errorFor('set', ip, 'lo', 22);
  t.true(inval instanceof ArpInvalidError);
  t.regex(inval.message, /\(EINVAL\): lo is not an Ethernet \(ARPHRD_ETHER\) interface/);
  const other = errorFor('get', ip, 'ez0', 14);
  t.is(other.constructor, IoctlError);
  t.like(other, { operation: 'get', ip, ifname: 'ez0', errno: 14, code: 'EFAULT' });
  t.regex(other.message, /^arp get 198\.51\.100\.9 dev ez0: bad address in system call argument \(EFAULT\)$/);
});
