// `ersatz decode FILE... [--json]`: one line per captured frame, tcpdump-like or JSON Lines.
// This module is also the piscina task file: big captures are cut into batches of record descriptors that worker
// threads format against the file's bytes in a SharedArrayBuffer, and the results are written in batch order.
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { PcapError, PcapFileError, PcapMagicError, linkTypeLabel, readPcapFile, type PcapReader } from '@ersatz/pcap';
import { DECODED_LINK_TYPES, decodeFrame } from '@ersatz/wire';
import { Clock, humanLine, jsonLine } from './decode-lines.js';
import { Exit, UsageError, type ExitCode } from '../exit.js';
import { parseSpec } from '../options.js';
import type { CommandSpec, Options } from '../spec.js';

/** Frames per batch handed to a worker (large enough that messaging costs little next to decoding). */
const BATCH = 8192;
/**
 * Frames in a file from which the pool is used by default. Measured on 2 idle cores (Node 20, 76-byte frames,
 * median wall time of `--json`, sequential vs 2 threads): 50k 0.46 vs 0.52 s, 100k 0.84 vs 0.76 s, 200k 1.10 vs
 * 1.06 s, 1M 4.96 vs 3.59 s (human form 1M: 4.48 vs 2.95 s). Below ~100k frames starting and warming up the
 * threads costs more than they save.
 */
const POOL_THRESHOLD = 100_000;
/** Bytes gathered before a write to stdout. */
const OUTPUT_CHUNK = 1 << 16;

const OPTIONS = {
  json: {
    type: 'boolean',
    help:
      // A new line where the example object is cut, not at the space inside its "<9 digits>".
      'JSON Lines: {"index":0,"ts":"<seconds>.<9 digits>","len":60,"eth":{...},"vlan":[42],"arp":{...},\n' +
      '"ipv4":{...},"icmp":{...},"malformed":false}; a key is absent when its layer is ("sll" replaces "eth" for cooked captures, ' +
      '"snap" follows it for LLC/SNAP). With several files each object starts with "file". index counts the frames of each file from 0.',
  },
  threads: {
    type: 'string',
    arg: 'N',
    help:
      `decode with N worker threads (0: on the main thread only). Default: ${defaultThreads()} threads for a file of over ` +
      `${POOL_THRESHOLD} frames, the main thread below that (where starting threads costs more)`,
  },
} as const satisfies Options;

export const SPEC: CommandSpec<typeof OPTIONS> = {
  name: 'decode',
  usage: `ersatz decode FILE... [--json] [--threads N]`,
  about: `Decodes the frames of classic pcap (microsecond or nanosecond, either byte order) and pcapng capture files:
Ethernet with any number of VLAN tags and RFC 1042 LLC/SNAP, Linux cooked capture (tcpdump -i any: LINUX_SLL and
LINUX_SLL2) and raw IP link types; ARP/RARP, IPv4, ICMP, IPv6, ICMPv6 and Neighbor Discovery. One line per frame,
in file order.`,
  options: OPTIONS,
  notes: `Times are local, like tcpdump's. A frame that does not decode is flagged "[malformed: reason]" (JSON: "malformed":
true and "error"), keeping every field captured whole (a truncated ARP keeps the fields before the cut). An IP packet
the capture's snap length (tcpdump -s) cut after its headers is shown, not flagged, and what needs the rest (a
checksum over it) is not checked; JSON gives its length on the wire as "wireLen". Frames of another link type are
listed by length, and a line on stderr says once per file that they were not decoded.
Several files are decoded in order, each under a "==> FILE <==" header (human form).
Exit: 0 done; 2 when a file cannot be read, is not a capture file, or ends inside a record (the frames before it
are printed); 70 internal error.`,
  positionals: true,
};

function defaultThreads(): number {
  return Math.max(1, Math.min(availableParallelism(), 4));
}

/** Runs `ersatz decode`; returns the exit code. Usage errors throw UsageError (the dispatcher prints them). */
export async function run(argv: string[]): Promise<ExitCode> {
  const args = parseSpec(SPEC, argv);
  if (args === null) return Exit.OK;
  const { values, positionals } = args;
  if (positionals.length === 0) throw new UsageError("decode: name at least one capture file: run 'ersatz decode --help'");
  const auto = values.threads === undefined;
  const threads = auto ? defaultThreads() : Number(values.threads);
  if (!Number.isInteger(threads) || threads < 0 || threads > 64) throw new UsageError(`decode: --threads wants a whole number 0..64, not ${JSON.stringify(values.threads)}`);

  const out = new Output(process.stdout);
  const format: Format = { json: values.json === true, file: positionals.length > 1 ? '' : undefined };
  let pool: Piscina | undefined;
  let code: ExitCode = Exit.OK;
  try {
    let headers = 0;
    for (const path of positionals) {
      let reader: PcapReader;
      try {
        reader = await readPcapFile(path, { shared: threads > 0 });
      } catch (err) {
        code = Exit.USAGE;
        await out.flush(); // keep stdout and stderr in the order things happened
        fileError(path, err);
        continue;
      }
      if (format.file !== undefined) format.file = path;
      if (positionals.length > 1 && !format.json) out.line(`${headers++ > 0 ? '\n' : ''}==> ${path} <==`); // as head(1) does
      try {
        // The pool when asked for, or by default when the file is big enough to pay for starting it.
        const parallel = threads > 0 && (!auto || hasMoreRecords(reader, POOL_THRESHOLD));
        await decodeFile(path, reader, format, out, parallel ? (pool ??= newPool(threads)) : undefined);
      } catch (err) {
        if (err instanceof BrokenPipe) return Exit.OK; // the reader went away (`| head`): nothing left to say
        code = Exit.USAGE;
        await out.flush();
        fileError(path, err);
      }
    }
    await out.flush();
  } catch (err) {
    if (err instanceof BrokenPipe) return Exit.OK;
    throw err;
  } finally {
    await pool?.destroy();
  }
  return code;
}

/** Prints why `path` could not be decoded; rethrows what is not a capture-file problem. */
function fileError(path: string, err: unknown): void {
  if (err instanceof PcapMagicError) process.stderr.write(`ersatz: decode: ${path} is not a pcap or pcapng file (magic ${err.magicHex})\n`);
  else if (err instanceof PcapFileError) process.stderr.write(`ersatz: decode: ${err.message}\n`);
  else if (err instanceof PcapError) process.stderr.write(`ersatz: decode: ${path}: ${err.message}\n`);
  else throw err;
}

function newPool(threads: number): Piscina {
  return new Piscina({ filename: import.meta.url, name: 'decodeBatch', minThreads: threads, maxThreads: threads, idleTimeout: 1000 });
}

/** Whether `reader` has more than `n` records; reads only their headers and at most n + 1 of them. */
function hasMoreRecords(reader: PcapReader, n: number): boolean {
  let count = 0;
  try {
    for (const _ of reader) if (++count > n) return true;
  } catch {
    // A damaged file: decodeFile reports it where it happens.
  }
  return false;
}

/**
 * Walks the records, cutting them into batches formatted by `pool`, or here without one. Results are written in
 * batch order, so the output is the sequential one. Throws what iterating the reader throws (after writing every
 * frame before the fault) and BrokenPipe.
 */
async function decodeFile(path: string, reader: PcapReader, format: Format, out: Output, pool: Piscina | undefined): Promise<void> {
  const bytes = reader.bytes;
  const pending: Promise<string>[] = [];
  let batch = new BatchBuilder(0);
  let seen = 0;
  const submit = async (): Promise<void> => {
    const { task, transfer } = batch.finish(bytes, format);
    batch = new BatchBuilder(seen);
    pending.push(pool ? pool.run(task, { transferList: transfer }) : Promise.resolve(decodeBatch(task)));
    // Keep a few batches in flight per thread; write the oldest when the window is full.
    while (pending.length > (pool ? pool.maxThreads * 2 : 0)) await out.write(await pending.shift()!);
  };
  let damaged: PcapError | undefined;
  const unsupported = new Set<number>();
  try {
    try {
      for (const r of reader) {
        if (!DECODED_LINK_TYPES.has(r.linktype) && !unsupported.has(r.linktype)) unsupported.add(r.linktype);
        batch.add(r.data.byteOffset - bytes.byteOffset, r.caplen, r.origlen, r.linktype, r.tsNs);
        seen++;
        if (batch.count === BATCH) await submit();
      }
    } catch (err) {
      if (!(err instanceof PcapError)) throw err;
      damaged = err; // a truncated or malformed record: the frames before it are still printed
    }
    if (batch.count > 0) await submit();
    while (pending.length > 0) await out.write(await pending.shift()!);
    if (unsupported.size > 0) {
      await out.flush(); // after the frames, so the note reads as a footnote to them
      const names = [...unsupported].map(linkTypeLabel).join(', ');
      process.stderr.write(`ersatz: decode: ${path}: link type ${names} not decoded: those frames are listed by length only\n`);
    }
  } catch (err) {
    // Stopping early (EPIPE): batches still in the pool are abandoned, and their rejection on pool.destroy() is expected.
    for (const p of pending) p.catch(() => undefined);
    throw err;
  }
  if (damaged) throw damaged;
}

/** How lines are written: `file` is set (per file) when several files are decoded. */
interface Format {
  readonly json: boolean;
  file: string | undefined;
}

/** One batch of records for `decodeBatch`: where each frame sits in `bytes`, and its header fields. */
export interface BatchTask {
  /** The whole file (a SharedArrayBuffer-backed view when a pool decodes it, so workers read it in place). */
  readonly bytes: Uint8Array;
  readonly json: boolean;
  readonly file: string | undefined;
  /** Index of the batch's first frame in its file. */
  readonly first: number;
  readonly offsets: Float64Array;
  readonly caplens: Uint32Array;
  readonly origlens: Uint32Array;
  readonly linktypes: Uint32Array;
  readonly tsNs: BigInt64Array;
}

class BatchBuilder {
  count = 0;
  readonly #offsets = new Float64Array(BATCH);
  readonly #caplens = new Uint32Array(BATCH);
  readonly #origlens = new Uint32Array(BATCH);
  readonly #linktypes = new Uint32Array(BATCH);
  readonly #tsNs = new BigInt64Array(BATCH);
  constructor(readonly first: number) {}

  add(offset: number, caplen: number, origlen: number, linktype: number, tsNs: bigint): void {
    const i = this.count++;
    this.#offsets[i] = offset;
    this.#caplens[i] = caplen;
    this.#origlens[i] = origlen;
    this.#linktypes[i] = linktype;
    this.#tsNs[i] = tsNs;
  }

  /** The batch as a task, and the buffers to transfer with it (the descriptors move; the file's bytes are shared). */
  finish(bytes: Uint8Array, format: Format): { task: BatchTask; transfer: ArrayBuffer[] } {
    const n = this.count;
    const task: BatchTask = {
      bytes,
      json: format.json,
      file: format.file,
      first: this.first,
      offsets: this.#offsets.subarray(0, n),
      caplens: this.#caplens.subarray(0, n),
      origlens: this.#origlens.subarray(0, n),
      linktypes: this.#linktypes.subarray(0, n),
      tsNs: this.#tsNs.subarray(0, n),
    };
    const transfer = [task.offsets, task.caplens, task.origlens, task.linktypes, task.tsNs].map((a) => a.buffer as ArrayBuffer);
    return { task, transfer };
  }
}

/** The piscina task (also run inline for small files): formats a batch of frames, one line each, in order. */
export function decodeBatch(task: BatchTask): string {
  const clock = new Clock();
  let s = '';
  for (let i = 0; i < task.offsets.length; i++) {
    const at = task.offsets[i]!;
    const frame = task.bytes.subarray(at, at + task.caplens[i]!);
    const decoded = decodeFrame(frame, task.linktypes[i]!, task.origlens[i]!);
    const index = task.first + i;
    const tsNs = task.tsNs[i]!;
    s += task.json ? jsonLine(task.file, index, tsNs, decoded) : `${clock.format(tsNs)} ${humanLine(frame, decoded, task.origlens[i]!)}`;
    s += '\n';
  }
  return s;
}

/** Thrown when stdout's reader has gone (EPIPE): decoding stops quietly. */
class BrokenPipe extends Error {
  override name = 'BrokenPipe';
}

/** Buffers lines into large writes; waits for each write, so memory stays bounded and EPIPE is seen promptly. */
class Output {
  #parts: string[] = [];
  #size = 0;
  #broken = false;
  constructor(readonly stream: NodeJS.WriteStream) {
    // Without a listener an EPIPE would surface as an uncaught exception with a stack trace.
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') this.#broken = true;
    });
  }

  line(s: string): void {
    this.#parts.push(s, '\n');
    this.#size += s.length + 1;
  }

  /** Queues `text` (whole lines) and writes once enough has gathered. */
  async write(text: string): Promise<void> {
    this.#parts.push(text);
    this.#size += text.length;
    if (this.#size >= OUTPUT_CHUNK) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.#broken) throw new BrokenPipe();
    if (this.#size === 0) return;
    const chunk = this.#parts.join('');
    this.#parts = [];
    this.#size = 0;
    const err = await new Promise<Error | null | undefined>((resolve) => this.stream.write(chunk, resolve));
    if (err) {
      if ((err as NodeJS.ErrnoException).code === 'EPIPE') this.#broken = true;
      else throw err;
    }
    if (this.#broken) throw new BrokenPipe();
  }
}
