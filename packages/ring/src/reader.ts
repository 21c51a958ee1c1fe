import { RingArgumentError, RingCorruptError, RingError, RingRoleTakenError } from './error.js';
import { HEADER_BYTES, I32, maxFrameBytes, RECORD_HEADER_BYTES, recordBytes, SKIP, U64 } from './layout.js';
import { checkTimeout, ringViews, type RingHandle } from './ring.js';

/**
 * The consuming end of a ring: exactly one per ring, used by one thread. Reads records in the order they were pushed,
 * in place (no copy), and frees their space as soon as the callback returns.
 */
export class RingReader {
  readonly #i32: Int32Array;
  readonly #u64: BigUint64Array;
  readonly #sab: SharedArrayBuffer;
  readonly #mask: number;
  readonly #dataBytes: number;
  readonly #maxFrameBytes: number;
  /** Our copy of READ. Only this reader stores READ. */
  #read: number;
  #draining = false;

  /**
   * Claims the reading end of the ring behind `h`.
   * Throws RingHandleError for a bad handle, RingRoleTakenError when the ring already has a reader.
   */
  constructor(h: RingHandle) {
    const v = ringViews(h);
    // compareExchange makes the claim atomic across threads: two readers racing cannot both win.
    if (Atomics.compareExchange(v.i32, I32.READER_CLAIM, 0, 1) !== 0) throw new RingRoleTakenError('reader');
    this.#i32 = v.i32;
    this.#u64 = v.u64;
    this.#sab = h.sab;
    this.#dataBytes = v.dataBytes;
    this.#mask = v.dataBytes - 1;
    this.#maxFrameBytes = maxFrameBytes(v.dataBytes);
    this.#read = Atomics.load(v.i32, I32.READ) >>> 0;
  }

  /** Whether records are waiting to be drained. */
  get pending(): boolean {
    return this.#available();
  }

  /** Whether closeRing has run (records pushed before it may still be waiting to be drained). */
  get closed(): boolean {
    return Atomics.load(this.#i32, I32.CLOSED) !== 0;
  }

  /**
   * Calls `fn` for up to `max` records (default: all that were in the ring when drain began), oldest first.
   * `frame` is a view into the ring, valid only inside `fn`: copy it (`frame.slice()`) to keep it. `tsNs` is the
   * timestamp the writer gave (0n = none). Each record's space is freed right after its `fn` returns. Per record this
   * allocates the Uint8Array view and, when tsNs ≠ 0, the bigint.
   * Returns how many records were consumed. If `fn` throws, that record counts as consumed (a poisoned record is
   * not delivered again), the records after it stay in the ring, and the error propagates.
   * Throws RingArgumentError for a bad `max`, RingCorruptError if the buffer was written by something else, RingError
   * when called from inside its own callback.
   */
  drain(fn: (frame: Uint8Array, tsNs: bigint) => void, max = Infinity): number {
    if (!(max >= 0)) throw new RingArgumentError('max', 'a number ≥ 0', max);
    // A nested drain would start from the record the outer one is still delivering, and deliver it twice.
    if (this.#draining) {
      throw new RingError('ring: drain was called from inside a drain callback; return from fn first');
    }
    this.#draining = true;
    const i32 = this.#i32;
    const sab = this.#sab;
    // Acquire: this seq-cst load synchronises with the writer's store of WRITE, which followed its plain stores of
    // every record before it; so all bytes up to `w` are complete when we read them below.
    const w = Atomics.load(i32, I32.WRITE) >>> 0;
    let r = this.#read;
    let n = 0;
    try {
      while (r !== w && n < max) {
        const off = r & this.#mask;
        const at = HEADER_BYTES + off;
        const len = i32[at >> 2]!;
        if (len === SKIP) {
          r = (r + this.#dataBytes - off) >>> 0; // the record is at the start of the next lap
          continue;
        }
        if (len < 0 || len > this.#maxFrameBytes) throw new RingCorruptError(r, len, this.#maxFrameBytes);
        // A zero timestamp is common (tx rings, no capture time): skip the bigint allocation for it.
        const ts = (i32[(at >> 2) + 2]! | i32[(at >> 2) + 3]!) === 0 ? 0n : this.#u64[(at + 8) >> 3]!;
        const start = at + RECORD_HEADER_BYTES;
        r = (r + recordBytes(len)) >>> 0;
        n++;
        // A view built from the buffer costs about half of u8.subarray on a SharedArrayBuffer (measured).
        fn(new Uint8Array(sab, start, len), ts);
        // Release: fn's reads of the record happen before this seq-cst store, and the writer only reuses the space
        // after its Atomics.load of READ sees it. So the writer cannot overwrite a frame fn is still reading.
        Atomics.store(i32, I32.READ, r | 0);
      }
    } finally {
      if (r !== this.#read) {
        this.#read = r;
        Atomics.store(i32, I32.READ, r | 0); // covers a trailing SKIP and a record whose fn threw
      }
      if (n > 0) Atomics.add(this.#u64, U64.POPPED, n === 1 ? 1n : BigInt(n));
      this.#draining = false;
    }
    return n;
  }

  /**
   * Blocks this thread (Atomics.wait) until a record is available, the ring is closed, or `timeoutMs` passes (Infinity: no
   * limit). Only for threads that may block: never the main thread or the thread that owns `cap`.
   * Returns true when records are available (even on a closed ring), false on timeout or on a closed, empty ring.
   * Throws RingArgumentError for a negative or NaN timeout.
   */
  waitSync(timeoutMs: number): boolean {
    checkTimeout(timeoutMs);
    if (this.#available()) return true;
    const i32 = this.#i32;
    let deadline: number | undefined;
    for (;;) {
      // Announce the wait, then look again: the writer stores WRITE then loads WAITING, we store WAITING then load
      // WRITE (all seq-cst), so a record published around now is either seen here or wakes us. closeRing does the
      // same with CLOSED.
      Atomics.store(i32, I32.WAITING, 1);
      if (this.#available() || this.closed) break;
      deadline ??= performance.now() + timeoutMs;
      const left = deadline - performance.now();
      if (left <= 0) break;
      // Sleeps only while WAITING is still 1: a writer that already cleared it makes this return at once.
      Atomics.wait(i32, I32.WAITING, 1, left);
    }
    Atomics.store(i32, I32.WAITING, 0);
    return this.#available();
  }

  /**
   * The same as waitSync with Atomics.waitAsync, for threads with an event loop (never blocks the thread).
   * Resolves true when records are available, false on timeout or on a closed, empty ring.
   * `keepAlive` (default true): hold a timer while waiting, because on Node 20 a pending waitAsync does not keep a
   * thread's event loop alive. A caller that holds its own long-lived handle (holdEventLoop) passes false: with
   * `timeoutMs` Infinity the wait then creates no timer at all (a timed waitAsync costs V8 a timeout task per wait).
   * Rejects with RingArgumentError for a negative or NaN timeout.
   */
  async waitAsync(timeoutMs: number, keepAlive = true): Promise<boolean> {
    checkTimeout(timeoutMs);
    if (this.#available()) return true;
    const i32 = this.#i32;
    let deadline: number | undefined;
    for (;;) {
      Atomics.store(i32, I32.WAITING, 1); // same protocol as waitSync
      if (this.#available() || this.closed) break;
      deadline ??= performance.now() + timeoutMs;
      const left = deadline - performance.now();
      if (left <= 0) break;
      const span = Math.min(left, MAX_TIMER_MS);
      const res = left === Infinity && !keepAlive ? Atomics.waitAsync(i32, I32.WAITING, 1) : Atomics.waitAsync(i32, I32.WAITING, 1, span);
      if (!res.async) continue;
      // A timer for the same span keeps the thread alive until the wait settles (see keepAlive).
      const timer = keepAlive ? setTimeout(noop, span) : undefined;
      try {
        await res.value;
      } finally {
        clearTimeout(timer);
      }
    }
    Atomics.store(i32, I32.WAITING, 0);
    return this.#available();
  }

  #available(): boolean {
    return Atomics.load(this.#i32, I32.WRITE) >>> 0 !== this.#read;
  }
}

const MAX_TIMER_MS = 2 ** 31 - 1; // setTimeout's limit; longer waits go round the loop again
function noop(): void {}

/**
 * Holds this thread's event loop open until the returned function is called: for a loop whose waits are
 * `waitAsync(Infinity, false)` (no timer and no V8 timeout task per wait), since a pending waitAsync alone does not.
 */
export function holdEventLoop(): () => void {
  const timer = setInterval(noop, MAX_TIMER_MS);
  return () => clearInterval(timer);
}
