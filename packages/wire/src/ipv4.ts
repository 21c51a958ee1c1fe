import { Ipv4 } from './address.js';
import { needRoom, writeU16 } from './bytes.js';
import { checksumSkipping, internetChecksum } from './checksum.js';
import { ChecksumError, InvalidFieldError, TruncatedError, UnsupportedError } from './error.js';

/** IP protocol numbers (IANA) this package names. */
export const IpProtocol = { Icmp: 1, Tcp: 6, Udp: 17 } as const;
export type IpProtocol = (typeof IpProtocol)[keyof typeof IpProtocol];

/** A header without options: 20 bytes. */
export const IPV4_HEADER_LEN = 20;
/** The longest header: IHL 15 words = 60 bytes (40 bytes of options). */
export const IPV4_MAX_HEADER_LEN = 60;
/** The largest datagram the 16-bit total length can describe. */
export const IPV4_MAX_TOTAL_LEN = 0xffff;
/** The TTL Linux uses by default (net.ipv4.ip_default_ttl). */
export const IPV4_DEFAULT_TTL = 64;

const F = { VER_IHL: 0, DSCP_ECN: 1, LENGTH: 2, IDENT: 4, FLG_OFF: 6, TTL: 8, PROTOCOL: 9, CHECKSUM: 10, SRC: 12, DST: 16, OPTIONS: 20 } as const;
const DF = 0x4000;
const MF = 0x2000;

/** Options for reading a header. */
export interface Ipv4ParseOptions {
  /** Verify the header checksum (default true). Turn off only for captures known to carry offloaded checksums. */
  readonly verifyChecksum?: boolean;
}

/**
 * A view over an IPv4 datagram in the caller's bytes (never copies). `checked` proves version 4, a sane IHL and a
 * total length the bytes hold; anything past the total length (Ethernet padding) is ignored.
 */
export class Ipv4Packet {
  readonly #dv: DataView;

  private constructor(readonly bytes: Uint8Array) {
    this.#dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Wraps bytes without looking at them (for emit). */
  static unchecked(bytes: Uint8Array): Ipv4Packet {
    return new Ipv4Packet(bytes);
  }

  /**
   * Wraps untrusted bytes. Returns the view; throws TruncatedError when the header or the datagram is cut short,
   * UnsupportedError for a version other than 4, InvalidFieldError for IHL < 5 or a total length shorter than the
   * header. `missing`: bytes a capture's snap length left out after `bytes` (default 0): the datagram may run that
   * far past them, and `payload` then holds the part captured.
   */
  static checked(bytes: Uint8Array, missing = 0): Ipv4Packet {
    const packet = new Ipv4Packet(bytes);
    packet.checkLen(missing);
    return packet;
  }

  /** The checks `checked` makes; see there. */
  checkLen(missing = 0): void {
    const len = this.bytes.length;
    if (len < IPV4_HEADER_LEN) throw new TruncatedError('ipv4', IPV4_HEADER_LEN, len);
    if (this.version !== 4) throw new UnsupportedError('ipv4', 'version', this.version);
    if (this.ihl < 5) throw new InvalidFieldError('ipv4', 'IHL', this.ihl, 'at least 5 words');
    const headerLen = this.headerLen;
    if (len < headerLen) throw new TruncatedError('ipv4', headerLen, len);
    const total = this.totalLength;
    if (total < headerLen) throw new InvalidFieldError('ipv4', 'total length', total, `at least the header's ${headerLen} bytes`);
    if (len + missing < total) throw new TruncatedError('ipv4', total, len + missing, missing > 0 ? 'frame on the wire' : undefined);
  }

  get version(): number {
    return this.#dv.getUint8(F.VER_IHL) >>> 4;
  }
  /** Header length in 32-bit words. */
  get ihl(): number {
    return this.#dv.getUint8(F.VER_IHL) & 0x0f;
  }
  /** Header length in bytes, options included. */
  get headerLen(): number {
    return this.ihl * 4;
  }
  get dscp(): number {
    return this.#dv.getUint8(F.DSCP_ECN) >>> 2;
  }
  get ecn(): number {
    return this.#dv.getUint8(F.DSCP_ECN) & 0x03;
  }
  /** Header plus payload in bytes. */
  get totalLength(): number {
    return this.#dv.getUint16(F.LENGTH);
  }
  get ident(): number {
    return this.#dv.getUint16(F.IDENT);
  }
  get dontFragment(): boolean {
    return (this.#dv.getUint16(F.FLG_OFF) & DF) !== 0;
  }
  get moreFragments(): boolean {
    return (this.#dv.getUint16(F.FLG_OFF) & MF) !== 0;
  }
  /** The fragment's offset in bytes (the field counts 8-byte units). */
  get fragmentOffset(): number {
    return (this.#dv.getUint16(F.FLG_OFF) & 0x1fff) * 8;
  }
  /** True for any piece of a fragmented datagram: more fragments follow, or this one does not start at 0. */
  get isFragment(): boolean {
    return (this.#dv.getUint16(F.FLG_OFF) & (MF | 0x1fff)) !== 0;
  }
  get ttl(): number {
    return this.#dv.getUint8(F.TTL);
  }
  get protocol(): number {
    return this.#dv.getUint8(F.PROTOCOL);
  }
  get checksum(): number {
    return this.#dv.getUint16(F.CHECKSUM);
  }
  get src(): Ipv4 {
    return this.#dv.getUint32(F.SRC) as Ipv4;
  }
  get dst(): Ipv4 {
    return this.#dv.getUint32(F.DST) as Ipv4;
  }
  /** The option bytes between byte 20 and the header's end (a view; empty without options). */
  get options(): Uint8Array {
    return this.bytes.subarray(F.OPTIONS, this.headerLen);
  }
  /** The bytes after the header up to the total length (a view: link padding excluded; of a packet cut by a snap length, the part captured). */
  get payload(): Uint8Array {
    return this.bytes.subarray(this.headerLen, this.totalLength);
  }

  /** True when the header checksum verifies. */
  verifyChecksum(): boolean {
    return internetChecksum(this.bytes, 0, this.headerLen) === 0;
  }

  /** The checksum the header should carry (computed as if the field were zero). */
  computeChecksum(): number {
    return computeHeaderChecksum(this.bytes, 0, this.headerLen);
  }

  /** Stores the computed checksum. */
  fillChecksum(): void {
    this.#dv.setUint16(F.CHECKSUM, this.computeChecksum());
  }
}

/** An IPv4 header as a plain value. The payload is not part of it, only its length. */
export type Ipv4Repr = {
  readonly src: Ipv4;
  readonly dst: Ipv4;
  /** The payload's protocol (IpProtocol or any other IANA number). */
  readonly protocol: number;
  readonly ttl: number;
  /** Payload bytes after the header (total length − header length). */
  readonly payloadLen: number;
  /** Differentiated services code point, 0..63. */
  readonly dscp: number;
  /** Explicit congestion notification, 0..3. */
  readonly ecn: number;
  readonly ident: number;
  readonly dontFragment: boolean;
  readonly moreFragments: boolean;
  /** In bytes, a multiple of 8. */
  readonly fragmentOffset: number;
  /** Raw option bytes, a multiple of 4 and at most 40 (empty for the usual 20-byte header). */
  readonly options: Uint8Array;
};

export const Ipv4Repr = {
  /**
   * Reads a checked packet. Returns the Repr (`options` is a view into the packet); throws ChecksumError when the
   * header checksum does not verify (unless `verifyChecksum: false`). Fragments parse; `isFragment` flags them.
   */
  parse(packet: Ipv4Packet, opts: Ipv4ParseOptions = {}): Ipv4Repr {
    if (opts.verifyChecksum !== false && !packet.verifyChecksum()) throw new ChecksumError('ipv4', packet.checksum, packet.computeChecksum());
    return {
      src: packet.src,
      dst: packet.dst,
      protocol: packet.protocol,
      ttl: packet.ttl,
      payloadLen: packet.totalLength - packet.headerLen,
      dscp: packet.dscp,
      ecn: packet.ecn,
      ident: packet.ident,
      dontFragment: packet.dontFragment,
      moreFragments: packet.moreFragments,
      fragmentOffset: packet.fragmentOffset,
      options: packet.options,
    };
  },

  /** Writes the header (options and checksum included) at the start of `packet`; the payload is the caller's. Throws TruncatedError when it does not fit. */
  emit(repr: Ipv4Repr, packet: Ipv4Packet): void {
    writeIpv4Header(repr, packet.bytes, 0);
  },

  /** The header length: 20 bytes plus the options. */
  bufferLen(repr: Ipv4Repr): number {
    return IPV4_HEADER_LEN + repr.options.length;
  },

  /** True for any piece of a fragmented datagram (its payload is not a whole upper-layer packet). */
  isFragment(repr: Ipv4Repr): boolean {
    return repr.moreFragments || repr.fragmentOffset !== 0;
  },
} as const;

/** Writes the header at `offset`, checksum included. Allocates nothing. Returns the offset of the payload. Throws TruncatedError when it does not fit. */
export function writeIpv4Header(repr: Ipv4Repr, bytes: Uint8Array, offset: number): number {
  const headerLen = IPV4_HEADER_LEN + repr.options.length;
  needRoom(bytes, offset, headerLen, 'ipv4');
  bytes[offset + F.VER_IHL] = 0x40 | (headerLen >>> 2);
  bytes[offset + F.DSCP_ECN] = (repr.dscp << 2) | repr.ecn;
  writeU16(bytes, offset + F.LENGTH, headerLen + repr.payloadLen);
  writeU16(bytes, offset + F.IDENT, repr.ident);
  writeU16(bytes, offset + F.FLG_OFF, (repr.dontFragment ? DF : 0) | (repr.moreFragments ? MF : 0) | (repr.fragmentOffset >>> 3));
  bytes[offset + F.TTL] = repr.ttl;
  bytes[offset + F.PROTOCOL] = repr.protocol;
  Ipv4.write(repr.src, bytes, offset + F.SRC);
  Ipv4.write(repr.dst, bytes, offset + F.DST);
  bytes.set(repr.options, offset + F.OPTIONS);
  writeU16(bytes, offset + F.CHECKSUM, computeHeaderChecksum(bytes, offset, offset + headerLen));
  return offset + headerLen;
}

/**
 * Writes the usual header for a locally built datagram at `offset`: 20 bytes, no options, DSCP/ECN 0, DF set and
 * identification 0 (RFC 6864 lets an atomic datagram carry any identification), checksum included. Allocates
 * nothing. Returns the offset of the payload. Throws TruncatedError when the header does not fit.
 *
 * The addresses come inside an object on purpose: one above 2^31 is a double, and a double handed to a call V8
 * did not inline is boxed in a new HeapNumber; read from the object here, they stay unboxed.
 */
export function writeBasicIpv4Header(bytes: Uint8Array, offset: number, addrs: { readonly ipSrc: Ipv4; readonly ipDst: Ipv4 }, protocol: number, ttl: number, payloadLen: number): number {
  needRoom(bytes, offset, IPV4_HEADER_LEN, 'ipv4');
  bytes[offset + F.VER_IHL] = 0x45;
  bytes[offset + F.DSCP_ECN] = 0;
  writeU16(bytes, offset + F.LENGTH, IPV4_HEADER_LEN + payloadLen);
  writeU16(bytes, offset + F.IDENT, 0);
  writeU16(bytes, offset + F.FLG_OFF, DF);
  bytes[offset + F.TTL] = ttl;
  bytes[offset + F.PROTOCOL] = protocol;
  const src = addrs.ipSrc;
  bytes[offset + F.SRC] = src >>> 24;
  bytes[offset + F.SRC + 1] = (src >>> 16) & 0xff;
  bytes[offset + F.SRC + 2] = (src >>> 8) & 0xff;
  bytes[offset + F.SRC + 3] = src & 0xff;
  const dst = addrs.ipDst;
  bytes[offset + F.DST] = dst >>> 24;
  bytes[offset + F.DST + 1] = (dst >>> 16) & 0xff;
  bytes[offset + F.DST + 2] = (dst >>> 8) & 0xff;
  bytes[offset + F.DST + 3] = dst & 0xff;
  writeU16(bytes, offset + F.CHECKSUM, computeHeaderChecksum(bytes, offset, offset + IPV4_HEADER_LEN));
  return offset + IPV4_HEADER_LEN;
}

function computeHeaderChecksum(bytes: Uint8Array, start: number, end: number): number {
  return checksumSkipping(bytes, start, end, start + F.CHECKSUM);
}
