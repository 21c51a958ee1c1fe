// IcmpErrorRepr and quotedEcho on ICMP errors a Linux router sent about ersatz's echo requests (a namespace lab:
// host 198.51.100.1, router 198.51.100.2 with ip_forward=1). Each fixture is the IPv4 payload of the captured frame.
import test from 'ava';
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { ChecksumError, ICMP_HEADER_LEN, IcmpErrorRepr, IcmpType, Icmpv4Packet, InvalidFieldError, Ipv4, TruncatedError, UnsupportedError, quotedEcho, type IcmpErrorRepr as Repr } from '@ersatz/wire';
import { a5, hex, shifted } from './fixtures/wire/helpers.js';

const US = Ipv4.parse('198.51.100.1');
const QUOTED_ECHO = `0800 a750 599b 0001 0001 0203 0405 0607 0809 0a0b 0c0d 0e0f 1011 1213 1415 1617 1819 1a1b 1c1d 1e1f
  2021 2223 2425 2627 2829 2a2b 2c2d 2e2f 3031 3233 3435 3637`;

// `ip route add unreachable 10.9.0.0/16` on the router; tcpdump -n -v:
// 198.51.100.2 > 198.51.100.1: ICMP host 10.9.0.5 unreachable, length 92
//   (quoting 198.51.100.1 > 10.9.0.5: ICMP echo request, id 22939, seq 1, length 64)
const HOST_UNREACHABLE = hex(`0301 fcfe 0000 0000 4500 0054 0000 4000 4001 0667 c633 6401 0a09 0005 ${QUOTED_ECHO}`);

// Our request sent with TTL 1 through the router; tcpdump: ICMP time exceeded in-transit, length 92
const TIME_EXCEEDED = hex(`0b00 f4ff 0000 0000 4500 0054 0000 4000 0101 1327 c633 6401 cb00 714d
  0800 0f9b f150 0001 0001 0203 0405 0607 0809 0a0b 0c0d 0e0f 1011 1213 1415 1617 1819 1a1b 1c1d 1e1f 2021 2223
  2425 2627 2829 2a2b 2c2d 2e2f 3031 3233 3435 3637`);

// The router's route to 203.0.113.0/24 goes back via 198.51.100.1; tcpdump:
// ICMP redirect 203.0.113.77 to host 198.51.100.1, length 92 (the quote shows the TTL already decremented: 0x3f)
const REDIRECT = hex(`0501 d0c9 c633 6401 4500 0054 0000 4000 3f01 d526 c633 6401 cb00 714d
  0800 802e 80bd 0001 0001 0203 0405 0607 0809 0a0b 0c0d 0e0f 1011 1213 1415 1617 1819 1a1b 1c1d 1e1f 2021 2223
  2425 2627 2829 2a2b 2c2d 2e2f 3031 3233 3435 3637`);

const parse = (b: Uint8Array, verifyChecksum = true) => IcmpErrorRepr.parse(Icmpv4Packet.checked(b), { verifyChecksum });

/** The fixture with one byte changed and the ICMP checksum refreshed (so only the edit is wrong). */
function edited(b: Uint8Array, at: number, value: number): Uint8Array {
  const copy = b.slice();
  copy[at] = value;
  Icmpv4Packet.unchecked(copy).fillChecksum();
  return copy;
}

test('parses Destination Unreachable: code, the quoted header and the quoted echo request', (t) => {
  const r = parse(HOST_UNREACHABLE);
  t.like(r, { type: IcmpType.DestinationUnreachable, code: 1, info: 0 });
  t.like(r.quotedHeader, { src: US, dst: Ipv4.parse('10.9.0.5'), protocol: 1, ttl: 64, payloadLen: 64, dontFragment: true, ident: 0 });
  t.is(r.quotedPayload.length, 64);
  t.deepEqual(r.quotedPayload.subarray(0, 8), hex('0800 a750 599b 0001'));
  t.deepEqual(quotedEcho(Icmpv4Packet.checked(HOST_UNREACHABLE).data), { src: US, dst: Ipv4.parse('10.9.0.5'), id: 22939, seq: 1 });
});

test('parses Time Exceeded and Redirect (whose info word is the new gateway)', (t) => {
  t.like(parse(TIME_EXCEEDED), { type: IcmpType.TimeExceeded, code: 0, info: 0 });
  t.like(quotedEcho(Icmpv4Packet.checked(TIME_EXCEEDED).data), { dst: Ipv4.parse('203.0.113.77'), id: 61776, seq: 1 });
  const redirect = parse(REDIRECT);
  t.like(redirect, { type: IcmpType.Redirect, code: 1, info: US });
  t.is(redirect.quotedHeader.ttl, 63);
  t.like(quotedEcho(Icmpv4Packet.checked(REDIRECT).data), { src: US, id: 32957, seq: 1 });
});

test('emit writes every byte (into a 0xa5 buffer) and reproduces the captured messages', (t) => {
  for (const fixture of [HOST_UNREACHABLE, TIME_EXCEEDED, REDIRECT]) {
    const repr = parse(fixture);
    t.is(IcmpErrorRepr.bufferLen(repr), fixture.length);
    const out = a5(fixture.length);
    IcmpErrorRepr.emit(repr, Icmpv4Packet.unchecked(out));
    t.deepEqual(out, fixture);
  }
});

test('a non-zero byteOffset is honoured by parse, emit and quotedEcho', (t) => {
  const view = shifted(REDIRECT, 5);
  const r = parse(view);
  t.like(r, { type: IcmpType.Redirect, info: US });
  t.like(quotedEcho(Icmpv4Packet.checked(view).data), { id: 32957, seq: 1 });
  const out = shifted(a5(REDIRECT.length), 7);
  IcmpErrorRepr.emit(r, Icmpv4Packet.unchecked(out));
  t.deepEqual(out.slice(), REDIRECT);
});

test('truncated: a quote shorter than its header + 8 bytes, or an ICMP header cut short', (t) => {
  const short = HOST_UNREACHABLE.slice(0, ICMP_HEADER_LEN + 27);
  t.throws(() => parse(short, false), { instanceOf: TruncatedError, message: 'icmp quote: need 28 bytes, have 27' });
  t.is(quotedEcho(Icmpv4Packet.checked(short).data), null);
  t.throws(() => parse(HOST_UNREACHABLE.slice(0, ICMP_HEADER_LEN + 12), false), { instanceOf: TruncatedError, message: 'icmp quote: need 28 bytes, have 12' });
  // IHL 6 announces options: 24 + 8 bytes needed.
  const ihl6 = edited(HOST_UNREACHABLE, 8, 0x46).slice(0, ICMP_HEADER_LEN + 31);
  t.throws(() => parse(ihl6, false), { instanceOf: TruncatedError, message: 'icmp quote: need 32 bytes, have 31' });
  t.throws(() => Icmpv4Packet.checked(HOST_UNREACHABLE.slice(0, 7)), { instanceOf: TruncatedError });
});

test('unsupported and invalid: a type that is no error, a quote that is not IPv4, IHL < 5, a bad checksum', (t) => {
  t.throws(() => parse(edited(HOST_UNREACHABLE, 0, IcmpType.EchoReply)), { instanceOf: UnsupportedError, message: 'icmp: unsupported type 0' });
  t.throws(() => parse(edited(HOST_UNREACHABLE, 8, 0x65)), { instanceOf: UnsupportedError, message: 'icmp quote: unsupported version 6' });
  t.throws(() => parse(edited(HOST_UNREACHABLE, 8, 0x44)), { instanceOf: InvalidFieldError });
  const bad = HOST_UNREACHABLE.slice();
  bad[1] = 0; // Net Unreachable, checksum not refreshed
  t.throws(() => parse(bad), { instanceOf: ChecksumError });
  t.like(parse(bad, false), { code: 0 });
});

test('quotedEcho is null for quotes of anything but the first bytes of an echo request', (t) => {
  const data = (b: Uint8Array) => Icmpv4Packet.checked(b).data;
  t.is(quotedEcho(data(edited(HOST_UNREACHABLE, 17, 17))), null, 'UDP');
  t.is(quotedEcho(data(edited(HOST_UNREACHABLE, 28, IcmpType.EchoReply))), null, 'an echo reply');
  t.is(quotedEcho(data(edited(HOST_UNREACHABLE, 15, 0x01))), null, 'a later fragment (offset 8)');
  t.is(quotedEcho(data(edited(HOST_UNREACHABLE, 8, 0x65))), null, 'not IPv4');
  t.not(quotedEcho(data(edited(HOST_UNREACHABLE, 14, 0x20))), null, 'a first fragment still carries the echo header');
});

test('property: parse(emit(repr)) is repr', (t) => {
  const arb = fc.record({
    type: fc.constantFrom(IcmpType.DestinationUnreachable, IcmpType.Redirect, IcmpType.TimeExceeded, IcmpType.ParameterProblem),
    code: fc.integer({ min: 0, max: 255 }),
    info: fc.integer({ min: 0, max: 0xffff_ffff }),
    quotedPayload: fc.uint8Array({ minLength: 8, maxLength: 64 }),
    src: fc.integer({ min: 0, max: 0xffff_ffff }),
    dst: fc.integer({ min: 0, max: 0xffff_ffff }),
    ttl: fc.integer({ min: 0, max: 255 }),
    payloadLen: fc.integer({ min: 8, max: 1480 }),
  });
  fc.assert(
    fc.property(arb, (a) => {
      const repr: Repr = {
        type: a.type,
        code: a.code,
        info: a.info,
        quotedPayload: a.quotedPayload,
        quotedHeader: { src: a.src as Ipv4, dst: a.dst as Ipv4, protocol: 1, ttl: a.ttl, payloadLen: a.payloadLen, dscp: 0, ecn: 0, ident: 7, dontFragment: true, moreFragments: false, fragmentOffset: 0, options: new Uint8Array(0) },
      };
      const out = a5(IcmpErrorRepr.bufferLen(repr));
      IcmpErrorRepr.emit(repr, Icmpv4Packet.unchecked(out));
      return isDeepStrictEqual(parse(out), repr);
    }),
  );
  t.pass();
});
