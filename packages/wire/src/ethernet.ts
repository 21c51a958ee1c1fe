import { Mac } from './address.js';
import { needRoom, readU16, writeU16 } from './bytes.js';
import { InvalidFieldError, TruncatedError } from './error.js';

/** EtherTypes this package knows (IEEE registry values). */
export const EtherType = {
  Ipv4: 0x0800,
  Arp: 0x0806,
  /** Reverse ARP (RFC 903): the ARP packet format under its own EtherType. */
  Rarp: 0x8035,
  /** IEEE 802.1Q customer VLAN tag. */
  Vlan: 0x8100,
  Ipv6: 0x86dd,
  /** IEEE 802.1ad service VLAN tag (Q-in-Q outer tag). */
  QinQ: 0x88a8,
  /** The pre-standard Q-in-Q tag some switches still send. */
  QinQLegacy: 0x9100,
} as const;
export type EtherType = (typeof EtherType)[keyof typeof EtherType];

/** The tag protocol identifiers that introduce a VLAN tag. */
export type VlanTpid = typeof EtherType.Vlan | typeof EtherType.QinQ | typeof EtherType.QinQLegacy;

/** Destination, source and type/length: 14 bytes. */
export const ETH_HEADER_LEN = 14;
/** One VLAN tag: TPID and TCI, 4 bytes. */
export const VLAN_TAG_LEN = 4;
/**
 * An IEEE 802.2 LLC header with a SNAP header as RFC 1042 puts IP and ARP in 802.3 frames: DSAP 0xaa, SSAP 0xaa,
 * control 0x03 (UI), OUI 00-00-00, then the EtherType: 8 bytes.
 */
export const SNAP_HEADER_LEN = 8;
/** The shortest frame on the wire without the FCS: 60 bytes (64 with it). Shorter frames are padded with zeroes. */
export const ETH_MIN_FRAME = 60;
/** The largest payload (and so the largest 802.3 length field): 1500 bytes. */
export const ETH_MTU = 1500;
/** The smallest EtherType: type/length values from here up name a protocol (IEEE 802.3 clause 3.2.6). */
export const ETHERTYPE_MIN = 0x0600;

/** True for 0x8100, 0x88a8 and 0x9100. */
export function isVlanTpid(type: number): type is VlanTpid {
  return type === EtherType.Vlan || type === EtherType.QinQ || type === EtherType.QinQLegacy;
}

/** An 802.1Q/802.1ad tag: the TPID and the three TCI fields. */
export interface VlanTag {
  readonly tpid: VlanTpid;
  /** Priority code point, 0..7. */
  readonly pcp: number;
  /** Drop eligible indicator (the former CFI bit). */
  readonly dei: boolean;
  /** VLAN id, 0..4095 (0: priority tag only; 4095 reserved). */
  readonly vid: number;
}

interface EthernetHeader {
  readonly dst: Mac;
  readonly src: Mac;
  /** Outermost first (an 802.1ad tag, then 802.1Q; any number). */
  readonly vlan: readonly VlanTag[];
}
/** An Ethernet II frame: the type field names the payload's protocol (≥ 0x0600, never a VLAN TPID). */
export interface Ethernet2Repr extends EthernetHeader {
  readonly kind: 'ethernet2';
  readonly etherType: number;
}
/** An IEEE 802.3 frame: the type field is the payload length (≤ 1500), the payload starts with an 802.2 LLC header. */
export interface Ieee8023Repr extends EthernetHeader {
  readonly kind: '802.3';
  readonly length: number;
}
/** An Ethernet header as a plain value: only valid headers can be written down. */
export type EthernetRepr = Ethernet2Repr | Ieee8023Repr;

const F = { DST: 0, SRC: 6, TYPE: 12 } as const;

/**
 * A view over an Ethernet frame in the caller's bytes (never copies). The header is 14 bytes plus 4 per VLAN tag;
 * `checked` proves the bytes hold it before any getter runs, `unchecked` is for emitting.
 */
export class EthernetFrame {
  readonly #dv: DataView;

  private constructor(readonly bytes: Uint8Array) {
    this.#dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Wraps bytes without looking at them (for emit: the caller guarantees room). */
  static unchecked(bytes: Uint8Array): EthernetFrame {
    return new EthernetFrame(bytes);
  }

  /** Wraps untrusted bytes. Returns the view; throws TruncatedError when the header (tags included) is cut short. */
  static checked(bytes: Uint8Array): EthernetFrame {
    const frame = new EthernetFrame(bytes);
    frame.checkLen();
    return frame;
  }

  /** Throws TruncatedError unless the whole header is present: every VLAN tag, and the type/length after them. */
  checkLen(): void {
    const len = this.bytes.length;
    if (len < ETH_HEADER_LEN) throw new TruncatedError('ethernet', ETH_HEADER_LEN, len);
    // Any number of tags (carrier links stack 802.1ad and 802.1Q three deep and more): the frame's length bounds it.
    for (let need = ETH_HEADER_LEN + VLAN_TAG_LEN; isVlanTpid(this.#dv.getUint16(need - VLAN_TAG_LEN - 2)); need += VLAN_TAG_LEN) {
      if (len < need) throw new TruncatedError('ethernet', need, len);
    }
  }

  get dst(): Mac {
    return Mac.fromBytes(this.bytes, F.DST);
  }
  set dst(mac: Mac) {
    Mac.write(mac, this.bytes, F.DST);
  }
  get src(): Mac {
    return Mac.fromBytes(this.bytes, F.SRC);
  }
  set src(mac: Mac) {
    Mac.write(mac, this.bytes, F.SRC);
  }

  /** The value at offset 12: an EtherType, a VLAN TPID or an 802.3 length. */
  get outerType(): number {
    return this.#dv.getUint16(F.TYPE);
  }

  /** How many VLAN tags precede the type/length field (after `checkLen`, all of them lie inside the bytes). */
  get vlanCount(): number {
    let tags = 0;
    while (isVlanTpid(this.#dv.getUint16(F.TYPE + tags * VLAN_TAG_LEN))) tags++;
    return tags;
  }

  /** Tag `i` (0 = outermost). The caller checks `i < vlanCount`. */
  vlanTag(i: number): VlanTag {
    const at = F.TYPE + i * VLAN_TAG_LEN;
    const tci = this.#dv.getUint16(at + 2);
    return { tpid: this.#dv.getUint16(at) as VlanTpid, pcp: tci >>> 13, dei: (tci & 0x1000) !== 0, vid: tci & 0x0fff };
  }

  /** The EtherType or 802.3 length after the tags. */
  get typeOrLength(): number {
    return this.#dv.getUint16(this.headerLen - 2);
  }

  /** 14 bytes plus 4 per VLAN tag. */
  get headerLen(): number {
    return ETH_HEADER_LEN + this.vlanCount * VLAN_TAG_LEN;
  }

  /** Everything after the header, padding and FCS included (a view, not a copy). */
  get payload(): Uint8Array {
    return this.bytes.subarray(this.headerLen);
  }
}

/** Where an Ethernet frame's network-layer packet is and what it is: see `ethernetPayload`. */
export interface EthernetPayload {
  /** The packet's EtherType (from the type field, or the SNAP header); an 802.3 frame's length when no SNAP header names one. */
  readonly type: number;
  /** The packet's offset in the frame. */
  readonly at: number;
  /** The outermost VLAN id; null when untagged. */
  readonly vlan: number | null;
  /** True when an RFC 1042 LLC/SNAP header in an 802.3 frame named the EtherType. */
  readonly snap: boolean;
}

/**
 * Finds the network-layer packet of an Ethernet frame: after any number of VLAN tags, and in an 802.3 frame after
 * an RFC 1042 LLC/SNAP header (as `arp-scan --llc` sends ARP). The one place the live decoder, the coordinator's
 * parser and `ersatz decode` read the link layer, so they agree on every frame. Throws TruncatedError when the
 * header is cut short, InvalidFieldError for a type/length in 1501..1535 (neither a length nor an EtherType).
 */
export function ethernetPayload(bytes: Uint8Array): EthernetPayload {
  const len = bytes.length;
  if (len < ETH_HEADER_LEN) throw new TruncatedError('ethernet', ETH_HEADER_LEN, len);
  let at = F.TYPE;
  let type = readU16(bytes, at);
  let vlan: number | null = null;
  while (isVlanTpid(type)) {
    at += VLAN_TAG_LEN;
    if (len < at + 2) throw new TruncatedError('ethernet', at + 2, len);
    vlan ??= readU16(bytes, at - 2) & 0x0fff;
    type = readU16(bytes, at);
  }
  at += 2;
  if (type >= ETHERTYPE_MIN) return { type, at, vlan, snap: false };
  if (type > ETH_MTU) throw new InvalidFieldError('ethernet', 'type/length', type, 'a length is ≤ 1500, an EtherType ≥ 1536');
  return type >= SNAP_HEADER_LEN && isRfc1042Snap(bytes, at) ? { type: readU16(bytes, at + 6), at: at + SNAP_HEADER_LEN, vlan, snap: true } : { type, at, vlan, snap: false };
}

/** True when the 8 bytes at `at` are an RFC 1042 LLC/SNAP header (AA AA 03 00 00 00, then an EtherType). */
export function isRfc1042Snap(bytes: Uint8Array, at: number): boolean {
  return bytes.length >= at + SNAP_HEADER_LEN && bytes[at] === 0xaa && bytes[at + 1] === 0xaa && bytes[at + 2] === 0x03 && bytes[at + 3] === 0 && bytes[at + 4] === 0 && bytes[at + 5] === 0;
}

export const EthernetRepr = {
  /**
   * Reads a checked frame. Returns the Repr; throws InvalidFieldError for a type/length in 1501..1535 (neither a
   * length nor an EtherType) and TruncatedError when an 802.3 length exceeds the bytes present. Trailing padding
   * and FCS are tolerated.
   */
  parse(frame: EthernetFrame): EthernetRepr {
    const tags = frame.vlanCount;
    const vlan: VlanTag[] = [];
    for (let i = 0; i < tags; i++) vlan.push(frame.vlanTag(i));
    const typeOrLength = frame.typeOrLength;
    const header = { dst: frame.dst, src: frame.src, vlan };
    if (typeOrLength >= ETHERTYPE_MIN) return { kind: 'ethernet2', ...header, etherType: typeOrLength };
    if (typeOrLength > ETH_MTU) throw new InvalidFieldError('ethernet', 'type/length', typeOrLength, 'a length is ≤ 1500, an EtherType ≥ 1536');
    const have = frame.bytes.length - frame.headerLen;
    if (typeOrLength > have) throw new TruncatedError('802.3 payload', typeOrLength, have);
    return { kind: '802.3', ...header, length: typeOrLength };
  },

  /**
   * Writes the header (tags included) at the start of `frame` and zero-pads a short frame to 60 bytes: the
   * `payloadLen` bytes after the header are the caller's (written before or after), the padding after them this
   * codec's. Returns the frame length to send, `max(header + payloadLen, 60)`; throws TruncatedError when the
   * buffer holds fewer bytes.
   */
  emit(repr: EthernetRepr, frame: EthernetFrame, payloadLen = 0): number {
    needRoom(frame.bytes, 0, Math.max(EthernetRepr.bufferLen(repr) + payloadLen, ETH_MIN_FRAME), 'ethernet');
    return padFrame(frame.bytes, writeEthernetHeader(repr, frame.bytes, 0) + payloadLen);
  },

  /** The header length the Repr needs: 14 bytes plus 4 per tag. */
  bufferLen(repr: EthernetRepr): number {
    return ETH_HEADER_LEN + repr.vlan.length * VLAN_TAG_LEN;
  },
} as const;

/** Writes the Repr's header at `offset` and returns the offset of the payload. Allocates nothing. Throws TruncatedError when it does not fit. */
export function writeEthernetHeader(repr: EthernetRepr, bytes: Uint8Array, offset: number): number {
  needRoom(bytes, offset, ETH_HEADER_LEN + repr.vlan.length * VLAN_TAG_LEN, 'ethernet');
  Mac.write(repr.dst, bytes, offset + F.DST);
  Mac.write(repr.src, bytes, offset + F.SRC);
  let at = offset + F.TYPE;
  // An index loop: for..of may allocate an iterator before the function is optimised.
  for (let i = 0; i < repr.vlan.length; i++) {
    const tag = repr.vlan[i]!;
    writeU16(bytes, at, tag.tpid);
    writeU16(bytes, at + 2, (tag.pcp << 13) | (tag.dei ? 0x1000 : 0) | tag.vid);
    at += VLAN_TAG_LEN;
  }
  writeU16(bytes, at, repr.kind === 'ethernet2' ? repr.etherType : repr.length);
  return at + 2;
}

/**
 * Zero-fills `[len, 60 + tagLen)` so a short frame meets the Ethernet minimum (the padding must not leak old buffer
 * contents onto the wire); `tagLen` counts VLAN tag bytes on top of the minimum. Returns the length to send:
 * `max(len, 60 + tagLen)`. Allocates nothing.
 */
export function padFrame(bytes: Uint8Array, len: number, tagLen = 0): number {
  const min = ETH_MIN_FRAME + tagLen;
  if (len >= min) return len;
  // A plain loop: at most 68 bytes, and Buffer overrides fill() with a slower, validating version.
  for (let i = len; i < min; i++) bytes[i] = 0;
  return min;
}
