import test from 'ava';
import { ChecksumError, EthernetFrame, IPV4_HEADER_LEN, InvalidFieldError, IpProtocol, Ipv4, Ipv4Packet, Ipv4Repr, TruncatedError, UnsupportedError, internetChecksum, onesComplementSum, type Ipv4Repr as Repr } from '@ersatz/wire';
import * as F from './fixtures/wire/frames.js';
import { a5, hex, readPcap, shifted } from './fixtures/wire/helpers.js';

const ip = Ipv4.parse;
const ipOf = (frame: Uint8Array) => EthernetFrame.checked(frame).payload;
const parse = (b: Uint8Array) => Ipv4Repr.parse(Ipv4Packet.checked(b));

test('RFC 1071 checksum: the worked example and odd lengths', (t) => {
  // RFC 1071 §3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to 0xddf2 (one's complement, before inversion).
  t.is(onesComplementSum(hex('0001f203f4f5f6f7')), 0xddf2);
  t.is(internetChecksum(hex('0001f203f4f5f6f7')), 0x220d);
  // An odd trailing byte counts as its high half.
  t.is(onesComplementSum(hex('ff')), 0xff00);
  t.is(internetChecksum(new Uint8Array(0)), 0xffff);
  // Over a region holding its correct checksum the result is 0.
  t.is(internetChecksum(ipOf(F.PING_REQUEST).subarray(0, 20)), 0);
});

test('parses the ping request header', (t) => {
  const p = Ipv4Packet.checked(ipOf(F.PING_REQUEST));
  t.deepEqual([p.version, p.ihl, p.headerLen, p.totalLength, p.ident, p.ttl, p.protocol, p.checksum], [4, 5, 20, 84, 46077, 64, 1, 0x3241]);
  t.true(p.verifyChecksum());
  t.is(p.computeChecksum(), 0x3241);
  t.is(p.payload.length, 64);
  t.deepEqual(parse(ipOf(F.PING_REQUEST)), {
    src: ip('198.51.100.1'), dst: ip('198.51.100.2'), protocol: IpProtocol.Icmp, ttl: 64, payloadLen: 64,
    dscp: 0, ecn: 0, ident: 46077, dontFragment: true, moreFragments: false, fragmentOffset: 0, options: new Uint8Array(0),
  });
  t.like(parse(ipOf(F.PING_REPLY)), { src: ip('198.51.100.2'), dontFragment: false, ident: 44363 });
});

test('parses IHL 15 with 40 bytes of record-route options (ping -R)', (t) => {
  const p = Ipv4Packet.checked(ipOf(F.PING_RR));
  t.is(p.ihl, 15);
  t.is(p.headerLen, 60);
  t.is(p.options.length, 40);
  t.deepEqual(p.options.subarray(0, 8), hex('01 07 27 08 c6336401'));
  t.is(p.payload[0], 8, 'the ICMP type follows the options');
  t.is(parse(ipOf(F.PING_RR)).payloadLen, 64);
});

test('flags fragments (ping -M dont -s 2000: two pieces each way)', (t) => {
  const frames = readPcap('icmp.pcap');
  const first = Ipv4Packet.checked(ipOf(frames[12]!));
  const second = Ipv4Packet.checked(ipOf(frames[13]!));
  t.deepEqual([first.moreFragments, first.fragmentOffset, first.isFragment, first.totalLength], [true, 0, true, 1500]);
  t.deepEqual([second.moreFragments, second.fragmentOffset, second.isFragment, second.totalLength], [false, 1480, true, 548]);
  t.true(Ipv4Repr.isFragment(parse(ipOf(frames[13]!))));
  t.false(Ipv4Repr.isFragment(parse(ipOf(F.PING_REQUEST))));
  t.false(Ipv4Packet.checked(ipOf(F.PING_REQUEST)).isFragment);
});

test('ignores Ethernet padding after the total length', (t) => {
  const padded = new Uint8Array(60);
  padded.set(F.PING_EMPTY);
  const p = Ipv4Packet.checked(ipOf(padded));
  t.is(p.payload.length, 8);
  t.is(parse(ipOf(padded)).payloadLen, 8);
});

test('a bad checksum is a ChecksumError with both values, unless verification is off', (t) => {
  const b = ipOf(F.PING_REQUEST).slice();
  b[8] = 63; // TTL changed, checksum not
  const err = t.throws(() => parse(b), { instanceOf: ChecksumError });
  t.is(err?.found, 0x3241);
  t.is(err?.computed, 0x3341);
  t.is(err?.message, 'ipv4: bad checksum 0x3241, computed 0x3341');
  t.is(Ipv4Repr.parse(Ipv4Packet.checked(b), { verifyChecksum: false }).ttl, 63);
});

test('unsupported version, invalid IHL and total length, truncation', (t) => {
  const base = ipOf(F.PING_EMPTY);
  const v6 = base.slice();
  v6[0] = 0x65;
  t.throws(() => Ipv4Packet.checked(v6), { instanceOf: UnsupportedError, message: 'ipv4: unsupported version 6' });
  const ihl4 = base.slice();
  ihl4[0] = 0x44;
  t.throws(() => Ipv4Packet.checked(ihl4), { instanceOf: InvalidFieldError, message: 'ipv4: invalid IHL 4 (at least 5 words)' });
  const short = base.slice();
  short[3] = 19;
  t.throws(() => Ipv4Packet.checked(short), { instanceOf: InvalidFieldError, message: "ipv4: invalid total length 19 (at least the header's 20 bytes)" });
  t.throws(() => Ipv4Packet.checked(base.subarray(0, 19)), { instanceOf: TruncatedError, message: 'ipv4: need 20 bytes, have 19' });
  t.throws(() => Ipv4Packet.checked(base.subarray(0, 27)), { instanceOf: TruncatedError, message: 'ipv4: need 28 bytes, have 27' });
  t.throws(() => Ipv4Packet.checked(ipOf(F.PING_RR).subarray(0, 40)), { instanceOf: TruncatedError, message: 'ipv4: need 60 bytes, have 40' });
});

test('honours a non-zero byteOffset', (t) => {
  const moved = shifted(ipOf(F.PING_RR), 1);
  t.deepEqual(parse(moved), parse(ipOf(F.PING_RR)));
  t.true(Ipv4Packet.checked(moved).verifyChecksum());
});

test('emit writes every header byte, checksum included, and reproduces captured headers', (t) => {
  for (const f of [F.PING_REQUEST, F.PING_REPLY, F.PING_RR]) {
    const wire = ipOf(f);
    const repr = parse(wire);
    const len = Ipv4Repr.bufferLen(repr);
    const buf = a5(len + 3);
    Ipv4Repr.emit(repr, Ipv4Packet.unchecked(buf));
    t.deepEqual(buf.subarray(0, len), wire.subarray(0, len));
    t.deepEqual(buf.subarray(len), a5(3));
  }
});

test('emit of DSCP/ECN, fragment fields and options', (t) => {
  const repr: Repr = {
    src: ip('192.0.2.1'), dst: ip('203.0.113.9'), protocol: 17, ttl: 1, payloadLen: 100, dscp: 46, ecn: 2, ident: 0xbeef,
    dontFragment: false, moreFragments: true, fragmentOffset: 8 * 0x1fff, options: hex('94040000'),
  };
  const buf = a5(24);
  const p = Ipv4Packet.unchecked(buf);
  Ipv4Repr.emit(repr, p);
  t.is(p.headerLen, 24);
  t.is(p.totalLength, 124);
  t.true(p.verifyChecksum());
  t.deepEqual(buf.subarray(0, 10), hex('46 ba 007c beef 3fff 01 11'));
  // parse needs the payload bytes present: append them.
  const whole = new Uint8Array(124);
  whole.set(buf);
  t.deepEqual(parse(whole), repr);
  t.is(IPV4_HEADER_LEN, 20);
});

test('fillChecksum repairs a header in place', (t) => {
  const b = ipOf(F.PING_REQUEST).slice();
  b[8] = 1;
  const p = Ipv4Packet.checked(b);
  t.false(p.verifyChecksum());
  p.fillChecksum();
  t.true(p.verifyChecksum());
});
