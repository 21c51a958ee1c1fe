// The netlink framing layer: `struct nlmsghdr`, `struct nlmsgerr` and `struct rtattr` TLVs.
// Netlink integers are in host byte order (the kernel and its socket share a CPU); addresses inside
// attributes are in network order. Every message and attribute starts on a 4-byte boundary.
import { endianness } from 'node:os';
import { Nlmsg, NlmF, NlmsgerrAttr } from './constants.js';
import { NetlinkMalformedError, NetlinkTruncatedError } from './error.js';

/** Host byte order, which netlink uses for every integer it defines. */
export const LE = endianness() === 'LE';

/** NLMSG_ALIGN / RTA_ALIGN: round up to 4 bytes. */
export const align = (n: number): number => (n + 3) & ~3;

// One DataView per output buffer, kept while the same buffer is being filled (a batch emits thousands of messages).
let lastOut: Uint8Array | undefined;
let lastView: DataView | undefined;
/** A DataView over all of `out` (respecting its byteOffset), reused for consecutive calls on the same buffer. */
export function dataView(out: Uint8Array): DataView {
  if (out !== lastOut || lastView === undefined) {
    lastOut = out;
    lastView = new DataView(out.buffer, out.byteOffset, out.byteLength);
  }
  return lastView;
}

/** `struct nlmsghdr` offsets (16 bytes). */
export const Hdr = { LEN: 0, TYPE: 4, FLAGS: 6, SEQ: 8, PID: 12, SIZE: 16 } as const;

/** The header fields of one message (`nlmsg_len` is derived from the payload). */
export interface NetlinkHeaderRepr {
  /** `nlmsg_type`: NLMSG_* control types below 16, RTM_* above. */
  readonly type: number;
  /** `nlmsg_flags`: NLM_F_* bits. */
  readonly flags: number;
  /** `nlmsg_seq`: echoed in answers, so a request can find its replies. */
  readonly seq: number;
  /** `nlmsg_pid`: the sender's port id (0 = the kernel). */
  readonly pid: number;
}

/** One message: its header and its payload (a view into the datagram, not a copy). */
export interface NetlinkMessageRepr extends NetlinkHeaderRepr {
  readonly payload: Uint8Array;
}

/** A view over one `nlmsghdr` and what follows. Untrusted input goes through `checked`. */
export class NetlinkMessage {
  readonly #dv: DataView;
  private constructor(readonly bytes: Uint8Array) {
    this.#dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  /** For emit: no length checks. */
  static unchecked(bytes: Uint8Array): NetlinkMessage {
    return new NetlinkMessage(bytes);
  }
  /** For input: throws NetlinkTruncatedError / NetlinkMalformedError unless `nlmsg_len` fits the bytes. */
  static checked(bytes: Uint8Array): NetlinkMessage {
    const m = new NetlinkMessage(bytes);
    m.checkLen();
    return m;
  }
  checkLen(): void {
    if (this.bytes.length < Hdr.SIZE) throw new NetlinkTruncatedError('nlmsghdr', Hdr.SIZE, this.bytes.length);
    const len = this.length;
    if (len < Hdr.SIZE) throw new NetlinkMalformedError('nlmsghdr', `nlmsg_len ${len} is under the ${Hdr.SIZE}-byte header`);
    if (len > this.bytes.length) throw new NetlinkTruncatedError('nlmsghdr', len, this.bytes.length);
  }
  get length(): number {
    return this.#dv.getUint32(Hdr.LEN, LE);
  }
  get type(): number {
    return this.#dv.getUint16(Hdr.TYPE, LE);
  }
  get flags(): number {
    return this.#dv.getUint16(Hdr.FLAGS, LE);
  }
  get seq(): number {
    return this.#dv.getUint32(Hdr.SEQ, LE);
  }
  get pid(): number {
    return this.#dv.getUint32(Hdr.PID, LE);
  }
  get payload(): Uint8Array {
    return this.bytes.subarray(Hdr.SIZE, this.length);
  }
  set length(v: number) {
    this.#dv.setUint32(Hdr.LEN, v, LE);
  }
  set type(v: number) {
    this.#dv.setUint16(Hdr.TYPE, v, LE);
  }
  set flags(v: number) {
    this.#dv.setUint16(Hdr.FLAGS, v, LE);
  }
  set seq(v: number) {
    this.#dv.setUint32(Hdr.SEQ, v, LE);
  }
  set pid(v: number) {
    this.#dv.setUint32(Hdr.PID, v, LE);
  }

  /** Checks and reads one message at the start of `bytes`. Throws NetlinkTruncatedError, NetlinkMalformedError. */
  static parse(bytes: Uint8Array): NetlinkMessageRepr {
    const m = NetlinkMessage.checked(bytes);
    return { type: m.type, flags: m.flags, seq: m.seq, pid: m.pid, payload: m.payload };
  }

  /** Writes the 16-byte header for a payload of `payloadLen` bytes at `offset` (the caller guarantees room). */
  static emitHeader(repr: NetlinkHeaderRepr, payloadLen: number, out: Uint8Array, offset = 0): void {
    const dv = dataView(out);
    dv.setUint32(offset + Hdr.LEN, Hdr.SIZE + payloadLen, LE);
    dv.setUint16(offset + Hdr.TYPE, repr.type, LE);
    dv.setUint16(offset + Hdr.FLAGS, repr.flags, LE);
    dv.setUint32(offset + Hdr.SEQ, repr.seq, LE);
    dv.setUint32(offset + Hdr.PID, repr.pid, LE);
  }
}

/**
 * Splits one datagram (what one recv returned) into its messages, in order.
 * Throws NetlinkTruncatedError / NetlinkMalformedError when a header or a length does not fit.
 */
export function parseDatagram(bytes: Uint8Array): NetlinkMessageRepr[] {
  const out: NetlinkMessageRepr[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const m = NetlinkMessage.parse(bytes.subarray(offset));
    out.push(m);
    // The kernel pads every message but may omit the last one's padding.
    offset += align(Hdr.SIZE + m.payload.length);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// struct nlmsgerr: { int error; struct nlmsghdr msg; [echoed payload unless capped]; [extended-ACK TLVs] }

/** `struct nlmsgerr` offsets. */
export const Err = { ERROR: 0, MSG: 4, SIZE: 20 } as const;

/** An NLMSG_ERROR message: an ACK (`error` 0) or a refusal (`error` = -errno) of the request in `request`. */
export interface NetlinkAckRepr {
  /** 0 for an ACK, a negative errno for a refusal (as the kernel sends it). */
  readonly error: number;
  /** The header of the request this answers. */
  readonly request: NetlinkHeaderRepr & { readonly length: number };
  /** NLMSGERR_ATTR_MSG: the kernel's explanation, when extended ACKs are on and it gave one. */
  readonly message?: string;
  /** NLMSGERR_ATTR_OFFS: the byte offset of the offending attribute inside the request. */
  readonly offset?: number;
}

const decoder = new TextDecoder();

/** Text up to the first NUL (netlink strings carry one). */
export function cString(bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  return decoder.decode(nul < 0 ? bytes : bytes.subarray(0, nul));
}

export const NetlinkAck = {
  /**
   * Reads the payload of an NLMSG_ERROR message; `flags` are that message's header flags (they say whether the
   * request is echoed in full and whether TLVs follow). Throws NetlinkTruncatedError.
   */
  parse(payload: Uint8Array, flags: number): NetlinkAckRepr {
    if (payload.length < Err.SIZE) throw new NetlinkTruncatedError('nlmsgerr', Err.SIZE, payload.length);
    const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    const req = NetlinkMessage.unchecked(payload.subarray(Err.MSG, Err.SIZE));
    const request = { length: req.length, type: req.type, flags: req.flags, seq: req.seq, pid: req.pid };
    const error = dv.getInt32(Err.ERROR, LE);
    if (error > 0) throw new NetlinkMalformedError('nlmsgerr', `error ${error} is positive (the kernel sends -errno)`);
    let message: string | undefined;
    let offset: number | undefined;
    if (flags & NlmF.ACK_TLVS) {
      // Capped ACKs echo only the header; full ones echo the whole request before the TLVs.
      const start = Err.MSG + align(flags & NlmF.CAPPED ? Hdr.SIZE : Math.max(Hdr.SIZE, request.length));
      if (start <= payload.length) {
        const attrs = parseAttributes(payload.subarray(start), 'nlmsgerr attributes');
        const msg = attrs.get(NlmsgerrAttr.MSG);
        if (msg) message = cString(msg);
        const offs = attrs.get(NlmsgerrAttr.OFFS);
        if (offs && offs.length >= 4) offset = new DataView(offs.buffer, offs.byteOffset, 4).getUint32(0, LE);
      }
    }
    return { error, request, ...(message !== undefined && { message }), ...(offset !== undefined && { offset }) };
  },

  /** Bytes `emit` writes: the capped form, the header of the request and no TLVs. */
  bufferLen: (): number => Err.SIZE,

  /** Writes a capped ACK/refusal payload (no echoed request body, no TLVs) at `offset`. */
  emit(repr: NetlinkAckRepr, out: Uint8Array, offset = 0): void {
    new DataView(out.buffer, out.byteOffset + offset, Err.SIZE).setInt32(Err.ERROR, repr.error, LE);
    NetlinkMessage.emitHeader(repr.request, repr.request.length - Hdr.SIZE, out, offset + Err.MSG);
  },
};

/** A refusal in a batch: `index` is the request's position in the batch, `errno` the kernel's (positive) answer. */
export interface BatchAnswer {
  readonly index: number;
  readonly errno: number;
  readonly extack?: string;
}

/**
 * Reads the NLMSG_ERROR answers in one datagram to a batch of `count` requests with consecutive sequence numbers
 * from `firstSeq`: pushes each refusal onto `refused` and returns whether the last request's answer (ACK or
 * refusal) was among them. Answers to other requests are skipped. Reads in place, without an object per ACK: a
 * batch gets thousands. Throws NetlinkTruncatedError / NetlinkMalformedError for a message that does not fit.
 */
export function collectAcks(datagram: Uint8Array, firstSeq: number, count: number, refused: BatchAnswer[]): boolean {
  const dv = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  const last = count - 1;
  let done = false;
  for (let at = 0; at < datagram.length; ) {
    if (datagram.length - at < Hdr.SIZE) throw new NetlinkTruncatedError('nlmsghdr', at + Hdr.SIZE, datagram.length);
    const len = dv.getUint32(at + Hdr.LEN, LE);
    if (len < Hdr.SIZE) throw new NetlinkMalformedError('nlmsghdr', `nlmsg_len ${len} at offset ${at} is under the ${Hdr.SIZE}-byte header`);
    if (at + len > datagram.length) throw new NetlinkTruncatedError('nlmsghdr', at + len, datagram.length);
    if (dv.getUint16(at + Hdr.TYPE, LE) === Nlmsg.ERROR) {
      if (len - Hdr.SIZE < Err.SIZE) throw new NetlinkTruncatedError('nlmsgerr', Err.SIZE, len - Hdr.SIZE);
      // The answer names its request by the sequence number echoed in the embedded header (unsigned wrap-around).
      const index = (dv.getUint32(at + Hdr.SIZE + Err.MSG + Hdr.SEQ, LE) - firstSeq) >>> 0;
      if (index <= last) {
        const error = dv.getInt32(at + Hdr.SIZE + Err.ERROR, LE);
        if (error !== 0) {
          const ack = NetlinkAck.parse(datagram.subarray(at + Hdr.SIZE, at + len), dv.getUint16(at + Hdr.FLAGS, LE));
          refused.push({ index, errno: -error, ...(ack.message !== undefined && { extack: ack.message }) });
        }
        if (index === last) done = true;
      }
    }
    at += align(len);
  }
  return done;
}

/** Whether `type` is a control message (NLMSG_NOOP/ERROR/DONE/OVERRUN) rather than a protocol message. */
export const isControl = (type: number): boolean => type < 0x10;
export { Nlmsg };

// ---------------------------------------------------------------------------------------------------------------
// struct rtattr / struct nlattr: { u16 len; u16 type; value; pad to 4 }

/** `rta_len`/`rta_type` offsets (4-byte header). */
export const Attr = { LEN: 0, TYPE: 2, SIZE: 4 } as const;
/** NLA_F_NESTED | NLA_F_NET_BYTEORDER: flag bits in the type field, not part of the type. */
export const NLA_TYPE_MASK = 0x3fff;

/** One attribute as emitted: its type and its value bytes (padding is added on emit). */
export interface AttributeRepr {
  readonly type: number;
  readonly value: Uint8Array;
}

/**
 * Reads a run of attributes into a map type → value (a view, not a copy; when a type repeats, the last wins,
 * as the kernel's own nla_parse does). `layer` names the enclosing structure in errors.
 * Throws NetlinkTruncatedError / NetlinkMalformedError for an attribute whose length does not fit.
 */
export function parseAttributes(bytes: Uint8Array, layer = 'rtattr'): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  for (const a of attributes(bytes, layer)) out.set(a.type, a.value);
  return out;
}

/** The attributes of a run, in order (for repeated or nested ones). Throws as `parseAttributes`. */
export function* attributes(bytes: Uint8Array, layer = 'rtattr'): Generator<AttributeRepr> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < Attr.SIZE) throw new NetlinkTruncatedError(layer, offset + Attr.SIZE, bytes.length);
    const len = dv.getUint16(offset + Attr.LEN, LE);
    if (len < Attr.SIZE) throw new NetlinkMalformedError(layer, `attribute length ${len} at offset ${offset} is under the ${Attr.SIZE}-byte header`);
    if (offset + len > bytes.length) throw new NetlinkTruncatedError(layer, offset + len, bytes.length);
    yield { type: dv.getUint16(offset + Attr.TYPE, LE) & NLA_TYPE_MASK, value: bytes.subarray(offset + Attr.SIZE, offset + len) };
    offset += align(len);
  }
}

/** Bytes a run of attributes takes, padding included. */
export function attributesLen(attrs: readonly AttributeRepr[]): number {
  let n = 0;
  for (const a of attrs) n += align(Attr.SIZE + a.value.length);
  return n;
}

/** Writes the attributes at `offset`, zeroing padding; returns the offset after them. The caller guarantees room. */
export function emitAttributes(attrs: readonly AttributeRepr[], out: Uint8Array, offset: number): number {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (const a of attrs) {
    const len = Attr.SIZE + a.value.length;
    dv.setUint16(offset + Attr.LEN, len, LE);
    dv.setUint16(offset + Attr.TYPE, a.type, LE);
    out.set(a.value, offset + Attr.SIZE);
    out.fill(0, offset + len, offset + align(len));
    offset += align(len);
  }
  return offset;
}

/** Attribute value helpers: netlink integers are host order, addresses network order. */
export const Value = {
  u32(v: number): Uint8Array {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, LE);
    return b;
  },
  /** A NUL-terminated string. */
  string(s: string): Uint8Array {
    const text = new TextEncoder().encode(s);
    const b = new Uint8Array(text.length + 1);
    b.set(text);
    return b;
  },
  /** Reads a host-order u32; throws NetlinkMalformedError unless the value is exactly 4 bytes. */
  readU32(v: Uint8Array, layer: string, what: string): number {
    if (v.length !== 4) throw new NetlinkMalformedError(layer, `${what} is ${v.length} bytes, expected 4`);
    return new DataView(v.buffer, v.byteOffset, 4).getUint32(0, LE);
  },
};
