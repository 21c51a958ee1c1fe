import test from 'ava';
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import {
  ArpOp, ArpPacket, ArpRepr, EthernetFrame, EthernetRepr, IcmpEchoRepr, Icmpv4Packet, Ipv4, Ipv4Packet, Ipv4Repr, Mac, UnsupportedError, WireError,
  ArpRecord, decodeFrame, emitArpFrame, emitIcmpEchoFrame, isVlanTpid, parseArpFrame, readArpRecord, writeArpRecord,
  type EthernetRepr as EthRepr, type VlanTag,
} from '@ersatz/wire';
import * as F from './fixtures/wire/frames.js';

// fast-check makes records with a null prototype; the codecs return plain objects, and isDeepStrictEqual compares prototypes.
const PLAIN = { noNullPrototype: true };
const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => Mac.fromBytes(b));
const ipv4 = fc.integer({ min: 0, max: 0xffffffff }).map((n) => n as Ipv4);
const u16 = fc.integer({ min: 0, max: 0xffff });
const vlanTag: fc.Arbitrary<VlanTag> = fc.record({
  tpid: fc.constantFrom(0x8100 as const, 0x88a8 as const, 0x9100 as const),
  pcp: fc.integer({ min: 0, max: 7 }),
  dei: fc.boolean(),
  vid: fc.integer({ min: 0, max: 4095 }),
}, PLAIN);
const header = { dst: mac, src: mac, vlan: fc.array(vlanTag, { maxLength: 2 }) };
const ethRepr: fc.Arbitrary<EthRepr> = fc.oneof(
  fc.record({ kind: fc.constant('ethernet2' as const), ...header, etherType: fc.integer({ min: 0x0600, max: 0xffff }).filter((t) => !isVlanTpid(t)) }, PLAIN),
  fc.record({ kind: fc.constant('802.3' as const), ...header, length: fc.integer({ min: 0, max: 1500 }) }, PLAIN),
);
const arpOp = fc.constantFrom(...Object.values(ArpOp));
const arpRepr: fc.Arbitrary<ArpRepr> = fc.record({ operation: arpOp, senderMac: mac, senderIp: ipv4, targetMac: mac, targetIp: ipv4 }, PLAIN);
const ipRepr: fc.Arbitrary<Ipv4Repr> = fc.record({
  src: ipv4, dst: ipv4, protocol: fc.integer({ min: 0, max: 255 }), ttl: fc.integer({ min: 0, max: 255 }), payloadLen: fc.integer({ min: 0, max: 1480 }),
  dscp: fc.integer({ min: 0, max: 63 }), ecn: fc.integer({ min: 0, max: 3 }), ident: u16, dontFragment: fc.boolean(), moreFragments: fc.boolean(),
  fragmentOffset: fc.integer({ min: 0, max: 0x1fff }).map((o) => o * 8),
  options: fc.integer({ min: 0, max: 10 }).chain((words) => fc.uint8Array({ minLength: words * 4, maxLength: words * 4 })),
}, PLAIN);
const echoRepr: fc.Arbitrary<IcmpEchoRepr> = fc.record({ type: fc.constantFrom('request' as const, 'reply' as const), id: u16, seq: u16, payload: fc.uint8Array({ maxLength: 200 }) }, PLAIN);

/** Arbitrary bytes, plus valid frames with bytes overwritten and cut short (they reach the deep checks). */
const VALID = [F.ARPING_REPLY, F.QINQ_REQUEST, F.DOT1Q_REQUEST, F.QINQ_PING, F.PING_RR, F.PING_ODD_REPLY, F.RARP_REQUEST, F.ARPSCAN_LLC, F.THREE_TAGS];
const mutated = fc
  .tuple(fc.constantFrom(...VALID), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.option(fc.nat()))
  .map(([frame, edits, cut]) => {
    const b = frame.slice(0, cut === null ? frame.length : cut % (frame.length + 1));
    for (const [at, v] of edits) if (b.length > 0) b[at % b.length] = v;
    return b;
  });
const anyBytes = fc.oneof(fc.uint8Array({ maxLength: 120 }), mutated);

const RUNS = { numRuns: 2000 };

/** Runs `f`; true when it returns or throws a WireError, false for anything else (a bug). */
function onlyWireErrors(f: () => unknown): boolean {
  try {
    f();
    return true;
  } catch (err) {
    if (err instanceof WireError) return true;
    throw err;
  }
}

test('Ethernet: parse(emit(r)) = r', (t) => {
  fc.assert(
    fc.property(ethRepr, (r) => {
      const len = EthernetRepr.bufferLen(r);
      const payloadLen = r.kind === '802.3' ? r.length : 0;
      const buf = new Uint8Array(Math.max(60, len + payloadLen)).fill(0xa5);
      const n = EthernetRepr.emit(r, EthernetFrame.unchecked(buf), payloadLen);
      return n === buf.length && isDeepStrictEqual(EthernetRepr.parse(EthernetFrame.checked(buf)), r) && EthernetFrame.checked(buf).headerLen === len;
    }),
  );
  t.pass();
});

test('ARP: parse(emit(r)) = r', (t) => {
  fc.assert(
    fc.property(arpRepr, (r) => {
      const buf = new Uint8Array(ArpRepr.bufferLen(r)).fill(0xa5);
      ArpRepr.emit(r, ArpPacket.unchecked(buf));
      return isDeepStrictEqual(ArpRepr.parse(ArpPacket.checked(buf)), r);
    }),
  );
  t.pass();
});

test('IPv4: parse(emit(r)) = r, and the emitted checksum verifies', (t) => {
  fc.assert(
    fc.property(ipRepr, (r) => {
      const hl = Ipv4Repr.bufferLen(r);
      const buf = new Uint8Array(hl + r.payloadLen).fill(0xa5);
      Ipv4Repr.emit(r, Ipv4Packet.unchecked(buf));
      const p = Ipv4Packet.checked(buf);
      return p.verifyChecksum() && isDeepStrictEqual(Ipv4Repr.parse(p), r);
    }),
  );
  t.pass();
});

test('ICMP echo: parse(emit(r)) = r, and the emitted checksum verifies', (t) => {
  fc.assert(
    fc.property(echoRepr, (r) => {
      const buf = new Uint8Array(IcmpEchoRepr.bufferLen(r)).fill(0xa5);
      IcmpEchoRepr.emit(r, Icmpv4Packet.unchecked(buf));
      const p = Icmpv4Packet.checked(buf);
      return p.verifyChecksum() && isDeepStrictEqual(IcmpEchoRepr.parse(p), r);
    }),
  );
  t.pass();
});

test('emitArpFrame → parseArpFrame and decodeFrame give the Repr back', (t) => {
  fc.assert(
    fc.property(mac, mac, fc.option(fc.integer({ min: 0, max: 4095 }), { nil: undefined }), arpRepr, (dst, src, vlan, arp) => {
      const buf = new Uint8Array(64).fill(0xa5);
      const n = emitArpFrame(buf, { dst, src, arp, ...(vlan !== undefined && { vlan }) });
      const frame = buf.subarray(0, n);
      const parsed = parseArpFrame(frame);
      const d = decodeFrame(frame);
      return (
        n === 60 &&
        isDeepStrictEqual(parsed, { ethSrc: src, ethDst: dst, vlan: vlan ?? null, arp }) &&
        !d.malformed &&
        d.arp?.op === arp.operation &&
        d.arp.spa === Ipv4.format(arp.senderIp) &&
        d.arp.tha === arp.targetMac
      );
    }),
  );
  t.pass();
});

test('emitIcmpEchoFrame → the codecs read back every field', (t) => {
  fc.assert(
    fc.property(mac, mac, ipv4, ipv4, fc.integer({ min: 0, max: 255 }), echoRepr, (dst, src, ipSrc, ipDst, ttl, echo) => {
      const buf = new Uint8Array(300).fill(0xa5);
      const n = emitIcmpEchoFrame(buf, { dst, src, ipSrc, ipDst, ttl, ...echo });
      const eth = EthernetFrame.checked(buf.subarray(0, n));
      const ip = Ipv4Repr.parse(Ipv4Packet.checked(eth.payload));
      const icmp = IcmpEchoRepr.parse(Icmpv4Packet.checked(Ipv4Packet.checked(eth.payload).payload));
      return (
        n === Math.max(60, 42 + echo.payload.length) &&
        isDeepStrictEqual([eth.dst, eth.src, eth.typeOrLength], [dst, src, 0x0800]) &&
        isDeepStrictEqual([ip.src, ip.dst, ip.ttl, ip.protocol, ip.dontFragment], [ipSrc, ipDst, ttl, 1, true]) &&
        isDeepStrictEqual(icmp, echo) &&
        !decodeFrame(buf.subarray(0, n)).malformed
      );
    }),
  );
  t.pass();
});

test('arbitrary bytes only ever raise each codec its own errors (views read fully once checked)', (t) => {
  fc.assert(
    fc.property(anyBytes, (b) =>
      [
        () => EthernetRepr.parse(EthernetFrame.checked(b)),
        () => {
          const p = ArpPacket.checked(b);
          [p.htype, p.ptype, p.hlen, p.plen, p.operation, p.sha, p.spa, p.tha, p.tpa];
          return ArpRepr.parse(p);
        },
        () => {
          const p = Ipv4Packet.checked(b);
          [p.options, p.payload, p.isFragment, p.computeChecksum()];
          return Ipv4Repr.parse(p);
        },
        () => IcmpEchoRepr.parse(Icmpv4Packet.checked(b)),
        () => parseArpFrame(b),
      ].every(onlyWireErrors),
    ),
    RUNS,
  );
  t.pass();
});

test('decodeFrame never throws and never hits an internal error; its result is plain JSON', (t) => {
  fc.assert(
    fc.property(anyBytes, (b) => {
      const d = decodeFrame(b);
      return d.len === b.length && d.malformed === (d.error !== undefined) && !d.error?.startsWith('internal') && isDeepStrictEqual(JSON.parse(JSON.stringify(d)), d);
    }),
    RUNS,
  );
  t.pass();
});

test('ArpRecord: a checked frame copied into a record reads back as parseArpFrame reads the frame, at any offset', (t) => {
  fc.assert(
    fc.property(mac, mac, fc.option(fc.integer({ min: 0, max: 4095 }), { nil: undefined }), arpRepr, fc.nat(8), fc.bigInt(0n, 2n ** 63n), (dst, src, vlan, arp, at, tsNs) => {
      const buf = new Uint8Array(64);
      const frame = buf.subarray(0, emitArpFrame(buf, { dst, src, arp, ...(vlan !== undefined && { vlan }) }));
      const rec = new Uint8Array(at + ArpRecord.LEN).fill(0xa5);
      const end = writeArpRecord(rec, at, vlan ?? null, frame, vlan === undefined ? 14 : 18);
      return end === rec.length && isDeepStrictEqual(readArpRecord(rec, at, tsNs), { kind: 'arp', tsNs, ...parseArpFrame(frame) });
    }),
  );
  t.pass();
});

test('parseArpFrame (the fast path) agrees with the views on every input', (t) => {
  const viaViews = (b: Uint8Array) => {
    const frame = EthernetFrame.checked(b);
    const type = frame.typeOrLength;
    let payload = frame.payload;
    let etherType = type;
    if (type <= 1500) {
      // 802.3: ARP only behind an RFC 1042 LLC/SNAP header (its length field is not trusted, as tcpdump does not).
      const snap = [0xaa, 0xaa, 0x03, 0, 0, 0].every((x, i) => payload[i] === x) && payload.length >= 8 && type >= 8;
      if (!snap) throw new UnsupportedError('ethernet', '802.3 frame of length', type);
      etherType = (payload[6]! << 8) | payload[7]!;
      payload = payload.subarray(8);
    } else if (type < 0x0600) EthernetRepr.parse(frame); // InvalidFieldError for 1501..1535
    if (etherType !== 0x0806 && etherType !== 0x8035) throw new UnsupportedError('ethernet', 'ethertype', etherType);
    return { ethSrc: Mac.fromBytes(b, 6), ethDst: Mac.fromBytes(b, 0), vlan: frame.vlanCount > 0 ? frame.vlanTag(0).vid : null, arp: ArpRepr.parse(ArpPacket.checked(payload)) };
  };
  const outcome = (f: () => unknown) => {
    try {
      return { ok: f() };
    } catch (err) {
      return { err: (err as Error).constructor.name, message: (err as Error).message };
    }
  };
  fc.assert(
    fc.property(anyBytes, (b) => {
      const fast = outcome(() => parseArpFrame(b));
      const slow = outcome(() => viaViews(b));
      // For frames that are not Ethernet II ARP the two may word the refusal differently; both must refuse.
      const isArp = 'ok' in slow || !/^ethernet: unsupported ethertype|^802\.3|^ethernet: invalid type/.test(slow.message ?? '');
      return isArp ? isDeepStrictEqual(fast, slow) : 'err' in fast;
    }),
    RUNS,
  );
  t.pass();
});
