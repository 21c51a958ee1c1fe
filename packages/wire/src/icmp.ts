import type { Ipv4 } from './address.js';
import { needRoom, readU32, writeU16 } from './bytes.js';
import { checksumSkipping, internetChecksum } from './checksum.js';
import { ChecksumError, InvalidFieldError, TruncatedError, UnsupportedError } from './error.js';
import { IPV4_HEADER_LEN, IpProtocol, Ipv4Packet, Ipv4Repr, writeIpv4Header } from './ipv4.js';

/** ICMPv4 message types (RFC 792) this package names. */
export const IcmpType = {
  EchoReply: 0,
  DestinationUnreachable: 3,
  Redirect: 5,
  EchoRequest: 8,
  TimeExceeded: 11,
  ParameterProblem: 12,
} as const;
export type IcmpType = (typeof IcmpType)[keyof typeof IcmpType];

/** Type, code, checksum and the 4-byte rest-of-header (identifier and sequence number for echo): 8 bytes. */
export const ICMP_HEADER_LEN = 8;

const F = { TYPE: 0, CODE: 1, CHECKSUM: 2, ID: 4, SEQ: 6, DATA: 8 } as const;

/** Options for reading a message. */
export interface IcmpParseOptions {
  /** Verify the checksum (default true). */
  readonly verifyChecksum?: boolean;
}

/**
 * A view over an ICMPv4 message in the caller's bytes (never copies); the bytes must be exactly the IP payload
 * (the checksum covers all of them). `id`/`seq` are the echo fields: other types use those 4 bytes differently.
 */
export class Icmpv4Packet {
  readonly #dv: DataView;

  private constructor(readonly bytes: Uint8Array) {
    this.#dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Wraps bytes without looking at them (for emit). */
  static unchecked(bytes: Uint8Array): Icmpv4Packet {
    return new Icmpv4Packet(bytes);
  }

  /** Wraps untrusted bytes. Returns the view; throws TruncatedError under 8 bytes. */
  static checked(bytes: Uint8Array): Icmpv4Packet {
    const packet = new Icmpv4Packet(bytes);
    packet.checkLen();
    return packet;
  }

  /** Throws TruncatedError unless the 8-byte header is present. */
  checkLen(): void {
    if (this.bytes.length < ICMP_HEADER_LEN) throw new TruncatedError('icmp', ICMP_HEADER_LEN, this.bytes.length);
  }

  get type(): number {
    return this.#dv.getUint8(F.TYPE);
  }
  get code(): number {
    return this.#dv.getUint8(F.CODE);
  }
  get checksum(): number {
    return this.#dv.getUint16(F.CHECKSUM);
  }
  /** Echo identifier. */
  get id(): number {
    return this.#dv.getUint16(F.ID);
  }
  /** Echo sequence number. */
  get seq(): number {
    return this.#dv.getUint16(F.SEQ);
  }
  /** The bytes after the 8-byte header (a view). */
  get data(): Uint8Array {
    return this.bytes.subarray(F.DATA);
  }

  /** True when the checksum over the whole message verifies. */
  verifyChecksum(): boolean {
    return internetChecksum(this.bytes) === 0;
  }

  /** The checksum the message should carry. */
  computeChecksum(): number {
    return checksumSkipping(this.bytes, 0, this.bytes.length, F.CHECKSUM);
  }

  /** Stores the computed checksum (call after the data is in place). */
  fillChecksum(): void {
    this.#dv.setUint16(F.CHECKSUM, this.computeChecksum());
  }
}

/** An ICMP echo request or reply (RFC 792) as a plain value. */
export type IcmpEchoRepr = {
  readonly type: 'request' | 'reply';
  readonly id: number;
  readonly seq: number;
  /** The echo data (a view into the packet when parsed). */
  readonly payload: Uint8Array;
};

export const IcmpEchoRepr = {
  /**
   * Reads a checked message. Returns the Repr; throws UnsupportedError for a type other than echo request (8) or
   * reply (0), InvalidFieldError for a code other than 0, ChecksumError when the checksum does not verify (unless
   * `verifyChecksum: false`).
   */
  parse(packet: Icmpv4Packet, opts: IcmpParseOptions = {}): IcmpEchoRepr {
    const type = packet.type;
    if (type !== IcmpType.EchoRequest && type !== IcmpType.EchoReply) throw new UnsupportedError('icmp', 'type', type);
    if (packet.code !== 0) throw new InvalidFieldError('icmp', 'echo code', packet.code, 'RFC 792 defines only 0');
    if (opts.verifyChecksum !== false && !packet.verifyChecksum()) throw new ChecksumError('icmp', packet.checksum, packet.computeChecksum());
    return { type: type === IcmpType.EchoRequest ? 'request' : 'reply', id: packet.id, seq: packet.seq, payload: packet.data };
  },

  /** Writes the message, checksum included, at the start of `packet`. Throws TruncatedError when it is shorter than bufferLen. */
  emit(repr: IcmpEchoRepr, packet: Icmpv4Packet): void {
    writeIcmpEcho(packet.bytes, 0, repr.type, repr.id, repr.seq, repr.payload);
  },

  /** 8 bytes of header plus the payload. */
  bufferLen(repr: IcmpEchoRepr): number {
    return ICMP_HEADER_LEN + repr.payload.length;
  },
} as const;

/**
 * Writes an echo message (the Repr's fields, passed one by one so callers need not build an object) at `offset`,
 * checksum included. Allocates nothing. Returns the offset after it. Throws TruncatedError when it does not fit.
 */
export function writeIcmpEcho(bytes: Uint8Array, offset: number, type: IcmpEchoRepr['type'], id: number, seq: number, payload: Uint8Array): number {
  needRoom(bytes, offset, ICMP_HEADER_LEN + payload.length, 'icmp');
  bytes[offset + F.TYPE] = type === 'request' ? IcmpType.EchoRequest : IcmpType.EchoReply;
  bytes[offset + F.CODE] = 0;
  writeU16(bytes, offset + F.ID, id);
  writeU16(bytes, offset + F.SEQ, seq);
  bytes.set(payload, offset + F.DATA);
  const end = offset + ICMP_HEADER_LEN + payload.length;
  writeU16(bytes, offset + F.CHECKSUM, checksumSkipping(bytes, offset, end, offset + F.CHECKSUM));
  return end;
}

/** The ICMPv4 error types (RFC 792) that quote the datagram they are about. */
export type IcmpErrorType = typeof IcmpType.DestinationUnreachable | typeof IcmpType.Redirect | typeof IcmpType.TimeExceeded | typeof IcmpType.ParameterProblem;

/** True for the types IcmpErrorRepr reads: Destination Unreachable, Redirect, Time Exceeded, Parameter Problem. */
export function isIcmpErrorType(type: number): type is IcmpErrorType {
  return type === IcmpType.DestinationUnreachable || type === IcmpType.Redirect || type === IcmpType.TimeExceeded || type === IcmpType.ParameterProblem;
}

/** RFC 792: an error quotes the datagram's IPv4 header and at least its first 8 payload bytes. */
export const ICMP_QUOTE_MIN_PAYLOAD = 8;

/** An ICMP error (RFC 792) as a plain value: what went wrong, and the datagram it is about. */
export type IcmpErrorRepr = {
  readonly type: IcmpErrorType;
  readonly code: number;
  /**
   * The 4 bytes after the checksum as one big-endian number: Redirect's gateway address, Fragmentation Needed's
   * next-hop MTU (low 16 bits, RFC 1191), Parameter Problem's pointer (top 8 bits); else 0.
   */
  readonly info: number;
  /** The quoted IPv4 header. Its `payloadLen` is the original datagram's, usually more than was quoted. */
  readonly quotedHeader: Ipv4Repr;
  /** The quoted payload bytes, at least 8 (a view into the packet when parsed). */
  readonly quotedPayload: Uint8Array;
};

export const IcmpErrorRepr = {
  /**
   * Reads a checked message. Returns the Repr; throws UnsupportedError for a type that is not an error
   * (isIcmpErrorType) or a quoted version other than 4, ChecksumError when the checksum does not verify (unless
   * `verifyChecksum: false`), TruncatedError when the quote is shorter than its header + 8 bytes, InvalidFieldError
   * for a quoted IHL under 5 or a total length shorter than the quoted header. The quoted header's own checksum is
   * not verified: the datagram is reported on, not delivered.
   */
  parse(packet: Icmpv4Packet, opts: IcmpParseOptions = {}): IcmpErrorRepr {
    const type = packet.type;
    if (!isIcmpErrorType(type)) throw new UnsupportedError('icmp', 'type', type);
    if (opts.verifyChecksum !== false && !packet.verifyChecksum()) throw new ChecksumError('icmp', packet.checksum, packet.computeChecksum());
    const quote = packet.data;
    if (quote.length < IPV4_HEADER_LEN) throw new TruncatedError('icmp quote', IPV4_HEADER_LEN + ICMP_QUOTE_MIN_PAYLOAD, quote.length);
    // Not Ipv4Packet.checked: the quote is cut short on purpose, so its total length exceeds the bytes present.
    const ip = Ipv4Packet.unchecked(quote);
    if (ip.version !== 4) throw new UnsupportedError('icmp quote', 'version', ip.version);
    if (ip.ihl < 5) throw new InvalidFieldError('icmp quote', 'IHL', ip.ihl, 'at least 5 words');
    const headerLen = ip.headerLen;
    if (quote.length < headerLen + ICMP_QUOTE_MIN_PAYLOAD) throw new TruncatedError('icmp quote', headerLen + ICMP_QUOTE_MIN_PAYLOAD, quote.length);
    if (ip.totalLength < headerLen) throw new InvalidFieldError('icmp quote', 'total length', ip.totalLength, `at least the header's ${headerLen} bytes`);
    const info = readU32(packet.bytes, F.ID);
    return { type, code: packet.code, info, quotedHeader: Ipv4Repr.parse(ip, { verifyChecksum: false }), quotedPayload: quote.subarray(headerLen) };
  },

  /**
   * Writes the message at the start of `packet` (whose length must be bufferLen): header, quoted IPv4 header (its
   * checksum computed afresh), quoted payload, then the ICMP checksum. Throws TruncatedError when it is shorter.
   */
  emit(repr: IcmpErrorRepr, packet: Icmpv4Packet): void {
    const b = packet.bytes;
    needRoom(b, 0, IcmpErrorRepr.bufferLen(repr), 'icmp');
    b[F.TYPE] = repr.type;
    b[F.CODE] = repr.code;
    writeU16(b, F.ID, repr.info >>> 16);
    writeU16(b, F.SEQ, repr.info & 0xffff);
    const at = writeIpv4Header(repr.quotedHeader, b, F.DATA);
    b.set(repr.quotedPayload, at);
    packet.fillChecksum();
  },

  /** 8 bytes of header, the quoted IPv4 header with its options, and the quoted payload. */
  bufferLen(repr: IcmpErrorRepr): number {
    return ICMP_HEADER_LEN + Ipv4Repr.bufferLen(repr.quotedHeader) + repr.quotedPayload.length;
  },
} as const;

/** The echo request an ICMP error quotes: whom it was from and to, and its identifier and sequence number. */
export interface QuotedEcho {
  readonly src: Ipv4;
  readonly dst: Ipv4;
  readonly id: number;
  readonly seq: number;
}

/**
 * Reads an ICMP error's data (the quoted datagram, `Icmpv4Packet.data`). Returns the echo request it quotes, or
 * null when it quotes anything else or too little to tell: not IPv4, not ICMP, a non-first fragment, not an echo
 * request, fewer than the quoted header + 8 bytes. Never throws, allocates only the result: the decode worker runs
 * it on every ICMP error it captures.
 */
export function quotedEcho(quote: Uint8Array): QuotedEcho | null {
  if (quote.length < IPV4_HEADER_LEN + ICMP_QUOTE_MIN_PAYLOAD) return null;
  const ip = Ipv4Packet.unchecked(quote);
  const headerLen = ip.headerLen;
  if (ip.version !== 4 || ip.ihl < 5 || quote.length < headerLen + ICMP_QUOTE_MIN_PAYLOAD) return null;
  if (ip.protocol !== IpProtocol.Icmp || ip.fragmentOffset !== 0) return null;
  const echo = Icmpv4Packet.unchecked(quote.subarray(headerLen));
  if (echo.type !== IcmpType.EchoRequest || echo.code !== 0) return null;
  return { src: ip.src, dst: ip.dst, id: echo.id, seq: echo.seq };
}
