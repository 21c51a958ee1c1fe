import { close, open, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { PcapWriteError } from './error.js';
import { LinkType } from '@ersatz/wire';

export interface PcapWriterOptions {
  /** Timestamp precision of the file: `us` writes magic 0xa1b2c3d4, `ns` 0xa1b23c4d (default `us`). */
  readonly precision?: 'us' | 'ns';
  /** LINKTYPE_ of every record (default 1, Ethernet). */
  readonly linktype?: number;
  /** Longest record kept; longer frames are cut, their original length kept (default 262144, as tcpdump). */
  readonly snaplen?: number;
  /** Bytes gathered before they go to the sink (default 64 KiB). */
  readonly bufferSize?: number;
}

const NS_PER_S = 1_000_000_000n;
const HEADER = 24;
const RECORD_HEADER = 16;

/**
 * Writes a classic pcap file, little-endian (what tcpdump writes on x86 and ARM), to a file descriptor or a stream.
 * The file header and records are gathered in a buffer that goes to the sink when full: call `flush()` to push them
 * out sooner (for a stream it also waits for the stream to drain) and `close()` at the end; a closed writer with no
 * records has still written a valid empty file.
 */
export class PcapWriter {
  readonly precision: 'us' | 'ns';
  readonly linktype: number;
  readonly snaplen: number;
  #buf: Uint8Array;
  #dv: DataView;
  #used = 0;
  #records = 0;
  #closed = false;
  readonly #sink: number | Writable;
  #ownsFd = false;

  /**
   * `sink`: a file descriptor (written synchronously; the caller keeps ownership unless the writer came from `open`)
   * or a Writable stream (not ended by `close()` unless `end` is set there). Throws PcapWriteError for a bad option.
   */
  constructor(sink: number | Writable, opts: PcapWriterOptions = {}) {
    this.precision = opts.precision ?? 'us';
    this.linktype = opts.linktype ?? LinkType.ETHERNET;
    this.snaplen = opts.snaplen ?? 262_144;
    if (this.precision !== 'us' && this.precision !== 'ns') throw new PcapWriteError(`precision ${JSON.stringify(this.precision)} is neither "us" nor "ns"`);
    if (!Number.isInteger(this.linktype) || this.linktype < 0 || this.linktype > 0x03ff_ffff) throw new PcapWriteError(`linktype ${this.linktype} is not a LINKTYPE_ value`);
    if (!Number.isInteger(this.snaplen) || this.snaplen < 1 || this.snaplen > 0xffff_ffff) throw new PcapWriteError(`snaplen ${this.snaplen} is not a positive 32-bit length`);
    this.#sink = sink;
    this.#buf = new Uint8Array(Math.max(opts.bufferSize ?? 65_536, HEADER));
    this.#dv = new DataView(this.#buf.buffer);
    const dv = this.#dv;
    dv.setUint32(0, this.precision === 'ns' ? 0xa1b23c4d : 0xa1b2c3d4, true);
    dv.setUint16(4, 2, true); // version 2.4
    dv.setUint16(6, 4, true);
    dv.setInt32(8, 0, true); // thiszone: timestamps are UTC
    dv.setUint32(12, 0, true); // sigfigs
    dv.setUint32(16, this.snaplen, true);
    dv.setUint32(20, this.linktype, true);
    this.#used = HEADER;
  }

  /** Creates (or truncates) `path` and returns a writer that owns and closes its descriptor. Throws the fs error. */
  static async open(path: string, opts: PcapWriterOptions = {}): Promise<PcapWriter> {
    // A raw descriptor, not a FileHandle: a FileHandle would warn when collected while the writer still uses its fd.
    const fd = await promisify(open)(path, 'w');
    try {
      const writer = new PcapWriter(fd, opts);
      writer.#ownsFd = true;
      return writer;
    } catch (err) {
      await promisify(close)(fd);
      throw err;
    }
  }

  /** Records written so far. */
  get records(): number {
    return this.#records;
  }

  /**
   * Appends one record: `tsNs` nanoseconds since the epoch (truncated to microseconds in a `us` file), the frame
   * bytes (cut to `snaplen`) and its length on the wire (default: `data.length`). Throws PcapWriteError for a
   * timestamp outside 1970..2106 (32-bit seconds) or after `close()`.
   */
  write(tsNs: bigint, data: Uint8Array, origlen = data.length): void {
    if (this.#closed) throw new PcapWriteError('write after close');
    if (tsNs < 0n || tsNs >= 0x1_0000_0000n * NS_PER_S) throw new PcapWriteError(`timestamp ${tsNs} ns is outside the 32-bit seconds of a pcap file (1970 to 2106)`);
    const caplen = Math.min(data.length, this.snaplen);
    const size = RECORD_HEADER + caplen;
    if (this.#used + size > this.#buf.length) {
      this.#drain();
      if (size > this.#buf.length) this.#grow(size);
    }
    const dv = this.#dv;
    const at = this.#used;
    const ns = Number(tsNs % NS_PER_S);
    dv.setUint32(at, Number(tsNs / NS_PER_S), true);
    dv.setUint32(at + 4, this.precision === 'ns' ? ns : Math.floor(ns / 1000), true);
    dv.setUint32(at + 8, caplen, true);
    dv.setUint32(at + 12, Math.max(origlen, caplen), true);
    this.#buf.set(caplen === data.length ? data : data.subarray(0, caplen), at + RECORD_HEADER);
    this.#used = at + size;
    this.#records++;
  }

  /** Sends gathered records to the sink; for a stream, resolves once it has drained. */
  async flush(): Promise<void> {
    this.#drain();
    const sink = this.#sink;
    if (typeof sink !== 'number' && sink.writableNeedDrain) await once(sink, 'drain');
  }

  /**
   * Flushes, then closes a descriptor the writer opened itself, or ends the stream when `end` is true (resolving when
   * it has finished). Calling it again does nothing.
   */
  async close(opts: { end?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    const sink = this.#sink;
    if (typeof sink === 'number') {
      if (this.#ownsFd) await promisify(close)(sink);
    } else if (opts.end) {
      sink.end();
      await once(sink, 'finish');
    }
  }

  /** Hands the buffered bytes to the sink (a stream queues them; `flush()` waits for it). */
  #drain(): void {
    if (this.#used === 0) return;
    const sink = this.#sink;
    const used = this.#used;
    this.#used = 0;
    if (typeof sink === 'number') {
      for (let off = 0; off < used; ) off += writeSync(sink, this.#buf, off, used - off);
      return;
    }
    // A stream keeps the chunk until written: give it a copy so the buffer can be refilled at once.
    sink.write(this.#buf.slice(0, used));
  }

  #grow(size: number): void {
    this.#buf = new Uint8Array(size);
    this.#dv = new DataView(this.#buf.buffer);
  }
}
