import { writeU16 } from './bytes.js';
import { checksumSkipping, internetChecksum } from './checksum.js';
import { ChecksumError, InvalidFieldError, TruncatedError, UnsupportedError } from './error.js';

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

  /** Writes the message, checksum included, at the start of `packet` (whose length must be bufferLen). Never checks. */
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
 * checksum included. Allocates nothing. Returns the offset after it.
 */
export function writeIcmpEcho(bytes: Uint8Array, offset: number, type: IcmpEchoRepr['type'], id: number, seq: number, payload: Uint8Array): number {
  bytes[offset + F.TYPE] = type === 'request' ? IcmpType.EchoRequest : IcmpType.EchoReply;
  bytes[offset + F.CODE] = 0;
  writeU16(bytes, offset + F.ID, id);
  writeU16(bytes, offset + F.SEQ, seq);
  bytes.set(payload, offset + F.DATA);
  const end = offset + ICMP_HEADER_LEN + payload.length;
  writeU16(bytes, offset + F.CHECKSUM, checksumSkipping(bytes, offset, end, offset + F.CHECKSUM));
  return end;
}
