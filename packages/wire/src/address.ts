import { AddressParseError, TruncatedError } from './error.js';
import { macText } from './format.js';
import { readU32 } from './bytes.js';

declare const ipv4Brand: unique symbol;
declare const macBrand: unique symbol;

/** An IPv4 address as an unsigned 32-bit integer (network order value): compares with `===`, survives structured clone. */
export type Ipv4 = number & { readonly [ipv4Brand]: true };
/** A 48-bit MAC address as lowercase colon-separated hex (`02:00:5e:10:00:01`): compares with `===`. */
export type Mac = string & { readonly [macBrand]: true };

const DOTTED = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export const Ipv4 = {
  UNSPECIFIED: 0 as Ipv4,
  BROADCAST: 0xffffffff as Ipv4,

  /**
   * Parses strict dotted-quad text. Returns the address; throws AddressParseError.
   * Leading zeros are refused: inet_aton reads `010` as octal 8, so accepting it would be ambiguous.
   */
  parse(text: string): Ipv4 {
    const m = DOTTED.exec(text);
    if (!m) throw new AddressParseError('IPv4 address', text, 'expected four decimal numbers like 192.0.2.1');
    let value = 0;
    for (let i = 1; i <= 4; i++) {
      const part = m[i]!;
      const n = Number(part);
      if (n > 255) throw new AddressParseError('IPv4 address', text, `${part} is over 255`);
      if (part.length > 1 && part.startsWith('0')) throw new AddressParseError('IPv4 address', text, `leading zero in ${part}`);
      value = value * 256 + n;
    }
    return value as Ipv4;
  },

  /** Checks that `n` is a uint32 and brands it. Throws AddressParseError. */
  fromNumber(n: number): Ipv4 {
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new AddressParseError('IPv4 address', String(n), 'not a 32-bit unsigned integer');
    return n as Ipv4;
  },

  /** Reads four bytes at `offset`. Throws TruncatedError when they are not there. */
  fromBytes(bytes: Uint8Array, offset = 0): Ipv4 {
    if (offset < 0 || offset + 4 > bytes.length) throw new TruncatedError('ipv4 address', offset + 4, bytes.length);
    return readU32(bytes, offset) as Ipv4;
  },

  /** Writes four bytes at `offset`; the caller guarantees room (the codecs' writers check it once per header). */
  write(ip: Ipv4, bytes: Uint8Array, offset = 0): void {
    bytes[offset] = ip >>> 24;
    bytes[offset + 1] = (ip >>> 16) & 0xff;
    bytes[offset + 2] = (ip >>> 8) & 0xff;
    bytes[offset + 3] = ip & 0xff;
  },

  format(ip: Ipv4): string {
    return `${ip >>> 24}.${(ip >>> 16) & 0xff}.${(ip >>> 8) & 0xff}.${ip & 0xff}`;
  },

  isUnspecified: (ip: Ipv4): boolean => ip === 0,
  isBroadcast: (ip: Ipv4): boolean => ip === 0xffffffff,
  /** 224.0.0.0/4 */
  isMulticast: (ip: Ipv4): boolean => ip >>> 28 === 0xe,
  /** 127.0.0.0/8 */
  isLoopback: (ip: Ipv4): boolean => ip >>> 24 === 127,
  /** 169.254.0.0/16 (RFC 3927) */
  isLinkLocal: (ip: Ipv4): boolean => ip >>> 16 === 0xa9fe,
} as const;

const MAC_COLON = /^([0-9a-f]{1,2})[:-]([0-9a-f]{1,2})[:-]([0-9a-f]{1,2})[:-]([0-9a-f]{1,2})[:-]([0-9a-f]{1,2})[:-]([0-9a-f]{1,2})$/i;
const MAC_DOTTED = /^([0-9a-f]{4})\.([0-9a-f]{4})\.([0-9a-f]{4})$/i; // Cisco style aabb.ccdd.eeff
const MAC_BARE = /^[0-9a-f]{12}$/i;

/** How many MAC texts Mac.fromBytes keeps (~100 bytes each). */
const SEEN_MACS = 4096;
const seenMacs = new Map<number, Mac>();
// In front of seenMacs, the text it last gave for each value of a MAC's last 6 bits: a hit compares two int32s, where
// seenMacs's key (the 48 bits as one number) is a new HeapNumber per lookup. A sweep's replies name two MACs four
// times each (Ethernet and ARP, sender and target): ~18 of a /16 sweep's ~490 ms of main-thread samples went there.
const RECENT_MACS = 64;
const recentHi = new Int32Array(RECENT_MACS).fill(-1); // the first two bytes; -1: an empty slot
const recentLo = new Int32Array(RECENT_MACS); // the last four, as an int32
const recentText = new Array<Mac>(RECENT_MACS);

export const Mac = {
  BROADCAST: 'ff:ff:ff:ff:ff:ff' as Mac,
  ZERO: '00:00:00:00:00:00' as Mac,

  /**
   * Parses `aa:bb:cc:dd:ee:ff`, `aa-bb-cc-dd-ee-ff` (single-digit octets allowed, as `ip` prints none but users type them),
   * `aabb.ccdd.eeff` and bare `aabbccddeeff`, any case. Returns the canonical lowercase colon form; throws AddressParseError.
   */
  parse(text: string): Mac {
    let hex: string | undefined;
    const c = MAC_COLON.exec(text);
    if (c) hex = c.slice(1, 7).map((o) => o.padStart(2, '0')).join('');
    else if (MAC_DOTTED.test(text)) hex = text.replaceAll('.', '');
    else if (MAC_BARE.test(text)) hex = text;
    if (hex === undefined) throw new AddressParseError('MAC address', text, 'expected six hex octets like 02:00:5e:10:00:01');
    return hex.toLowerCase().replace(/(..)(?!$)/g, '$1:') as Mac;
  },

  /**
   * Reads six bytes at `offset`. Throws TruncatedError when they are not there. The texts of the addresses seen
   * lately are kept and handed out again: a link names few MACs over and over (a sweep's replies: the responders'
   * and ours), and one string less per address read is one less for the garbage collector on the event path.
   */
  fromBytes(bytes: Uint8Array, offset = 0): Mac {
    if (offset < 0 || offset + 6 > bytes.length) throw new TruncatedError('mac address', offset + 6, bytes.length);
    const hi = (bytes[offset]! << 8) | bytes[offset + 1]!;
    const lo = (bytes[offset + 2]! << 24) | (bytes[offset + 3]! << 16) | (bytes[offset + 4]! << 8) | bytes[offset + 5]!;
    const slot = lo & (RECENT_MACS - 1);
    if (recentHi[slot] === hi && recentLo[slot] === lo) return recentText[slot]!;
    const key = hi * 2 ** 32 + (lo >>> 0); // the 48 bits as one number (exact: below 2^53)
    let text = seenMacs.get(key);
    if (text === undefined) {
      if (seenMacs.size >= SEEN_MACS) seenMacs.clear(); // a flood of distinct addresses: start over, stay bounded
      text = macText(bytes, offset) as Mac;
      seenMacs.set(key, text);
    }
    recentHi[slot] = hi;
    recentLo[slot] = lo;
    recentText[slot] = text;
    return text;
  },

  /**
   * Writes six bytes at `offset` (the caller guarantees room). Allocates nothing: it reads the canonical
   * `aa:bb:..` text with charCodeAt, so the transmit path can call it per frame.
   */
  write(mac: Mac, bytes: Uint8Array, offset = 0): void {
    for (let i = 0; i < 6; i++) bytes[offset + i] = (nibble(mac.charCodeAt(i * 3)) << 4) | nibble(mac.charCodeAt(i * 3 + 1));
  },

  /** The six bytes as a new Uint8Array. */
  toBytes(mac: Mac): Uint8Array {
    const out = new Uint8Array(6);
    Mac.write(mac, out);
    return out;
  },

  isBroadcast: (mac: Mac): boolean => mac === 'ff:ff:ff:ff:ff:ff',
  isZero: (mac: Mac): boolean => mac === '00:00:00:00:00:00',
  /** The I/G bit (least significant bit of the first octet): group address, broadcast included. */
  isMulticast: (mac: Mac): boolean => (nibble(mac.charCodeAt(1)) & 0x01) !== 0,
  /** The U/L bit (second least significant bit of the first octet). */
  isLocallyAdministered: (mac: Mac): boolean => (nibble(mac.charCodeAt(1)) & 0x02) !== 0,
  /** A usable host address: not group, not all-zero. */
  isUnicast: (mac: Mac): boolean => !Mac.isMulticast(mac) && !Mac.isZero(mac),
} as const;

// One hex digit's value: '0'..'9' are 0x30..0x39, 'a'..'f' 0x61..0x66; `| 0x20` also folds 'A'..'F' (a Mac made
// with a cast instead of Mac.parse may be upper case).
function nibble(c: number): number {
  return c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57;
}
