import test from 'ava';
import { ChecksumError, EthernetFrame, ICMP_HEADER_LEN, IcmpEchoRepr, IcmpType, Icmpv4Packet, InvalidFieldError, Ipv4Packet, TruncatedError, UnsupportedError, type IcmpEchoRepr as Repr } from '@ersatz/wire';
import * as F from './fixtures/wire/frames.js';
import { a5, hex, shifted } from './fixtures/wire/helpers.js';

/** The ICMP message of a captured frame: the IPv4 payload. */
const icmpOf = (frame: Uint8Array) => Ipv4Packet.checked(EthernetFrame.checked(frame).payload).payload;
const parse = (b: Uint8Array) => IcmpEchoRepr.parse(Icmpv4Packet.checked(b));

test('parses ping request and reply', (t) => {
  const req = parse(icmpOf(F.PING_REQUEST));
  t.like(req, { type: 'request', id: 18269, seq: 1 });
  t.is(req.payload.length, 56);
  t.deepEqual(req.payload.subarray(16, 20), hex('10111213'));
  const rep = parse(icmpOf(F.PING_REPLY));
  t.like(rep, { type: 'reply', id: 18269, seq: 1 });
  t.deepEqual(rep.payload, req.payload, 'the kernel echoes the data');
  const p = Icmpv4Packet.checked(icmpOf(F.PING_REPLY));
  t.deepEqual([p.type, p.code, p.checksum, p.id, p.seq], [IcmpType.EchoReply, 0, 0x7f9d, 18269, 1]);
  t.true(p.verifyChecksum());
});

test('parses empty and odd-length data (the checksum pads the odd byte)', (t) => {
  t.deepEqual(parse(icmpOf(F.PING_EMPTY)), { type: 'request', id: 18270, seq: 1, payload: new Uint8Array(0) });
  t.deepEqual(parse(icmpOf(F.PING_ODD_REPLY)), { type: 'reply', id: 18271, seq: 1, payload: hex('ff') });
  t.is(Icmpv4Packet.checked(icmpOf(F.PING_ODD_REPLY)).computeChecksum(), 0xb99e);
});

test('reads the ICMP after IPv4 options', (t) => {
  t.like(parse(icmpOf(F.PING_RR)), { type: 'request', id: 18272, seq: 1 });
});

test('a bad checksum is a ChecksumError with both values, unless verification is off', (t) => {
  const b = icmpOf(F.PING_EMPTY).slice();
  b[7] = 2; // seq 2, checksum not updated
  const err = t.throws(() => parse(b), { instanceOf: ChecksumError });
  t.is(err?.message, 'icmp: bad checksum 0xb0a0, computed 0xb09f');
  t.is(IcmpEchoRepr.parse(Icmpv4Packet.checked(b), { verifyChecksum: false }).seq, 2);
});

test('other types are unsupported, a non-zero echo code is invalid', (t) => {
  // Destination unreachable, port unreachable (type 3 code 3), checksum correct.
  const unreach = a5(8);
  unreach.set(hex('0303 0000 00000000'));
  const p = Icmpv4Packet.unchecked(unreach);
  p.fillChecksum();
  t.true(Icmpv4Packet.checked(unreach).verifyChecksum());
  t.throws(() => parse(unreach), { instanceOf: UnsupportedError, message: 'icmp: unsupported type 3' });
  const code1 = icmpOf(F.PING_EMPTY).slice();
  code1[1] = 1;
  t.throws(() => parse(code1), { instanceOf: InvalidFieldError, message: 'icmp: invalid echo code 1 (RFC 792 defines only 0)' });
});

test('truncated messages say how many bytes they need', (t) => {
  t.throws(() => Icmpv4Packet.checked(icmpOf(F.PING_EMPTY).subarray(0, 7)), { instanceOf: TruncatedError, message: 'icmp: need 8 bytes, have 7' });
});

test('honours a non-zero byteOffset', (t) => {
  const moved = shifted(icmpOf(F.PING_ODD_REPLY), 3);
  t.deepEqual(parse(moved), parse(icmpOf(F.PING_ODD_REPLY)));
  t.true(Icmpv4Packet.checked(moved).verifyChecksum());
});

test('emit writes every byte, checksum included, and reproduces the kernel reply', (t) => {
  for (const f of [F.PING_REPLY, F.PING_REQUEST, F.PING_EMPTY, F.PING_ODD_REPLY]) {
    const wire = icmpOf(f);
    const repr = parse(wire);
    const len = IcmpEchoRepr.bufferLen(repr);
    t.is(len, ICMP_HEADER_LEN + repr.payload.length);
    const buf = a5(len);
    IcmpEchoRepr.emit({ ...repr, payload: repr.payload.slice() }, Icmpv4Packet.unchecked(buf));
    t.deepEqual(buf, wire);
  }
  const mine: Repr = { type: 'request', id: 0xffff, seq: 0, payload: hex('010203') };
  const buf = a5(11);
  IcmpEchoRepr.emit(mine, Icmpv4Packet.unchecked(buf));
  t.deepEqual(parse(buf), mine);
});
