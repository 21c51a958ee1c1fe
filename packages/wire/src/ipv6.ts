// IPv6 addresses (RFC 4291, text as RFC 5952 says) and the IPv6 header (RFC 8200) with its extension headers.
import { Mac } from './address.js';
import { needRoom, readU16, writeU16 } from './bytes.js';
import { AddressParseError, InvalidFieldError, TruncatedError } from './error.js';

/** An IPv6 address in its one canonical text (RFC 5952: lowercase, longest zero run as `::`): compare with `===`. */
export type Ipv6 = string & { readonly __brand: 'Ipv6' };

const HEX4 = /^[0-9a-f]{1,4}$/i;
const DOTTED = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export const Ipv6 = {
  UNSPECIFIED: '::' as Ipv6,
  ALL_NODES: 'ff02::1' as Ipv6,
  ALL_ROUTERS: 'ff02::2' as Ipv6,

  /**
   * Parses any RFC 4291 text form (`::` once, an IPv4 tail such as `::ffff:192.0.2.1`, any case, leading zeros)
   * into the canonical one. A zone (`%eth0`) is the caller's to split off first. Throws AddressParseError.
   */
  parse(text: string): Ipv6 {
    return Ipv6.fromBytes(Ipv6.toBytes(text as Ipv6, true));
  },

  /** Reads 16 bytes at `offset`. Throws TruncatedError when they are not there. */
  fromBytes(bytes: Uint8Array, offset = 0): Ipv6 {
    if (offset < 0 || offset + 16 > bytes.length) throw new TruncatedError('ipv6 address', offset + 16, bytes.length);
    // By hand, without arrays or joins: the decode worker and the coordinator read three per ND message.
    const w = (i: number): number => (bytes[offset + 2 * i]! << 8) | bytes[offset + 2 * i + 1]!;
    // RFC 5952 §5: an IPv4-mapped address keeps its dotted tail.
    if (w(0) === 0 && w(1) === 0 && w(2) === 0 && w(3) === 0 && w(4) === 0 && w(5) === 0xffff) {
      return `::ffff:${bytes[offset + 12]}.${bytes[offset + 13]}.${bytes[offset + 14]}.${bytes[offset + 15]}` as Ipv6;
    }
    // The longest run of two or more zero words (the first of equal runs) becomes `::`.
    let best = -1;
    let bestLen = 1;
    for (let i = 0; i < 8; ) {
      if (w(i) !== 0) {
        i++;
        continue;
      }
      let j = i;
      while (j < 8 && w(j) === 0) j++;
      if (j - i > bestLen) [best, bestLen] = [i, j - i];
      i = j;
    }
    const hex = (from: number, to: number): string => {
      let out = '';
      for (let i = from; i < to; i++) out += i === from ? w(i).toString(16) : `:${w(i).toString(16)}`;
      return out;
    };
    return (best < 0 ? hex(0, 8) : `${hex(0, best)}::${hex(best + bestLen, 8)}`) as Ipv6;
  },

  /** The 16 bytes of `ip` (`strict`: `ip` is untrusted text, checked as `parse` says). Throws AddressParseError. */
  toBytes(ip: Ipv6, strict = false): Uint8Array {
    const text = ip as string;
    const bad = (why: string): never => {
      throw new AddressParseError('IPv6 address', text, why);
    };
    if (strict && text.includes('%')) bad("a zone (%IF) is not part of the address: give it apart, or as -I IF");
    const halves = text.split('::');
    if (halves.length > 2) bad("'::' may appear once");
    const groups = (part: string): string[] => (part === '' ? [] : part.split(':'));
    const head = groups(halves[0]!);
    const tail = halves.length === 2 ? groups(halves[1]!) : [];
    const words: number[] = [];
    const all = [...head, ...tail];
    const dotted = all.length > 0 ? DOTTED.exec(all.at(-1)!) : null;
    for (const [i, g] of all.entries()) {
      if (dotted !== null && i === all.length - 1) continue;
      if (!HEX4.test(g)) bad(`${JSON.stringify(g)} is not one to four hex digits`);
    }
    if (dotted !== null && !text.endsWith(all.at(-1)!)) bad('an IPv4 tail must come last');
    const v4 = dotted === null ? [] : dotted.slice(1).map(Number);
    if (v4.some((o) => o > 255)) bad('the IPv4 tail has an octet over 255');
    const count = all.length + (dotted === null ? 0 : 1); // a dotted tail is two words
    if (halves.length === 1 ? count !== 8 : count > 7) bad(halves.length === 1 ? `expected 8 groups, got ${count}` : 'too many groups around ::');
    const push = (gs: string[]): void => {
      for (const g of gs) if (!DOTTED.test(g)) words.push(parseInt(g, 16));
    };
    push(head);
    if (halves.length === 2) {
      const fill = 8 - count;
      for (let i = 0; i < fill; i++) words.push(0);
    }
    push(tail);
    if (dotted !== null) words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    const out = new Uint8Array(16);
    words.forEach((w, i) => writeU16(out, 2 * i, w));
    return out;
  },

  /** Writes 16 bytes at `offset`; the caller guarantees room. */
  write(ip: Ipv6, bytes: Uint8Array, offset = 0): void {
    bytes.set(Ipv6.toBytes(ip), offset);
  },

  isUnspecified: (ip: Ipv6): boolean => ip === '::',
  /** ff00::/8 */
  isMulticast: (ip: Ipv6): boolean => ip.startsWith('ff'),
  /** fe80::/10 */
  isLinkLocal: (ip: Ipv6): boolean => /^fe[89ab][0-9a-f]:/.test(ip),

  /** The solicited-node multicast address of `ip` (RFC 4291 §2.7.1): ff02::1:ff and its last 24 bits. */
  solicitedNode(ip: Ipv6): Ipv6 {
    const b = Ipv6.toBytes(ip);
    const out = Ipv6.toBytes('ff02::1:ff00:0' as Ipv6);
    out.set(b.subarray(13), 13);
    return Ipv6.fromBytes(out);
  },

  /** The Ethernet group address a multicast IPv6 address maps to (RFC 2464 §7): 33:33 and its last 32 bits. */
  multicastMac(ip: Ipv6): Mac {
    const b = Ipv6.toBytes(ip);
    return Mac.fromBytes(new Uint8Array([0x33, 0x33, b[12]!, b[13]!, b[14]!, b[15]!]));
  },

  /** Whether `a` and `b` share their first `prefixLen` bits. */
  samePrefix(a: Ipv6, b: Ipv6, prefixLen: number): boolean {
    const x = Ipv6.toBytes(a);
    const y = Ipv6.toBytes(b);
    for (let bit = 0; bit < prefixLen; bit += 8) {
      const mask = prefixLen - bit >= 8 ? 0xff : (0xff << (8 - (prefixLen - bit))) & 0xff;
      if ((x[bit / 8]! & mask) !== (y[bit / 8]! & mask)) return false;
    }
    return true;
  },
} as const;

/** `ADDR%ZONE` → the address and its zone (an interface name), or null when there is none. Throws AddressParseError. */
export function parseScopedIpv6(text: string): { readonly ip: Ipv6; readonly zone: string | null } {
  const at = text.indexOf('%');
  if (at < 0) return { ip: Ipv6.parse(text), zone: null };
  const zone = text.slice(at + 1);
  if (zone === '') throw new AddressParseError('IPv6 address', text, 'nothing after %: give the interface, as fe80::1%eth0');
  return { ip: Ipv6.parse(text.slice(0, at)), zone };
}

export const IPV6_HEADER_LEN = 40;

/** IPv6 next-header values this package names (IANA protocol numbers). */
export const Ipv6Next = { HopByHop: 0, Routing: 43, Fragment: 44, Icmpv6: 58, NoNext: 59, DestinationOptions: 60 } as const;

/** The fixed header's fields, and where the upper-layer payload starts once the extension headers are walked. */
export interface Ipv6Header {
  readonly hopLimit: number;
  readonly src: Ipv6;
  readonly dst: Ipv6;
  /** The upper-layer protocol (58 for ICMPv6), or Ipv6Next.NoNext. */
  readonly protocol: number;
  /** Offset of the upper-layer header in the bytes given. */
  readonly at: number;
  /** Bytes of the upper layer (payload length minus the extension headers). */
  readonly length: number;
  /** A fragment (other than a whole packet in one): its payload is not a whole upper-layer message. */
  readonly fragment: boolean;
}

/**
 * Reads the IPv6 header at the start of `bytes` and skips its extension headers (hop-by-hop, routing, destination
 * options, fragment), as RFC 8200 §4 chains them. Trailing bytes past the payload length (Ethernet padding) are
 * ignored. Throws TruncatedError when the header or a stated length runs past the bytes, InvalidFieldError for a
 * version other than 6. `missing`: bytes a capture's snap length left out after `bytes` (default 0): the payload may
 * run that far past them (the extension headers must still be there); `length` is then still the whole upper layer's.
 */
export function parseIpv6Header(bytes: Uint8Array, missing = 0): Ipv6Header {
  if (bytes.length < IPV6_HEADER_LEN) throw new TruncatedError('ipv6', IPV6_HEADER_LEN, bytes.length);
  const version = bytes[0]! >>> 4;
  if (version !== 6) throw new InvalidFieldError('ipv6', 'version', version, 'an IPv6 header says 6');
  const payloadLength = readU16(bytes, 4);
  const end = IPV6_HEADER_LEN + payloadLength;
  if (end > bytes.length + missing) throw new TruncatedError('ipv6', end, bytes.length + missing, 'payload');
  const captured = Math.min(end, bytes.length);
  let next = bytes[6]!;
  let at = IPV6_HEADER_LEN;
  let fragment = false;
  // Each pass consumes at least 8 bytes: the walk ends within the payload.
  while (next === Ipv6Next.HopByHop || next === Ipv6Next.Routing || next === Ipv6Next.DestinationOptions || next === Ipv6Next.Fragment) {
    if (at + 8 > captured) throw new TruncatedError('ipv6 extension header', at + 8, captured);
    const len = next === Ipv6Next.Fragment ? 8 : (bytes[at + 1]! + 1) * 8;
    if (at + len > captured) throw new TruncatedError('ipv6 extension header', at + len, captured);
    // Fragment offset (13 bits) or the M flag: a piece of a larger packet. An atomic fragment (both 0) is whole.
    if (next === Ipv6Next.Fragment && (readU16(bytes, at + 2) & 0xfff9) !== 0) fragment = true;
    next = bytes[at]!;
    at += len;
  }
  return { hopLimit: bytes[7]!, src: Ipv6.fromBytes(bytes, 8), dst: Ipv6.fromBytes(bytes, 24), protocol: next, at, length: end - at, fragment };
}

/** Writes a 40-byte IPv6 header (traffic class and flow label 0) at `at`. Returns the offset after it. */
export function writeIpv6Header(out: Uint8Array, at: number, h: { readonly src: Ipv6; readonly dst: Ipv6; readonly next: number; readonly payloadLength: number; readonly hopLimit: number }): number {
  needRoom(out, at, IPV6_HEADER_LEN, 'ipv6');
  out.fill(0, at, at + 4);
  out[at] = 0x60;
  writeU16(out, at + 4, h.payloadLength);
  out[at + 6] = h.next;
  out[at + 7] = h.hopLimit;
  Ipv6.write(h.src, out, at + 8);
  Ipv6.write(h.dst, out, at + 24);
  return at + IPV6_HEADER_LEN;
}
