import { RingArgumentError, RingHandleError, RingSizeError } from './error.js';
import { HEADER_BYTES, I32, MAGIC, MAX_DATA_BYTES, MIN_DATA_BYTES, U64 } from './layout.js';

/** Plain data: crosses postMessage/workerData as is. */
export interface RingHandle {
  readonly sab: SharedArrayBuffer;
  readonly dataBytes: number;
}

export interface RingStats {
  /** Records accepted by the writer. */
  pushed: number;
  /** Records the reader has consumed. */
  popped: number;
  /** Pushes refused (ring full, frame too big, or ring closed). */
  dropped: number;
  /** Payload bytes of the refused pushes. */
  droppedBytes: number;
  /** Whether closeRing has run. */
  closed: boolean;
  /** Whether the reader has announced it is blocked (or about to block) in waitSync/waitAsync. */
  readerWaiting: boolean;
}

/** The typed-array views every ring object works through, all over the same SharedArrayBuffer. */
export interface RingViews {
  readonly i32: Int32Array;
  readonly u64: BigUint64Array;
  readonly u8: Uint8Array;
  readonly dataBytes: number;
}

/**
 * Allocates a ring with a data area of `dataBytes` bytes (plus a 192-byte header).
 * Returns the handle to give to exactly one RingWriter and one RingReader, in any threads.
 * Throws RingSizeError unless dataBytes is a power of two from 4096 to 2^30.
 */
export function createRing(dataBytes: number): RingHandle {
  const powerOfTwo = Number.isInteger(dataBytes) && (dataBytes & (dataBytes - 1)) === 0;
  if (!powerOfTwo || dataBytes < MIN_DATA_BYTES || dataBytes > MAX_DATA_BYTES) {
    throw new RingSizeError(dataBytes, MIN_DATA_BYTES, MAX_DATA_BYTES);
  }
  const sab = new SharedArrayBuffer(HEADER_BYTES + dataBytes);
  const i32 = new Int32Array(sab, 0, HEADER_BYTES / 4);
  i32[I32.DATA_BYTES] = dataBytes;
  // Nothing else can see the buffer yet; the structured clone that hands it to another thread orders these writes.
  i32[I32.MAGIC] = MAGIC;
  return { sab, dataBytes };
}

/**
 * Checks a handle and returns views over it.
 * Throws RingHandleError when it is not a live handle from createRing (wrong type, size or magic word).
 */
export function ringViews(h: RingHandle): RingViews {
  if (typeof h !== 'object' || h === null) throw new RingHandleError(`got ${h === null ? 'null' : typeof h}`);
  const { sab, dataBytes } = h;
  if (!(sab instanceof SharedArrayBuffer)) throw new RingHandleError('sab is not a SharedArrayBuffer');
  if (typeof dataBytes !== 'number' || sab.byteLength !== HEADER_BYTES + dataBytes) {
    throw new RingHandleError(`sab holds ${sab.byteLength} bytes, dataBytes says ${String(dataBytes)}`);
  }
  const i32 = new Int32Array(sab);
  if (Atomics.load(i32, I32.MAGIC) !== MAGIC || Atomics.load(i32, I32.DATA_BYTES) !== dataBytes) {
    throw new RingHandleError('header does not carry the ring magic word');
  }
  return { i32, u64: new BigUint64Array(sab), u8: new Uint8Array(sab), dataBytes };
}

/** Returns a snapshot of the ring's counters. Throws RingHandleError for a bad handle. */
export function ringStats(h: RingHandle): RingStats {
  const { i32, u64 } = ringViews(h);
  // popped is loaded before pushed, and the writer counts a record as pushed before it publishes it: so a snapshot
  // never shows popped > pushed, though both may move on while it is taken.
  const popped = Number(Atomics.load(u64, U64.POPPED));
  return {
    pushed: Number(Atomics.load(u64, U64.PUSHED)),
    popped,
    dropped: Number(Atomics.load(u64, U64.DROPPED)),
    droppedBytes: Number(Atomics.load(u64, U64.DROPPED_BYTES)),
    closed: Atomics.load(i32, I32.CLOSED) !== 0,
    readerWaiting: Atomics.load(i32, I32.WAITING) !== 0,
  };
}

/**
 * Returns a function telling whether the ring holds no record right now, from any thread (a reader frees a record's
 * space only after its callback returns, so a record being handled still counts). Throws RingHandleError.
 */
export function emptyProbe(h: RingHandle): () => boolean {
  const { i32 } = ringViews(h);
  return () => Atomics.load(i32, I32.WRITE) === Atomics.load(i32, I32.READ);
}

/**
 * Marks the ring closed and wakes a reader blocked in waitSync/waitAsync (shutdown). Any thread may call it, any
 * number of times. Records already in the ring can still be drained; pushes after close are refused and counted
 * as drops. Throws RingHandleError for a bad handle.
 */
export function closeRing(h: RingHandle): void {
  const { i32 } = ringViews(h);
  // CLOSED is stored (seq-cst) before WAITING is read, the mirror image of the reader, which stores WAITING before
  // it reads CLOSED: in the single total order of these accesses either the reader sees CLOSED and does not sleep,
  // or this exchange sees its WAITING = 1 and the notify wakes it (or makes its Atomics.wait return 'not-equal').
  Atomics.store(i32, I32.CLOSED, 1);
  wakeReader(i32);
}

/** Clears the reader's waiting flag and, when it was set, wakes the reader. */
export function wakeReader(i32: Int32Array): void {
  if (Atomics.exchange(i32, I32.WAITING, 0) !== 0) Atomics.notify(i32, I32.WAITING);
}

/** Throws RingArgumentError unless `ms` is a non-negative number (Infinity allowed). */
export function checkTimeout(ms: number): void {
  if (typeof ms !== 'number' || !(ms >= 0)) {
    throw new RingArgumentError('timeoutMs', 'a number ≥ 0 (Infinity allowed)', ms);
  }
}
