import test from 'ava';
import {
  ARP_ETH_IPV4_LEN, ArpOp, ArpPacket, ArpRecord, ArpRepr, EthernetFrame, EthernetRepr, FieldMismatchError, IcmpEchoRepr, Icmpv4Packet, Ipv4, Ipv4Packet, Ipv4Repr, Mac, TruncatedError, UnsupportedError,
  arpEtherType, isArpOp, readArpRecord, writeArp, writeArpRecord, type ArpRepr as Repr,
} from '@ersatz/wire';
import * as F from './fixtures/wire/frames.js';
import { a5, hex, shifted } from './fixtures/wire/helpers.js';

const HOST = Mac.parse('02:00:00:00:00:01');
const PEER = Mac.parse('02:00:00:00:00:02');
const ip = Ipv4.parse;

/** The ARP payload of a captured frame (after its Ethernet header and tags). */
const arpOf = (frame: Uint8Array) => EthernetFrame.checked(frame).payload;
const parse = (b: Uint8Array) => ArpRepr.parse(ArpPacket.checked(b));

test('ArpOp holds the RFC 826/903/2390 codes', (t) => {
  t.deepEqual(ArpOp, { Request: 1, Reply: 2, RarpRequest: 3, RarpReply: 4, InArpRequest: 8, InArpReply: 9 });
  t.true(isArpOp(9));
  t.false(isArpOp(5));
  t.is(arpEtherType(ArpOp.Request), 0x0806);
  t.is(arpEtherType(ArpOp.RarpReply), 0x8035);
});

test('parses arping request and the kernel reply (RFC 826 words)', (t) => {
  t.deepEqual(parse(arpOf(F.ARPING_REQUEST)), { operation: ArpOp.Request, senderMac: HOST, senderIp: ip('198.51.100.1'), targetMac: Mac.BROADCAST, targetIp: ip('198.51.100.2') });
  t.deepEqual(parse(arpOf(F.ARPING_REPLY)), { operation: ArpOp.Reply, senderMac: PEER, senderIp: ip('198.51.100.2'), targetMac: HOST, targetIp: ip('198.51.100.1') });
  t.deepEqual(parse(arpOf(F.ARPSCAN_REQUEST)).targetMac, Mac.ZERO);
});

test('parses RFC 5227 announcements: gratuitous request and reply', (t) => {
  const req = parse(arpOf(F.GRATUITOUS_REQUEST));
  t.is(req.senderIp, req.targetIp);
  const rep = parse(arpOf(F.GRATUITOUS_REPLY));
  t.like(rep, { operation: ArpOp.Reply, senderMac: HOST, targetMac: HOST });
  t.is(rep.senderIp, rep.targetIp);
});

test('parses RARP (EtherType 0x8035, op 3)', (t) => {
  t.is(EthernetFrame.checked(F.RARP_REQUEST).typeOrLength, 0x8035);
  t.is(parse(arpOf(F.RARP_REQUEST)).operation, ArpOp.RarpRequest);
});

test('the generic view reads the fixed header and honours the packet hlen/plen', (t) => {
  const p = ArpPacket.checked(arpOf(F.ARPING_REPLY));
  t.deepEqual([p.htype, p.ptype, p.hlen, p.plen, p.operation, p.packetLen], [1, 0x0800, 6, 4, 2, 28]);
  t.deepEqual(p.sha, hex('020000000002'));
  t.deepEqual(p.spa, hex('c6336402'));
  t.deepEqual(p.tha, hex('020000000001'));
  t.deepEqual(p.tpa, hex('c6336401'));
  // A FireWire-style packet: htype 24, hlen 16, plen 4 (RFC 2734) — read, not understood.
  const fw = hex(`0018 0800 10 04 0001 ${'11'.repeat(16)} c0000201 ${'22'.repeat(16)} c0000202`);
  const g = ArpPacket.checked(fw);
  t.is(g.packetLen, 48);
  t.deepEqual(g.sha, new Uint8Array(16).fill(0x11));
  t.deepEqual(g.tpa, hex('c0000202'));
  t.throws(() => ArpRepr.parse(g), { instanceOf: UnsupportedError, message: 'arp: unsupported htype 24' });
});

test('hlen and plen that disagree with htype/ptype are reported with both numbers', (t) => {
  // arp-scan --arphln 8 says 8 but sends 6-byte addresses: 8 + 2 × (8 + 4) = 32 > 28 bytes present.
  t.throws(() => ArpPacket.checked(arpOf(F.ARP_HLEN8)), { instanceOf: TruncatedError, message: 'arp: need 32 bytes, have 28' });
  // With the bytes present (padded frame), the numbers disagree.
  const hlen8 = hex(`0001 0800 08 04 0001 ${'02'.repeat(8)} c0000201 ${'00'.repeat(8)} c0000202`);
  const err = t.throws(() => parse(hlen8), { instanceOf: FieldMismatchError });
  t.like(err, { field: 'hlen', value: 8, otherField: 'htype', otherValue: 1, expected: 6 });
  t.is(err?.message, 'arp: hlen 8 disagrees with htype 1 (which needs hlen 6)');
  const plen16 = hex(`0001 0800 06 10 0001 ${'02'.repeat(6)} ${'20'.repeat(16)} ${'00'.repeat(6)} ${'20'.repeat(16)}`);
  t.throws(() => parse(plen16), { instanceOf: FieldMismatchError, message: 'arp: plen 16 disagrees with ptype 0x0800 (which needs plen 4)' });
  t.throws(() => ArpPacket.checked(arpOf(F.ARP_PLEN16)), { instanceOf: TruncatedError, message: 'arp: need 52 bytes, have 28' });
});

test('unknown operation, htype and ptype are unsupported, but the view still reads them', (t) => {
  const op5 = ArpPacket.checked(arpOf(F.ARP_OP5));
  t.is(op5.operation, 5);
  t.throws(() => ArpRepr.parse(op5), { instanceOf: UnsupportedError, message: 'arp: unsupported operation 5' });
  t.throws(() => parse(arpOf(F.ARP_HTYPE6)), { instanceOf: UnsupportedError, message: 'arp: unsupported htype 6' });
  const v6 = ArpPacket.checked(arpOf(F.ARP_PTYPE_IPV6));
  t.is(v6.ptype, 0x86dd);
  t.throws(() => ArpRepr.parse(v6), { instanceOf: UnsupportedError, message: 'arp: unsupported ptype 0x86dd' });
});

test('truncated packets say how many bytes they need', (t) => {
  const arp = arpOf(F.ARPING_REPLY);
  t.throws(() => ArpPacket.checked(arp.subarray(0, 7)), { instanceOf: TruncatedError, message: 'arp: need 8 bytes, have 7' });
  t.throws(() => ArpPacket.checked(arp.subarray(0, 27)), { instanceOf: TruncatedError, message: 'arp: need 28 bytes, have 27' });
  t.notThrows(() => ArpPacket.checked(arp.subarray(0, 28)));
});

test('tolerates link padding after the packet', (t) => {
  const padded = arpOf(F.DOT1AD_REQUEST);
  t.is(padded.length, 42);
  t.like(parse(padded), { targetIp: ip('192.0.2.130') });
});

test('honours a non-zero byteOffset', (t) => {
  const moved = shifted(arpOf(F.ARPING_REPLY), 7);
  t.deepEqual(parse(moved), parse(arpOf(F.ARPING_REPLY)));
  t.deepEqual(ArpPacket.checked(moved).tha, hex('020000000001'));
});

test('emit writes all 28 bytes and reproduces the kernel reply byte for byte', (t) => {
  const repr: Repr = { operation: ArpOp.Reply, senderMac: PEER, senderIp: ip('198.51.100.2'), targetMac: HOST, targetIp: ip('198.51.100.1') };
  t.is(ArpRepr.bufferLen(repr), ARP_ETH_IPV4_LEN);
  const buf = a5(28);
  ArpRepr.emit(repr, ArpPacket.unchecked(buf));
  t.deepEqual(buf, arpOf(F.ARPING_REPLY));
  // Into the middle of a larger buffer: nothing outside the 28 bytes changes.
  const big = a5(40);
  ArpRepr.emit(repr, ArpPacket.unchecked(big.subarray(6, 34)));
  t.deepEqual(big.subarray(0, 6), a5(6));
  t.deepEqual(big.subarray(34), a5(6));
  t.deepEqual(big.subarray(6, 34), arpOf(F.ARPING_REPLY));
});

test('view setters write the fixed header', (t) => {
  const buf = a5(8);
  const p = ArpPacket.unchecked(buf);
  p.htype = 1;
  p.ptype = 0x0800;
  p.hlen = 6;
  p.plen = 4;
  p.operation = ArpOp.InArpReply;
  t.deepEqual(buf, hex('0001 0800 06 04 0009'));
});

test('every emit refuses a buffer too short for what it writes, instead of dropping the bytes past its end', (t) => {
  const repr = ArpRepr.parse(ArpPacket.checked(EthernetFrame.checked(F.ARPING_REPLY).payload));
  const short = (n: number) => new Uint8Array(n);
  t.throws(() => ArpRepr.emit(repr, ArpPacket.unchecked(short(27))), { instanceOf: TruncatedError, message: 'arp buffer: need 28 bytes, have 27' });
  t.throws(() => writeArp(repr, short(30), 3), { instanceOf: TruncatedError, message: 'arp buffer: need 31 bytes, have 30' });
  const eth: EthernetRepr = { kind: 'ethernet2', dst: Mac.BROADCAST, src: Mac.ZERO, vlan: [], etherType: 0x0806 };
  t.throws(() => EthernetRepr.emit(eth, EthernetFrame.unchecked(short(59)), 28), { instanceOf: TruncatedError, message: 'ethernet buffer: need 60 bytes, have 59' });
  const ip: Ipv4Repr = { src: Ipv4.parse('192.0.2.1'), dst: Ipv4.parse('192.0.2.2'), protocol: 1, ttl: 64, payloadLen: 0, dscp: 0, ecn: 0, ident: 0, dontFragment: true, moreFragments: false, fragmentOffset: 0, options: new Uint8Array(4) };
  t.throws(() => Ipv4Repr.emit(ip, Ipv4Packet.unchecked(short(20))), { instanceOf: TruncatedError, message: 'ipv4 buffer: need 24 bytes, have 20' });
  t.throws(() => IcmpEchoRepr.emit({ type: 'request', id: 1, seq: 1, payload: new Uint8Array(8) }, Icmpv4Packet.unchecked(short(15))), { instanceOf: TruncatedError, message: 'icmp buffer: need 16 bytes, have 15' });
  t.throws(() => writeArpRecord(short(ArpRecord.LEN - 1), 0, null, F.ARPING_REPLY, 14), { instanceOf: TruncatedError, message: 'arp record buffer: need 37 bytes, have 36' });
  t.throws(() => readArpRecord(short(ArpRecord.LEN), 1, 0n), { instanceOf: TruncatedError });
});
