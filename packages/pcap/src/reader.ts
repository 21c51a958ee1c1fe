import { PcapMagicError, PcapMalformedError, PcapTruncatedError, PcapUnsupportedError } from './error.js';

/** One captured frame. `data` is a view into the bytes given to the reader (no copy): copy it to keep it past them. */
export interface PcapRecord {
  /**
   * Capture time in nanoseconds since the Unix epoch. pcapng Simple Packet Blocks carry no timestamp:
   * they read as `0n`, as libpcap reads them.
   */
  readonly tsNs: bigint;
  /** Bytes captured (`data.length`). */
  readonly caplen: number;
  /** Bytes the frame had on the wire; more than `caplen` when the snap length cut it. */
  readonly origlen: number;
  /** LINKTYPE_ value of the interface that captured it (1 = Ethernet): see `LinkType`. */
  readonly linktype: number;
  readonly data: Uint8Array;
  /** Index of the pcapng Interface Description Block in its section; always 0 for classic pcap. */
  readonly interfaceId: number;
  /** That interface's name (pcapng `if_name`, `eth0`), when the capture gives one. */
  readonly interfaceName?: string;
}

/** What the file header says. */
export type PcapFormat =
  | {
      readonly kind: 'pcap';
      readonly littleEndian: boolean;
      /** Nanosecond magic 0xa1b23c4d (else microseconds). */
      readonly nanosecond: boolean;
      readonly version: string;
      readonly snaplen: number;
      readonly linktype: number;
    }
  | {
      readonly kind: 'pcapng';
      /** Byte order of the first section (each section may have its own). */
      readonly littleEndian: boolean;
      readonly version: string;
    };

/** The records of one capture file, read lazily: iterate it (more than once if you like). */
export interface PcapReader extends Iterable<PcapRecord> {
  readonly format: PcapFormat;
  /** The bytes the records are views into. */
  readonly bytes: Uint8Array;
}

const PCAP_US = 0xa1b2c3d4;
const PCAP_NS = 0xa1b23c4d;
export const PCAP_HEADER = 24;
const RECORD_HEADER = 16;
/** libpcap refuses records over max(snaplen, 256 KiB): beyond that a length is garbage, not a big frame. */
const MAX_SNAPLEN = 262_144;
const NS_PER_S = 1_000_000_000n;

const Block = { SHB: 0x0a0d0d0a, IDB: 1, OPB: 2, SPB: 3, EPB: 6 } as const;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const Option = { END: 0, IF_NAME: 2, IF_TSRESOL: 9, IF_TSOFFSET: 14 } as const;

/** Whether `bytes` start with a pcapng Section Header Block's type (the same in both byte orders). */
export function startsPcapng(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, false) === Block.SHB;
}

/**
 * Reads a classic pcap (either byte order, microsecond or nanosecond magic) or pcapng file held in `bytes`.
 * The file header (pcapng: the first Section Header Block) is checked now; records are parsed as you iterate.
 *
 * Throws now: PcapMagicError (neither format), PcapTruncatedError (header cut short), PcapUnsupportedError (pcap major
 * version other than 2, pcapng other than 1). Iteration throws PcapTruncatedError when the file ends inside a record
 * or block, after yielding every complete record before it, and PcapMalformedError for lengths that contradict the
 * format. pcapng blocks other than SHB/IDB/EPB/SPB/OPB (name resolution, statistics, custom, ...) are skipped.
 */
export function readPcap(bytes: Uint8Array): PcapReader {
  if (bytes.length < 4) throw new PcapTruncatedError('file header', 0, 4, bytes.length);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = dv.getUint32(0, false);
  if (startsPcapng(bytes)) {
    const section = readSectionHeader(bytes, dv, 0);
    const format = { kind: 'pcapng', littleEndian: section.littleEndian, version: section.version } as const;
    return { format, bytes, [Symbol.iterator]: () => pcapngRecords(bytes, dv) };
  }
  const littleEndian = magic === swap32(PCAP_US) || magic === swap32(PCAP_NS);
  const nanosecond = magic === PCAP_NS || magic === swap32(PCAP_NS);
  if (!littleEndian && magic !== PCAP_US && magic !== PCAP_NS) throw new PcapMagicError(magic);
  if (bytes.length < PCAP_HEADER) throw new PcapTruncatedError('pcap file header', 0, PCAP_HEADER, bytes.length);
  const major = dv.getUint16(4, littleEndian);
  const version = `${major}.${dv.getUint16(6, littleEndian)}`;
  if (major !== 2) throw new PcapUnsupportedError('pcap version', version);
  const snaplen = dv.getUint32(16, littleEndian);
  // The upper bits carry FCS-length flags (LT_FCS_LENGTH_PRESENT); libpcap's LT_LINKTYPE keeps the low 26.
  const linktype = dv.getUint32(20, littleEndian) & 0x03ff_ffff;
  const format = { kind: 'pcap', littleEndian, nanosecond, version, snaplen, linktype } as const;
  return { format, bytes, [Symbol.iterator]: () => pcapRecords(bytes, dv, format) };
}

function* pcapRecords(bytes: Uint8Array, dv: DataView, f: ClassicFormat): Generator<PcapRecord, void, undefined> {
  yield* classicRecords(bytes, dv, f, PCAP_HEADER, 0, false);
}

/** What a classic pcap file's header says that its records need. */
export type ClassicFormat = { readonly littleEndian: boolean; readonly nanosecond: boolean; readonly snaplen: number; readonly linktype: number };

/**
 * The records of `bytes[start..]`, classic pcap. `base`: where `bytes` starts in the file (for the offsets errors
 * name). `more`: the file goes on past `bytes`, so a record cut at the end is not an error: the generator returns its
 * offset (for the caller to read on from there) instead of throwing PcapTruncatedError.
 */
export function* classicRecords(bytes: Uint8Array, dv: DataView, f: ClassicFormat, start: number, base: number, more: boolean): Generator<PcapRecord, number, undefined> {
  const le = f.littleEndian;
  const fracToNs = f.nanosecond ? 1 : 1000;
  const maxCaplen = Math.max(f.snaplen, MAX_SNAPLEN);
  let off = start;
  for (; off < bytes.length; ) {
    const have = bytes.length - off;
    if (have < RECORD_HEADER) {
      if (more) return off;
      throw new PcapTruncatedError('record header', base + off, RECORD_HEADER, have);
    }
    const caplen = dv.getUint32(off + 8, le);
    if (caplen > maxCaplen) throw new PcapMalformedError('record', base + off, `captured length ${caplen} is over the maximum ${maxCaplen}`);
    if (have < RECORD_HEADER + caplen) {
      if (more) return off;
      throw new PcapTruncatedError('record', base + off, RECORD_HEADER + caplen, have);
    }
    const data = off + RECORD_HEADER;
    yield {
      tsNs: BigInt(dv.getUint32(off, le)) * NS_PER_S + BigInt(dv.getUint32(off + 4, le) * fracToNs),
      caplen,
      origlen: dv.getUint32(off + 12, le),
      linktype: f.linktype,
      data: bytes.subarray(data, data + caplen),
      interfaceId: 0,
    };
    off = data + caplen;
  }
  return off;
}

interface Interface {
  readonly linktype: number;
  readonly snaplen: number;
  readonly name: string | undefined;
  /** Timestamp units (per if_tsresol) to nanoseconds since the epoch (per if_tsoffset). */
  readonly toNs: (units: bigint) => bigint;
}

/** Reads the SHB at `off`: the byte-order magic decides how every other field of the section is read. */
function readSectionHeader(bytes: Uint8Array, dv: DataView, off: number): { littleEndian: boolean; version: string } {
  const have = bytes.length - off;
  // type, length, byte-order magic, major, minor, section length (64 bits), trailing length.
  if (have < 28) throw new PcapTruncatedError('pcapng section header', off, 28, have);
  const bom = dv.getUint32(off + 8, false);
  if (bom !== BYTE_ORDER_MAGIC && bom !== swap32(BYTE_ORDER_MAGIC)) {
    throw new PcapMalformedError('pcapng section header', off, `byte-order magic 0x${bom.toString(16).padStart(8, '0')} is neither 0x1a2b3c4d nor 0x4d3c2b1a`);
  }
  const littleEndian = bom !== BYTE_ORDER_MAGIC;
  const major = dv.getUint16(off + 12, littleEndian);
  const version = `${major}.${dv.getUint16(off + 14, littleEndian)}`;
  if (major !== 1) throw new PcapUnsupportedError('pcapng version', version);
  return { littleEndian, version };
}

function* pcapngRecords(bytes: Uint8Array, dv: DataView): Generator<PcapRecord, void, undefined> {
  let le = true;
  let interfaces: Interface[] = [];
  for (let off = 0; off < bytes.length; ) {
    const have = bytes.length - off;
    if (have < 12) throw new PcapTruncatedError('pcapng block', off, 12, have);
    // The SHB type reads the same in both byte orders, so a new section is recognised before its order is known.
    const type = dv.getUint32(off, le);
    if (type === Block.SHB) {
      le = readSectionHeader(bytes, dv, off).littleEndian;
      interfaces = []; // interface ids are per section
    }
    const length = dv.getUint32(off + 4, le);
    if (length < 12 || length % 4 !== 0) throw new PcapMalformedError('pcapng block', off, `length ${length} is not a multiple of 4 of at least 12`);
    if (type === Block.SHB && length < 28) throw new PcapMalformedError('pcapng section header', off, `length ${length} is under its 28 fixed bytes`);
    if (have < length) throw new PcapTruncatedError('pcapng block', off, length, have);
    const trailing = dv.getUint32(off + length - 4, le);
    if (trailing !== length) throw new PcapMalformedError('pcapng block', off, `trailing length ${trailing} differs from leading length ${length}`);
    const body = off + 8;
    const bodyLen = length - 12;
    const need = (what: string, n: number): void => {
      if (bodyLen < n) throw new PcapMalformedError(what, off, `body of ${bodyLen} bytes is shorter than its ${n} fixed bytes`);
    };
    const iface = (what: string, id: number): Interface => {
      const i = interfaces[id];
      if (!i) throw new PcapMalformedError(what, off, `interface ${id} is not described (the section has ${interfaces.length} interface description blocks)`);
      return i;
    };
    const packet = (what: string, id: number, tsAt: number, caplen: number, origlen: number, dataAt: number): PcapRecord => {
      if (dataAt + caplen > body + bodyLen) throw new PcapMalformedError(what, off, `captured length ${caplen} overruns the block`);
      const i = iface(what, id);
      const units = (BigInt(dv.getUint32(tsAt, le)) << 32n) | BigInt(dv.getUint32(tsAt + 4, le));
      const record = { tsNs: i.toNs(units), caplen, origlen, linktype: i.linktype, data: bytes.subarray(dataAt, dataAt + caplen), interfaceId: id };
      return i.name === undefined ? record : { ...record, interfaceName: i.name };
    };
    switch (type) {
      case Block.IDB:
        need('pcapng interface description block', 8);
        interfaces.push(readInterface(bytes, dv, le, off, body, bodyLen));
        break;
      case Block.EPB:
        need('pcapng enhanced packet block', 20);
        yield packet('pcapng enhanced packet block', dv.getUint32(body, le), body + 4, dv.getUint32(body + 12, le), dv.getUint32(body + 16, le), body + 20);
        break;
      case Block.OPB: // obsolete, but older Wireshark wrote it
        need('pcapng packet block', 20);
        yield packet('pcapng packet block', dv.getUint16(body, le), body + 4, dv.getUint32(body + 12, le), dv.getUint32(body + 16, le), body + 20);
        break;
      case Block.SPB: {
        need('pcapng simple packet block', 4);
        const origlen = dv.getUint32(body, le);
        const { snaplen, linktype, name } = iface('pcapng simple packet block', 0);
        // The SPB has no captured-length field: it is the original length cut to the interface's snap length.
        const caplen = snaplen > 0 ? Math.min(origlen, snaplen) : origlen;
        if (4 + caplen > bodyLen) throw new PcapMalformedError('pcapng simple packet block', off, `captured length ${caplen} overruns the block`);
        const record = { tsNs: 0n, caplen, origlen, linktype, data: bytes.subarray(body + 4, body + 4 + caplen), interfaceId: 0 };
        yield name === undefined ? record : { ...record, interfaceName: name };
        break;
      }
      default: // SHB handled above; NRB, ISB, DSB, custom and unknown blocks carry no frames
    }
    off += length;
  }
}

function readInterface(bytes: Uint8Array, dv: DataView, le: boolean, off: number, body: number, bodyLen: number): Interface {
  const linktype = dv.getUint16(body, le);
  const snaplen = dv.getUint32(body + 4, le);
  let resolution = 6; // default: microseconds
  let binary = false;
  let offsetS = 0n;
  let name: string | undefined;
  const end = body + bodyLen;
  for (let p = body + 8; p + 4 <= end; ) {
    const code = dv.getUint16(p, le);
    const len = dv.getUint16(p + 2, le);
    if (code === Option.END) break;
    if (p + 4 + len > end) throw new PcapMalformedError('pcapng interface description block', off, `option ${code} of ${len} bytes overruns the block`);
    if (code === Option.IF_TSRESOL && len >= 1) {
      const v = bytes[p + 4]!;
      binary = (v & 0x80) !== 0; // MSB set: a negative power of 2, else of 10
      resolution = v & 0x7f;
    } else if (code === Option.IF_TSOFFSET && len === 8) {
      offsetS = dv.getBigInt64(p + 4, le);
    } else if (code === Option.IF_NAME && len > 0) {
      // UTF-8, not NUL-terminated by the spec (some writers add one anyway).
      name = new TextDecoder().decode(bytes.subarray(p + 4, p + 4 + len)).replace(/\0+$/, '') || undefined;
    }
    p += 4 + ((len + 3) & ~3);
  }
  const offsetNs = offsetS * NS_PER_S;
  let toNs: (units: bigint) => bigint;
  if (binary) {
    const divisor = 1n << BigInt(resolution);
    toNs = (u) => (u * NS_PER_S) / divisor + offsetNs;
  } else if (resolution <= 9) {
    const factor = 10n ** BigInt(9 - resolution);
    toNs = (u) => u * factor + offsetNs;
  } else {
    const divisor = 10n ** BigInt(resolution - 9); // finer than a nanosecond: truncate
    toNs = (u) => u / divisor + offsetNs;
  }
  return { linktype, snaplen, name, toNs };
}

function swap32(n: number): number {
  return (((n & 0xff) << 24) | ((n & 0xff00) << 8) | ((n >>> 8) & 0xff00) | (n >>> 24)) >>> 0;
}
