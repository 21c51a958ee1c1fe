// Frames for the decode worker's fuzz test: real captures, mutations of them, and random bytes of every size from 0
// to 9018 (a jumbo frame), from a seeded generator so a failing run can be replayed with its seed; plus the oracle
// that says, from @ersatz/wire's own frame parsers (not the worker's decoder), which event each frame must give.
//
// Corpus provenance: a lab with host ez0 02:00:00:00:00:01 198.51.100.1/24 and peer ez1 02:00:00:00:00:02
// 198.51.100.2/24, `tcpdump -i ez0 -w fix.pcap` around `arping -c 1 198.51.100.2`, `arping -c 1 -U 198.51.100.1`,
// `ping -c 1 -s 8 198.51.100.2` and the kernel's own traffic, printed with `tcpdump -nn -e -XX -r fix.pcap`. The
// line above each frame is tcpdump's.
import { decodeFrame, isVlanTpid, parseArpFrame, parseEcho6ReplyFrame, parseNdpFrame, type ArpFrame, type Ipv4, type Ipv6, type Mac } from '@ersatz/wire';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

export const CORPUS: readonly Uint8Array[] = [
  // 02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 198.51.100.2 (ff:ff:ff:ff:ff:ff) tell 198.51.100.1, length 28
  hex('ffff ffff ffff 0200 0000 0001 0806 0001 0800 0604 0001 0200 0000 0001 c633 6401 ffff ffff ffff c633 6402'),
  // 02:00:00:00:00:02 > 02:00:00:00:00:01, ethertype ARP (0x0806), length 42: Reply 198.51.100.2 is-at 02:00:00:00:00:02, length 28
  hex('0200 0000 0001 0200 0000 0002 0806 0001 0800 0604 0002 0200 0000 0002 c633 6402 0200 0000 0001 c633 6401'),
  // 02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 198.51.100.1 (ff:ff:ff:ff:ff:ff) tell 198.51.100.1, length 28
  hex('ffff ffff ffff 0200 0000 0001 0806 0001 0800 0604 0001 0200 0000 0001 c633 6401 ffff ffff ffff c633 6401'),
  // 02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 198.51.100.2 tell 198.51.100.1, length 28
  hex('ffff ffff ffff 0200 0000 0001 0806 0001 0800 0604 0001 0200 0000 0001 c633 6401 0000 0000 0000 c633 6402'),
  // 02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype IPv4 (0x0800), length 50: 198.51.100.1 > 198.51.100.2: ICMP echo request, id 27263, seq 1, length 16
  hex('0200 0000 0002 0200 0000 0001 0800 4500 0024 7ebc 4000 4001 67b2 c633 6401 c633 6402 0800 816f 6a7f 0001 0001 0203 0405 0607'),
  // 02:00:00:00:00:02 > 02:00:00:00:00:01, ethertype IPv4 (0x0800), length 50: 198.51.100.2 > 198.51.100.1: ICMP echo reply, id 27263, seq 1, length 16
  hex('0200 0000 0001 0200 0000 0002 0800 4500 0024 542e 0000 4001 d240 c633 6402 c633 6401 0000 896f 6a7f 0001 0001 0203 0405 0607'),
  // 02:00:00:00:00:01 > 33:33:ff:00:00:01, ethertype IPv6 (0x86dd), length 86: :: > ff02::1:ff00:1: ICMP6, neighbor solicitation, who has fe80::ff:fe00:1, length 32
  hex(
    '3333 ff00 0001 0200 0000 0001 86dd 6000 0000 0020 3aff 0000 0000 0000 0000 0000 0000 0000 0000 ff02 0000 0000 0000 0000 ' +
      '0001 ff00 0001 8700 223a 0000 0000 fe80 0000 0000 0000 0000 00ff fe00 0001 0e01 ba29 6ce0 25d8',
  ),
  // 02:00:00:00:00:02 > 33:33:00:00:00:02, ethertype IPv6 (0x86dd), length 70: fe80::ff:fe00:2 > ff02::2: ICMP6, router solicitation, length 16
  hex('3333 0000 0002 0200 0000 0002 86dd 6000 0000 0010 3aff fe80 0000 0000 0000 0000 00ff fe00 0002 ff02 0000 0000 0000 0000 0000 0000 0002 8500 7b2a 0000 0000 0101 0200 0000 0002'),
  // From test/fixtures/pcap/ndp.pcap (issue #17): 02:e5:00:00:00:02 > 02:e5:00:00:00:01, ethertype IPv6 (0x86dd), length 86: 2001:db8::2 > 2001:db8::1: ICMP6, neighbor advertisement, tgt is 2001:db8::2, length 32
  hex(
    '02e5 0000 0001 02e5 0000 0002 86dd 6000 0000 0020 3aff 2001 0db8 0000 0000 0000 0000 0000 0002 2001 0db8 0000 0000 0000 ' +
      '0000 0000 0001 8800 898c 6000 0000 2001 0db8 0000 0000 0000 0000 0000 0002 0201 02e5 0000 0002',
  ),
  // 02:e5:00:00:00:02 > 02:e5:00:00:00:01, ethertype IPv6 (0x86dd), length 118: 2001:db8::2 > 2001:db8::1: ICMP6, echo reply, id 4152, seq 1, length 64
  hex(
    '02e5 0000 0001 02e5 0000 0002 86dd 6003 5486 0040 3a40 2001 0db8 0000 0000 0000 0000 0000 0002 2001 0db8 0000 0000 0000 ' +
      '0000 0000 0001 8100 84b4 1038 0001 09cb 146b 0000 0000 b019 0100 0000 0000 1011 1213 1415 1617 1819 1a1b 1c1d 1e1f ' +
      '2021 2223 2425 2627 2829 2a2b 2c2d 2e2f 3031 3233 3435 3637',
  ),
];

/** The largest frame the fuzz makes: a 9000-byte jumbo MTU plus Ethernet header and two VLAN tags. */
export const MAX_FRAME = 9018;

/** xorshift32: fast and seeded. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>>= 0);
  };
}

// Values that sit on the edges codecs test against.
const INTERESTING = [0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x08, 0x7f, 0x80, 0x81, 0xfe, 0xff];
// EtherTypes and tag protocol ids worth landing on: ARP, RARP, IPv4, 802.1Q, 802.1ad, the old QinQ, IPv6, the
// invalid 1501..1535 gap, an 802.3 length.
const TYPES = [0x0806, 0x8035, 0x0800, 0x8100, 0x88a8, 0x9100, 0x86dd, 0x05dd, 0x05ff, 0x002e];

/**
 * Writes frame after frame into a caller's buffer. Frames `2k` for k in 0..9018 are random bytes of exactly k bytes
 * (so every size from 0 to 9018 occurs); the rest are, by turns, corpus frames (optionally VLAN-tagged), mutations
 * of them (1–4 of: bit flip, random byte, edge value, EtherType swap, ARP field edits, tags, truncation,
 * extension, deletion), and random bytes of a random size (mostly small, a third up to 9018).
 */
export class FrameFuzzer {
  readonly #next: () => number;
  readonly #pool: Uint8Array;
  #count = 0;

  constructor(readonly seed: number) {
    this.#next = rng(seed);
    // Random bytes to copy from: a window at a random offset is a fresh random frame without generating one.
    this.#pool = new Uint8Array((1 << 20) + MAX_FRAME);
    const words = new Uint32Array(this.#pool.buffer, 0, this.#pool.length >>> 2);
    for (let i = 0; i < words.length; i++) words[i] = this.#next();
  }

  /** Writes the next frame at the start of `buf` (at least MAX_FRAME bytes) and returns its length. */
  next(buf: Uint8Array): number {
    const n = this.#count++;
    const r = this.#next;
    if (n % 2 === 0 && n / 2 <= MAX_FRAME) return this.#random(buf, n / 2);
    const kind = r() % 10;
    if (kind < 3) return this.#random(buf, r() % 3 === 0 ? r() % (MAX_FRAME + 1) : r() % 129);
    const base = CORPUS[r() % CORPUS.length]!;
    buf.set(base);
    let len = base.length;
    if (r() % 3 === 0) len = this.#tag(buf, len, 1 + (r() % 3)); // one, two or (too many) three tags
    if (kind === 3) return len; // as captured: must decode
    const mutations = 1 + (r() % 4);
    for (let m = 0; m < mutations; m++) len = this.#mutate(buf, len);
    return len;
  }

  #random(buf: Uint8Array, len: number): number {
    const at = this.#next() % (this.#pool.length - MAX_FRAME);
    buf.set(this.#pool.subarray(at, at + len));
    return len;
  }

  /** Inserts `tags` 802.1Q/802.1ad tags after the MAC addresses. */
  #tag(buf: Uint8Array, len: number, tags: number): number {
    if (len < 12 || len + 4 * tags > MAX_FRAME) return len;
    buf.copyWithin(12 + 4 * tags, 12, len);
    for (let i = 0; i < tags; i++) {
      const tpid = i === 0 && this.#next() % 2 ? 0x88a8 : 0x8100;
      const vid = this.#next() & 0xfff;
      buf.set([tpid >>> 8, tpid & 0xff, vid >>> 8, vid & 0xff], 12 + 4 * i);
    }
    return len + 4 * tags;
  }

  #mutate(buf: Uint8Array, len: number): number {
    const r = this.#next;
    const at = (span: number): number => (span > 0 ? r() % span : 0);
    switch (r() % 10) {
      case 0: // flip one bit anywhere
        if (len > 0) buf[at(len)]! ^= 1 << (r() & 7);
        return len;
      case 1: // a random byte anywhere
        if (len > 0) buf[at(len)] = r() & 0xff;
        return len;
      case 2: // an edge value in the headers, where the checks are
        if (len > 0) buf[at(Math.min(len, 48))] = INTERESTING[r() % INTERESTING.length]!;
        return len;
      case 3: {
        // swap the EtherType (of the outer header or after a tag)
        const o = 12 + 4 * (r() % 3);
        const t = TYPES[r() % TYPES.length]!;
        if (o + 1 < len) buf.set([t >>> 8, t & 0xff], o);
        return len;
      }
      case 4: {
        // ARP header fields: htype, ptype, hlen, plen, oper (offsets past an untagged Ethernet header)
        const field = r() % 5;
        const v = r() % 4 === 0 ? r() & 0xffff : INTERESTING[r() % INTERESTING.length]!;
        const o = [14, 16, 18, 19, 20][field]!;
        if (field === 2 || field === 3) {
          if (o < len) buf[o] = v & 0xff;
        } else if (o + 1 < len) buf.set([(v >>> 8) & 0xff, v & 0xff], o);
        return len;
      }
      case 5: // truncate
        return at(len + 1);
      case 6: {
        // extend with random bytes: mostly a little, sometimes up to a jumbo frame
        const to = Math.min(MAX_FRAME, len + (r() % 4 === 0 ? at(MAX_FRAME - len + 1) : at(65)));
        const from = at(this.#pool.length - MAX_FRAME);
        buf.set(this.#pool.subarray(from, from + (to - len)), len);
        return to;
      }
      case 7: // add tags to whatever is there
        return this.#tag(buf, len, 1 + (r() % 3));
      case 8: {
        // delete a run of bytes
        if (len === 0) return 0;
        const from = at(len);
        const n = 1 + at(Math.min(16, len - from));
        buf.copyWithin(from, from + n, len);
        return len - n;
      }
      default: {
        // IPv4 header fields: version/IHL, total length, flags/fragment offset, protocol, checksum
        const o = [14, 16, 20, 23, 24][r() % 5]!;
        if (o + 1 < len) buf.set([r() & 0xff, r() & 0xff], o);
        return len;
      }
    }
  }
}

/** An event the decode worker must produce for a frame, as @ersatz/wire's parsers read the frame. */
export type Expected =
  | { readonly kind: 'arp'; readonly frame: ArpFrame }
  | { readonly kind: 'ndp'; readonly vlan: number | null; readonly type: string; readonly src: Ipv6; readonly dst: Ipv6; readonly target: Ipv6; readonly linkAddress: Mac | null }
  | { readonly kind: 'icmp'; readonly vlan: number | null; readonly src: Ipv4; readonly dst: Ipv4; readonly type: number; readonly code: number; readonly id: number; readonly seq: number };

/**
 * What `frame` must become, by @ersatz/wire's frame-level parsers: an ARP event when `parseArpFrame` accepts it (the
 * fast path the coordinator's tests use, independent of the worker's views), an ICMP event when `decodeFrame` finds
 * a well-formed, unfragmented echo request or reply; an ND event when `parseNdpFrame` reads a valid ND message or
 * `parseEcho6ReplyFrame` an ICMPv6 echo reply; otherwise nothing (ignored or malformed).
 */
export function expectedEvent(frame: Uint8Array): Expected | null {
  if (frame.length < 14) return null;
  let at = 12;
  let type = (frame[12]! << 8) | frame[13]!;
  while (isVlanTpid(type) && at + 6 <= frame.length) {
    at += 4;
    type = (frame[at]! << 8) | frame[at + 1]!;
  }
  let ip = at + 2;
  // An 802.3 length followed by RFC 1042 LLC/SNAP (AA AA 03, OUI 00-00-00): the EtherType is in the SNAP header.
  const snap = [0xaa, 0xaa, 0x03, 0, 0, 0];
  if (type >= 8 && type <= 1500 && frame.length >= ip + 8 && snap.every((x, i) => frame[ip + i] === x)) {
    type = (frame[ip + 6]! << 8) | frame[ip + 7]!;
    ip += 8;
  }
  if (type === 0x0806 || type === 0x8035) {
    try {
      return { kind: 'arp', frame: parseArpFrame(frame) };
    } catch {
      return null;
    }
  }
  if (type === 0x86dd) {
    const vlan = at === 12 ? null : ((frame[14]! << 8) | frame[15]!) & 0x0fff;
    try {
      const nd = parseNdpFrame(frame, ip, vlan);
      if (nd !== null) {
        const m = nd.ndp;
        const target = m.type === 'ns' || m.type === 'na' ? m.target : ('::' as Ipv6);
        const linkAddress = (m.type === 'na' ? m.options.targetLinkAddress : m.options.sourceLinkAddress) ?? null;
        return { kind: 'ndp', vlan, type: m.type, src: nd.ip.src, dst: nd.ip.dst, target, linkAddress };
      }
      const echo = parseEcho6ReplyFrame(frame, ip, vlan);
      return echo === null ? null : { kind: 'ndp', vlan, type: 'echo-reply', src: echo.ip.src, dst: echo.ip.dst, target: '::' as Ipv6, linkAddress: null };
    } catch {
      return null;
    }
  }
  if (type !== 0x0800) return null;
  const d = decodeFrame(frame);
  if (d.malformed || d.ipv4?.proto !== 1 || d.icmp === undefined || (d.icmp.type !== 0 && d.icmp.type !== 8)) return null;
  if (frame[ip + 6]! & 0x20) return null; // more fragments: not a whole message
  const u32 = (o: number) => ((frame[o]! << 24) >>> 0) + (frame[o + 1]! << 16) + (frame[o + 2]! << 8) + frame[o + 3]!;
  return {
    kind: 'icmp',
    vlan: d.vlan?.[0] ?? null,
    src: u32(ip + 12) as Ipv4,
    dst: u32(ip + 16) as Ipv4,
    type: d.icmp.type,
    code: d.icmp.code,
    id: d.icmp.id!,
    seq: d.icmp.seq!,
  };
}
