import { RingArgumentError, RingRoleTakenError } from './error.js';
import { HEADER_BYTES, I32, maxFrameBytes, RECORD_HEADER_BYTES, recordBytes, SKIP, U64 } from './layout.js';
import { ringViews, wakeReader, type RingHandle } from './ring.js';

/**
 * The producing end of a ring: exactly one per ring, used by one thread. Never blocks: when a frame does not fit it
 * is refused and counted as a drop (a capture thread must never stall the packet loop).
 */
export class RingWriter {
  /** Largest frame that can ever fit: dataBytes / 2 − 16 (a frame this size always fits into an empty ring). */
  readonly maxFrameBytes: number;
  readonly #i32: Int32Array;
  readonly #u64: BigUint64Array;
  readonly #u8: Uint8Array;
  readonly #mask: number;
  readonly #dataBytes: number;
  /** Our copy of WRITE, ahead of the shared word while a batch is being written. Only this writer stores WRITE. */
  #write: number;
  /** The last READ we loaded: everything before it is free. Reloaded only when the ring looks full, so the common
   *  case touches no word the reader writes. */
  #read: number;
  /** Records written by tryStage and not yet published. */
  #staged = 0;

  /**
   * Claims the writing end of the ring behind `h`.
   * Throws RingHandleError for a bad handle, RingRoleTakenError when the ring already has a writer.
   */
  constructor(h: RingHandle) {
    const v = ringViews(h);
    // compareExchange makes the claim atomic across threads: two writers racing cannot both win.
    if (Atomics.compareExchange(v.i32, I32.WRITER_CLAIM, 0, 1) !== 0) throw new RingRoleTakenError('writer');
    this.#i32 = v.i32;
    this.#u64 = v.u64;
    this.#u8 = v.u8;
    this.#dataBytes = v.dataBytes;
    this.#mask = v.dataBytes - 1;
    this.maxFrameBytes = maxFrameBytes(v.dataBytes);
    this.#write = Atomics.load(v.i32, I32.WRITE) >>> 0;
    this.#read = Atomics.load(v.i32, I32.READ) >>> 0;
  }

  /**
   * Copies `frame` and its timestamp (ns; capture time, or "do not send before" on a tx ring; 0 = none) into the ring
   * and wakes the reader if it is waiting. Never blocks.
   * Returns true when the frame went in; false when the ring is full, the frame is longer than maxFrameBytes, or the
   * ring is closed; a false is counted in the ring's `dropped`/`droppedBytes`.
   * Throws RingArgumentError when `frame` is not a Uint8Array or `tsNs` is not an unsigned 64-bit integer.
   */
  tryPush(frame: Uint8Array, tsNs: bigint = 0n): boolean {
    if (!this.tryStage(frame, tsNs)) return false;
    this.publish(); // this frame and any staged before it
    return true;
  }

  /**
   * Copies `frame` into the ring like tryPush, but the reader does not see it until `publish()`: a producer that
   * handles frames in batches (one pcap_dispatch, one drain) makes one store and at most one wake per batch.
   * Returns false (counted as a drop) when it does not fit or the ring is closed. Throws like tryPush.
   */
  tryStage(frame: Uint8Array, tsNs: bigint = 0n): boolean {
    checkFrame(frame);
    checkTs(tsNs);
    if (Atomics.load(this.#i32, I32.CLOSED) !== 0 || !this.#put(frame, tsNs)) {
      this.#drop(frame.byteLength);
      return false;
    }
    this.#staged++;
    return true;
  }

  /** Makes every tryStage'd record visible to the reader, waking it if it waits. Cheap when nothing is staged. */
  publish(): void {
    if (this.#staged === 0) return;
    const n = this.#staged;
    this.#staged = 0;
    this.#publish(n);
  }

  /**
   * Pushes `frames` in order until one does not fit, then publishes them all with one store and at most one wake.
   * `tsNs`: one timestamp for all, or one per frame (missing entries are 0). The frame that did not fit counts as one
   * drop, exactly as a refused tryPush would; the frames after it were not attempted and are not counted.
   * Returns how many frames went in (a prefix of `frames`).
   * Throws RingArgumentError like tryPush (frames before the bad one are still published).
   */
  pushBatch(frames: readonly Uint8Array[], tsNs?: readonly bigint[] | bigint): number {
    const one = typeof tsNs === 'bigint' || tsNs === undefined;
    if (one) checkTs(tsNs ?? 0n); // once for the batch, not per frame
    if (frames.length === 0) return 0;
    // Closed is checked once per batch: a close that lands mid-batch takes effect from the next call.
    if (Atomics.load(this.#i32, I32.CLOSED) !== 0) {
      checkFrame(frames[0]!);
      this.#drop(frames[0]!.byteLength);
      return 0;
    }
    let n = 0;
    try {
      for (; n < frames.length; n++) {
        const frame = frames[n]!;
        checkFrame(frame);
        let ts: bigint;
        if (one) ts = (tsNs as bigint | undefined) ?? 0n;
        else checkTs((ts = (tsNs as readonly bigint[])[n] ?? 0n));
        if (!this.#put(frame, ts)) {
          this.#drop(frame.byteLength);
          break;
        }
      }
    } finally {
      if (n > 0 || this.#staged > 0) this.#publish(n + this.#staged);
      this.#staged = 0;
    }
    return n;
  }

  /** Writes one record (checked `frame` and `ts`) after our private write position, not yet visible to the reader.
   *  Returns false when it does not fit. */
  #put(frame: Uint8Array, ts: bigint): boolean {
    const len = frame.byteLength;
    if (len > this.maxFrameBytes) return false;
    const size = recordBytes(len);
    let w = this.#write;
    let off = w & this.#mask;
    const room = this.#dataBytes - off; // contiguous bytes before the end of the data area (≥ 8: all is 8-aligned)
    const need = size <= room ? size : room + size; // a record never straddles the end: pad to the next lap
    if (((w - this.#read) >>> 0) + need > this.#dataBytes) {
      // Looks full with the stale READ: load the current one. Atomics.load pairs with the reader's Atomics.store
      // of READ, which follows its last read of the freed records, so we never overwrite bytes still being read.
      this.#read = Atomics.load(this.#i32, I32.READ) >>> 0;
      if (((w - this.#read) >>> 0) + need > this.#dataBytes) return false;
    }
    const i32 = this.#i32;
    if (size > room) {
      i32[(HEADER_BYTES + off) >> 2] = SKIP;
      w = (w + room) >>> 0;
      off = 0;
    }
    // Plain stores: they become visible to the reader through the Atomics.store of WRITE in #publish.
    const at = HEADER_BYTES + off;
    i32[at >> 2] = len;
    i32[(at >> 2) + 1] = 0; // kind: 0 = frame (reserved for future record kinds)
    this.#u64[(at + 8) >> 3] = ts;
    this.#u8.set(frame, at + RECORD_HEADER_BYTES);
    this.#write = (w + size) >>> 0;
    return true;
  }

  /** Makes everything #put wrote visible to the reader, then wakes it if it announced a wait. */
  #publish(n: number): void {
    // PUSHED before WRITE: a record is counted before the reader can pop it, so stats never show popped > pushed.
    // Atomics.add of the literal 1n allocates nothing (measured ~14 ns against ~43 ns for BigInt(count) + store).
    Atomics.add(this.#u64, U64.PUSHED, n === 1 ? 1n : BigInt(n));
    // Release: this seq-cst store comes after the plain stores of the record bytes, and the reader's Atomics.load of
    // WRITE that sees it happens-before its plain reads of those bytes. So the reader never sees a half-written record.
    Atomics.store(this.#i32, I32.WRITE, this.#write | 0);
    // Dekker pattern with the reader: it stores WAITING = 1, then loads WRITE; we store WRITE, then load WAITING. Both
    // are seq-cst, so at least one side sees the other's store: either the reader sees the new WRITE and does not
    // sleep, or we see WAITING = 1 and wake it. When WAITING is 0 (the reader is busy) this costs one load, no syscall.
    if (Atomics.load(this.#i32, I32.WAITING) !== 0) wakeReader(this.#i32);
  }

  #drop(bytes: number): void {
    // Only this writer changes these words; Atomics makes each update visible whole to ringStats in any thread.
    Atomics.add(this.#u64, U64.DROPPED, 1n);
    Atomics.add(this.#u64, U64.DROPPED_BYTES, BigInt(bytes));
  }
}

/** Throws RingArgumentError unless `frame` is a Uint8Array (checked before anything reads its length, closed ring included). */
function checkFrame(frame: Uint8Array): void {
  if (!(frame instanceof Uint8Array)) throw new RingArgumentError('frame', 'a Uint8Array', frame);
}

/** Throws RingArgumentError unless `ts` is a bigint from 0 to 2^64 − 1 (a BigUint64Array would wrap it silently). */
function checkTs(ts: bigint): void {
  // asUintN is the cheap range test (~2 ns against ~9 ns for two comparisons): it changes exactly the out-of-range
  // values.
  if (typeof ts !== 'bigint' || BigInt.asUintN(64, ts) !== ts) {
    throw new RingArgumentError('tsNs', 'an unsigned 64-bit integer (bigint)', ts);
  }
}
