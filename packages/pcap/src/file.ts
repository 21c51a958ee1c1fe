import { readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { constants } from 'node:buffer';
import { PcapFileError } from './error.js';
import { PCAP_HEADER, classicRecords, readPcap, startsPcapng, type PcapFormat, type PcapReader, type PcapRecord } from './reader.js';

export interface ReadFileOptions {
  /**
   * Load the file into a SharedArrayBuffer, so worker threads can read the records' bytes without a copy
   * (default false: an ordinary ArrayBuffer).
   */
  readonly shared?: boolean;
}

/**
 * Loads a whole capture file and returns its reader (records are views into one buffer, plain `Uint8Array`s).
 * Throws PcapFileError when the file cannot be read (missing, a directory, no permission, over the buffer limit),
 * and whatever `readPcap` throws for the header.
 */
export async function readPcapFile(path: string, opts: ReadFileOptions = {}): Promise<PcapReader> {
  return readPcap(await loadFile(path, opts.shared ?? false));
}

async function loadFile(path: string, shared: boolean): Promise<Uint8Array> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw fileError(path, err);
  }
  try {
    const { size } = await fh.stat();
    if (size > constants.MAX_LENGTH) throw new PcapFileError(path, 'EFBIG', `${size} bytes is over the ${constants.MAX_LENGTH} one buffer can hold`);
    const bytes = new Uint8Array(shared ? new SharedArrayBuffer(size) : new ArrayBuffer(size));
    // Read until the buffer is full or the file ends (it may shrink while we read: keep what was there).
    let got = 0;
    while (got < size) {
      const { bytesRead } = await fh.read(bytes, got, size - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got === size ? bytes : bytes.subarray(0, got);
  } catch (err) {
    throw err instanceof PcapFileError ? err : fileError(path, err);
  } finally {
    await fh.close();
  }
}

function fileError(path: string, err: unknown): PcapFileError {
  const e = err as NodeJS.ErrnoException;
  // Node's message is `ENOENT: no such file or directory, open 'x'`: keep the human part.
  const reason = /^[A-Z0-9]+: (.*?), \w+(?: '.*')?$/.exec(e.message ?? '')?.[1] ?? e.message ?? String(err);
  return new PcapFileError(path, e.code ?? 'EIO', reason);
}

/** A capture read as it is iterated, not held whole: see streamPcapFile. */
export interface PcapStream extends Iterable<PcapRecord> {
  readonly format: PcapFormat;
}

/** Bytes read at a time by streamPcapFile (a record larger than this grows the window). */
const STREAM_CHUNK = 4 << 20;

/**
 * The records of a capture file, read a chunk at a time while iterating (one pass): memory stays at a few MiB
 * however large the file. Each record's `data` is a view into the current chunk, valid until the next record is
 * asked for: copy it to keep it. Classic pcap streams; a pcapng file is read whole (readPcapFile), as its blocks may
 * refer back to interface descriptions anywhere before them. Throws as readPcapFile does, on open and while iterating.
 */
export async function streamPcapFile(path: string, opts: { readonly chunkBytes?: number } = {}): Promise<PcapStream> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw fileError(path, err);
  }
  let head: Uint8Array;
  try {
    const b = new Uint8Array(PCAP_HEADER);
    const { bytesRead } = await fh.read(b, 0, PCAP_HEADER, 0);
    head = b.subarray(0, bytesRead);
  } catch (err) {
    await fh.close();
    throw fileError(path, err);
  }
  if (startsPcapng(head)) {
    await fh.close();
    return readPcapFile(path);
  }
  let format: PcapFormat;
  try {
    format = readPcap(head).format; // a classic file header (24 bytes): what its records need
  } catch (err) {
    await fh.close();
    throw err;
  }
  const classic = format as Extract<PcapFormat, { kind: 'pcap' }>;
  const fd = fh.fd;
  const chunk = Math.max(opts.chunkBytes ?? STREAM_CHUNK, 64);
  return {
    format,
    *[Symbol.iterator](): Iterator<PcapRecord> {
      let buf = new Uint8Array(chunk);
      let len = 0; // bytes in buf
      let base = 0; // file offset of buf[0]
      let start = PCAP_HEADER; // where the next record starts in buf
      try {
        for (;;) {
          let got = 0;
          try {
            got = readSync(fd, buf, len, buf.length - len, base + len);
          } catch (err) {
            throw fileError(path, err);
          }
          len += got;
          const eof = got === 0;
          const next = yield* classicRecords(buf.subarray(0, len), new DataView(buf.buffer, 0, len), classic, start, base, !eof);
          if (eof) return;
          // Keep the record cut at the end, at the front; a record longer than the window makes it grow.
          buf.copyWithin(0, next, len);
          len -= next;
          base += next;
          start = 0;
          if (len === buf.length) {
            const bigger = new Uint8Array(buf.length * 2);
            bigger.set(buf);
            buf = bigger;
          }
        }
      } finally {
        void fh.close();
      }
    },
  };
}
