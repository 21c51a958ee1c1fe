// The decode worker's logic without threads: frame → event record → plain object, and what it counts when a frame
// is refused. Fixtures were captured on a namespace veth pair (host 02:00:00:00:00:01 198.51.100.1, peer
// 02:00:00:00:00:02 198.51.100.2) with `tcpdump -i ez0 -w fix.pcap 'arp or icmp'` around `ping -c 1 -s 8
// 198.51.100.2`, and printed with `tcpdump -nn -e -XX -r fix.pcap`; the line above each one is tcpdump's.
import test from 'ava';
import fc from 'fast-check';
import { ArpOp, ArpRecord, Ipv4, LinkRecord, Mac, emitArpFrame, emitIcmpEchoFrame, type ArpRepr } from '@ersatz/wire';
import { ARP_RECORD_LEN, BODY, EventKind, EventRecordError, FrameDecoder, IcmpRec, Outcome, readEvent, type ArpEvent, type IcmpEvent, type NdpEvent } from '@ersatz/decode-worker';
import { readFileSync } from 'node:fs';
import { readPcap } from '@ersatz/pcap';

const hex = (s: string) => new Uint8Array(s.replace(/\s+/g, '').match(/../g)!.map((b) => parseInt(b, 16)));

const HOST = Mac.parse('02:00:00:00:00:01');
const PEER = Mac.parse('02:00:00:00:00:02');
const HOST_IP = Ipv4.parse('198.51.100.1');
const PEER_IP = Ipv4.parse('198.51.100.2');

// 02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 198.51.100.2 tell 198.51.100.1, length 28
const ARP_REQUEST = hex('ffff ffff ffff 0200 0000 0001 0806 0001 0800 0604 0001 0200 0000 0001 c633 6401 0000 0000 0000 c633 6402');
// 02:00:00:00:00:02 > 02:00:00:00:00:01, ethertype ARP (0x0806), length 42: Reply 198.51.100.2 is-at 02:00:00:00:00:02, length 28
const ARP_REPLY = hex('0200 0000 0001 0200 0000 0002 0806 0001 0800 0604 0002 0200 0000 0002 c633 6402 0200 0000 0001 c633 6401');
// 02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype IPv4 (0x0800), length 50: 198.51.100.1 > 198.51.100.2: ICMP echo request, id 4950, seq 1, length 16
const ECHO_REQUEST = hex('0200 0000 0002 0200 0000 0001 0800 4500 0024 32e4 4000 4001 b38a c633 6401 c633 6402 0800 d898 1356 0001 0001 0203 0405 0607');
// 02:00:00:00:00:02 > 02:00:00:00:00:01, ethertype IPv4 (0x0800), length 50: 198.51.100.2 > 198.51.100.1: ICMP echo reply, id 4950, seq 1, length 16
/** Real ND and ICMPv6 frames from two kernels (test/fixtures/pcap/ndp.pcap). */
const NDP_FIXTURE = [...readPcap(new Uint8Array(readFileSync(new URL('../../test/fixtures/pcap/ndp.pcap', import.meta.url))))].map((r) => new Uint8Array(r.data));
const ECHO_REPLY = hex('0200 0000 0001 0200 0000 0002 0800 4500 0024 de10 0000 4001 485e c633 6402 c633 6401 0000 e098 1356 0001 0001 0203 0405 0607');

/** Inserts 802.1Q tags (TPID 0x8100 + VID) after the MAC addresses, outermost first. */
function tagged(frame: Uint8Array, ...vids: number[]): Uint8Array {
  const tags = vids.flatMap((v) => [0x81, 0x00, v >>> 8, v & 0xff]);
  return new Uint8Array([...frame.subarray(0, 12), ...tags, ...frame.subarray(12)]);
}

/** The frame zero-padded to Ethernet's 60-byte minimum, as a NIC sends it. */
function pad60(frame: Uint8Array): Uint8Array {
  const b = new Uint8Array(Math.max(60, frame.length));
  b.set(frame);
  return b;
}

/** A copy of `frame` with `edit` applied. */
function patched(frame: Uint8Array, edit: (b: Uint8Array) => void): Uint8Array {
  const b = frame.slice();
  edit(b);
  return b;
}

/** Decodes one frame with a fresh decoder: the outcome, the event (if any), and the counts. */
function decodeOne(frame: Uint8Array, tsNs = 1234n) {
  const d = new FrameDecoder();
  const outcome = d.decode(frame);
  const event = outcome === Outcome.Event ? readEvent(d.event, tsNs) : undefined;
  return { outcome, event, counts: d.counts() };
}

test('one decoder, events of different kinds in turn: each event view is its own record, the length of its kind', (t) => {
  const d = new FrameDecoder();
  const seen = [ARP_REPLY, ECHO_REQUEST, ARP_REQUEST, ECHO_REQUEST].map((frame) => {
    t.is(d.decode(frame), Outcome.Event);
    t.is(d.event.length, d.length);
    return { kind: readEvent(d.event, 1n).kind, view: d.event };
  });
  t.deepEqual(seen.map((s) => s.kind), ['arp', 'icmp', 'arp', 'icmp']);
  t.is(seen[0]!.view, seen[2]!.view, 'one view per length, reused');
  t.not(seen[0]!.view.length, seen[1]!.view.length);
});

test('the kernel ARP reply becomes an arp event with every field', (t) => {
  const { outcome, event } = decodeOne(ARP_REPLY, 99n);
  t.is(outcome, Outcome.Event);
  t.deepEqual(event, {
    kind: 'arp',
    tsNs: 99n,
    ethSrc: PEER,
    ethDst: HOST,
    vlan: null,
    arp: { operation: ArpOp.Reply, senderMac: PEER, senderIp: PEER_IP, targetMac: HOST, targetIp: HOST_IP },
  } satisfies ArpEvent);
});

test('a broadcast ARP request keeps its zero target MAC and broadcast destination', (t) => {
  const ev = decodeOne(ARP_REQUEST).event as ArpEvent;
  t.is(ev.ethDst, Mac.BROADCAST);
  t.deepEqual(ev.arp, { operation: ArpOp.Request, senderMac: HOST, senderIp: HOST_IP, targetMac: Mac.ZERO, targetIp: PEER_IP });
});

test('an ICMP echo reply becomes an icmp event (ttl, id, seq, message length)', (t) => {
  const { outcome, event } = decodeOne(ECHO_REPLY, 7n);
  t.is(outcome, Outcome.Event);
  t.deepEqual(event, { kind: 'icmp', tsNs: 7n, ethSrc: PEER, ethDst: HOST, vlan: null, src: PEER_IP, dst: HOST_IP, ttl: 64, type: 0, code: 0, id: 4950, seq: 1, bytes: 16 } satisfies IcmpEvent);
  t.like(decodeOne(ECHO_REQUEST).event, { kind: 'icmp', type: 8, src: HOST_IP, dst: PEER_IP, id: 4950, seq: 1 });
});

test('VLAN tags: the outermost id is reported, the ARP body is found after the tags (any number of them)', (t) => {
  t.like(decodeOne(tagged(ARP_REPLY, 100)).event, { kind: 'arp', vlan: 100, arp: { senderIp: PEER_IP } });
  t.like(decodeOne(tagged(ARP_REPLY, 200, 300)).event, { kind: 'arp', vlan: 200, arp: { senderMac: PEER } });
  t.like(decodeOne(tagged(ARP_REPLY, 1, 2, 3, 4)).event, { kind: 'arp', vlan: 1, arp: { senderMac: PEER } });
  t.like(decodeOne(tagged(ECHO_REPLY, 4095)).event, { kind: 'icmp', vlan: 4095, seq: 1 });
  t.like(decodeOne(tagged(ARP_REPLY, 0)).event, { vlan: 0 }, 'a priority tag (VID 0) is still a tag');
});

test('ARP and IPv4 in an 802.3 frame behind an RFC 1042 LLC/SNAP header (arp-scan --llc) decode as in Ethernet II', (t) => {
  const snap = (frame: Uint8Array, type: number): Uint8Array => {
    const body = frame.subarray(14);
    const out = new Uint8Array(14 + 8 + body.length);
    out.set(frame.subarray(0, 12));
    out.set([(8 + body.length) >> 8, (8 + body.length) & 0xff, 0xaa, 0xaa, 0x03, 0, 0, 0, type >> 8, type & 0xff], 12);
    out.set(body, 22);
    return out;
  };
  t.deepEqual(decodeOne(snap(ARP_REPLY, 0x0806)).event, decodeOne(ARP_REPLY).event);
  t.deepEqual(decodeOne(snap(ECHO_REPLY, 0x0800)).event, decodeOne(ECHO_REPLY).event);
  const otherLlc = snap(ARP_REPLY, 0x0806);
  otherLlc[14] = 0x42; // an LLC frame for another SAP: not ours, not malformed
  t.is(decodeOne(otherLlc).outcome, Outcome.Ignored);
});

test('a frame inside a larger buffer (non-zero byteOffset) decodes the same', (t) => {
  const buf = new Uint8Array(ARP_REPLY.length + 7).fill(0xa5);
  buf.set(ARP_REPLY, 5);
  t.deepEqual(decodeOne(buf.subarray(5, 5 + ARP_REPLY.length)).event, decodeOne(ARP_REPLY).event);
});

test('Ethernet padding after the ARP packet is ignored', (t) => {
  t.deepEqual(decodeOne(pad60(ARP_REPLY)).event, decodeOne(ARP_REPLY).event);
});

test('malformed frames are counted under a short reason and make no event', (t) => {
  const cases: [string, Uint8Array][] = [
    ['ethernet truncated', ARP_REPLY.subarray(0, 13)],
    ['ethernet truncated', tagged(ARP_REPLY, 5).subarray(0, 17)],
    ['ethernet invalid type/length', patched(ARP_REPLY, (b) => ((b[12] = 0x05), (b[13] = 0xdd)))],
    ['arp truncated', ARP_REPLY.subarray(0, 14 + 20)],
    ['arp truncated', ARP_REPLY.subarray(0, 14 + 6)],
    ['arp unsupported htype', patched(ARP_REPLY, (b) => (b[15] = 6))],
    ['arp unsupported ptype', patched(ARP_REPLY, (b) => ((b[16] = 0x86), (b[17] = 0xdd)))],
    // On a padded 60-byte frame the bigger address fields still fit, so the lengths themselves are the fault.
    ['arp hlen mismatch', patched(pad60(ARP_REPLY), (b) => (b[18] = 8))],
    ['arp plen mismatch', patched(pad60(ARP_REPLY), (b) => (b[19] = 6))],
    ['arp truncated', patched(ARP_REPLY, (b) => (b[18] = 8))], // unpadded: 32 bytes announced, 28 there
    ['arp unsupported operation', patched(ARP_REPLY, (b) => (b[21] = 7))],
    ['ipv4 truncated', ECHO_REPLY.subarray(0, 14 + 19)],
    ['ipv4 truncated', ECHO_REPLY.subarray(0, ECHO_REPLY.length - 1)],
    ['ipv4 unsupported version', patched(ECHO_REPLY, (b) => (b[14] = 0x65))],
    ['ipv4 invalid IHL', patched(ECHO_REPLY, (b) => (b[14] = 0x44))],
    ['ipv4 checksum', patched(ECHO_REPLY, (b) => (b[22] = 63))], // TTL changed, header checksum not
    ['icmp checksum', patched(ECHO_REPLY, (b) => (b[49] = b[49]! ^ 0xff))], // payload changed, ICMP checksum not
  ];
  const d = new FrameDecoder();
  for (const [reason, frame] of cases) {
    const single = decodeOne(frame);
    t.is(single.outcome, Outcome.Malformed, reason);
    t.deepEqual(single.counts.malformed, { [reason]: 1 }, reason);
    d.decode(frame);
  }
  const counts = d.counts();
  t.is(counts.frames, cases.length);
  t.is(counts.arp + counts.icmp + counts.ignored, 0);
  t.is(Object.values(counts.malformed).reduce((a, b) => a + b, 0), cases.length);
  t.is(counts.malformed['arp truncated'], 3);
});

/** Recomputes the IPv4 header checksum of an untagged frame after an edit (RFC 791 one's complement sum). */
function fixIpChecksum(frame: Uint8Array): Uint8Array {
  let sum = 0;
  for (let i = 14; i < 34; i += 2) if (i !== 24) sum += (frame[i]! << 8) | frame[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  frame[24] = (~sum >>> 8) & 0xff;
  frame[25] = ~sum & 0xff;
  return frame;
}

test('well-formed frames of other kinds are ignored, not malformed', (t) => {
  const cases = [
    ['IPv6 echo request (ndp.pcap)', NDP_FIXTURE[6]!],
    ['UDP', fixIpChecksum(patched(ECHO_REPLY, (b) => (b[23] = 17)))],
    ['ICMP destination unreachable', patched(ECHO_REPLY, (b) => (b[34] = 3))],
    ['a first fragment (MF set)', fixIpChecksum(patched(ECHO_REPLY, (b) => (b[20] = 0x20)))],
    ['802.3 (length, not EtherType)', patched(ARP_REPLY, (b) => ((b[12] = 0x00), (b[13] = 0x1c)))],
  ] as const;
  for (const [what, frame] of cases) {
    const r = decodeOne(frame);
    t.is(r.outcome, Outcome.Ignored, what);
    t.deepEqual(r.counts, { frames: 1, arp: 0, icmp: 0, ndp: 0, ignored: 1, malformed: {} }, what);
  }
  // Under the IPv6 EtherType, bytes that are not an IPv6 header are a broken frame, not an ignored one.
  t.deepEqual(decodeOne(patched(ECHO_REPLY, (b) => ((b[12] = 0x86), (b[13] = 0xdd)))).counts.malformed, { 'ipv6 truncated': 1 });
  t.deepEqual(decodeOne(patched(NDP_FIXTURE[6]!, (b) => (b[14] = 0x40))).counts.malformed, { 'ipv6 invalid version': 1 });
  // The same fragment edit without the checksum refresh is a broken header.
  t.is(decodeOne(patched(ECHO_REPLY, (b) => (b[20] = 0x20))).outcome, Outcome.Malformed);
});

test('a Neighbor Advertisement from the kernel (ndp.pcap) becomes an ND event with its flags, addresses and link-layer address', (t) => {
  const d = new FrameDecoder();
  t.is(d.decode(NDP_FIXTURE[5]!), Outcome.Event);
  t.is(d.record[0], EventKind.Ndp);
  t.deepEqual(readEvent(d.event, 7n), {
    kind: 'ndp',
    tsNs: 7n,
    ethDst: '02:e5:00:00:00:01',
    ethSrc: '02:e5:00:00:00:02',
    vlan: null,
    type: 'na',
    src: '2001:db8::2',
    dst: '2001:db8::1',
    target: '2001:db8::2',
    router: false,
    solicited: true,
    override: true,
    linkAddress: '02:e5:00:00:00:02',
  } as NdpEvent);
  t.is(d.decode(NDP_FIXTURE[0]!), Outcome.Event, 'a DAD solicitation from ::');
  t.like(readEvent(d.event, 8n), { type: 'ns', src: '::', target: 'fe80::e5:ff:fe00:2', linkAddress: null });
  t.like(d.counts(), { frames: 2, ndp: 2, malformed: {} });
});

test('the record layout: named offsets, kind byte, lengths', (t) => {
  const d = new FrameDecoder();
  t.is(d.decode(tagged(ARP_REPLY, 0x123)), Outcome.Event);
  const rec = d.event;
  t.is(rec.length, ARP_RECORD_LEN);
  t.is(rec[0], EventKind.Arp);
  t.is(rec[BODY + LinkRecord.FLAGS], 1, 'VLAN flag');
  t.deepEqual(Array.from(rec.subarray(BODY + LinkRecord.VLAN, BODY + LinkRecord.VLAN + 2)), [0x01, 0x23]);
  t.deepEqual(Array.from(rec.subarray(BODY + ArpRecord.SHA, BODY + ArpRecord.LEN)), Array.from(ARP_REPLY.subarray(22, 42)), 'the 20 address bytes, as on the wire');
  t.is(d.decode(ECHO_REPLY), Outcome.Event);
  t.is(d.length, IcmpRec.LEN);
  t.is(d.record[0], EventKind.Icmp);
});

test('readEvent refuses bytes that are not a record', (t) => {
  t.throws(() => readEvent(new Uint8Array(0), 0n), { instanceOf: EventRecordError });
  t.throws(() => readEvent(new Uint8Array(ARP_RECORD_LEN), 0n), { instanceOf: EventRecordError, message: /kind 0 with 38 bytes/ });
  const arpWithIcmpLength = new Uint8Array(IcmpRec.LEN);
  arpWithIcmpLength[0] = EventKind.Arp;
  t.throws(() => readEvent(arpWithIcmpLength, 0n), { instanceOf: EventRecordError });
});

test('property: no input makes the decoder throw; every outcome is counted once', (t) => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 120 }), { maxLength: 20 }), (frames) => {
      const d = new FrameDecoder();
      for (const f of frames) d.decode(f);
      const c = d.counts();
      const malformed = Object.values(c.malformed).reduce((a, b) => a + b, 0);
      return c.frames === frames.length && c.arp + c.icmp + c.ignored + malformed === frames.length && !Object.keys(c.malformed).some((k) => k.startsWith('internal'));
    }),
  );
  t.pass();
});

const macArb = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => Mac.fromBytes(b));
const ipArb = fc.integer({ min: 0, max: 0xffffffff }).map((n) => n as Ipv4);
const opArb = fc.constantFrom(...Object.values(ArpOp));

test('property: any ARP frame emitArpFrame writes comes back as the same event', (t) => {
  fc.assert(
    fc.property(macArb, macArb, opArb, macArb, ipArb, macArb, ipArb, fc.option(fc.integer({ min: 0, max: 4095 }), { nil: undefined }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (dst, src, operation, senderMac, senderIp, targetMac, targetIp, vlan, tsNs) => {
      const arp: ArpRepr = { operation, senderMac, senderIp, targetMac, targetIp };
      const buf = new Uint8Array(64);
      const len = emitArpFrame(buf, { dst, src, arp, ...(vlan !== undefined ? { vlan } : {}) });
      const { event } = decodeOne(buf.subarray(0, len), tsNs);
      t.deepEqual(event, { kind: 'arp', tsNs, ethSrc: src, ethDst: dst, vlan: vlan ?? null, arp });
    }),
  );
});

test('property: any echo frame emitIcmpEchoFrame writes comes back as the same event', (t) => {
  fc.assert(
    fc.property(macArb, macArb, ipArb, ipArb, fc.integer({ min: 1, max: 255 }), fc.boolean(), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 200 }), (dst, src, ipSrc, ipDst, ttl, reply, id, seq, payload) => {
      const buf = new Uint8Array(300);
      const len = emitIcmpEchoFrame(buf, { dst, src, ipSrc, ipDst, ttl, type: reply ? 'reply' : 'request', id, seq, payload });
      const { event } = decodeOne(buf.subarray(0, len), 1n);
      t.deepEqual(event, { kind: 'icmp', tsNs: 1n, ethSrc: src, ethDst: dst, vlan: null, src: ipSrc, dst: ipDst, ttl, type: reply ? 0 : 8, code: 0, id, seq, bytes: 8 + payload.length });
    }),
  );
});
