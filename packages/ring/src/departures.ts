/**
 * When each frame of a tx ring was handed to the kernel: the transmit worker's answer to "has my request left, and
 * when?". With it the main thread times an RTT from the send, as arping does (its clock is read just before
 * sendto), and paces a sweep by what has left the queue, without capturing its own requests on their way out.
 *
 * Frames are numbered in tx-ring order from 0; the number is the ticket `Pipeline.send` returns. The log keeps a
 * count of frames taken off the ring (sent, refused or lost) and the departure times of the latest
 * DEPARTURE_SLOTS of them. Layout: Int32 [0] frames taken (mod 2^32), then one BigInt64 per slot: hrtime ns, 0 when
 * the frame did not leave (refused by the kernel, dropped with a dead worker).
 */
export const DEPARTURE_SLOTS = 1 << 16;
const MASK = DEPARTURE_SLOTS - 1;
// A slot is trusted while fewer than half the slots have been taken since: the writer fills up to one batch of
// slots ahead of the count it has published.
const TRUSTED = DEPARTURE_SLOTS / 2;
const U32 = 2 ** 32;

/** A departure log for PipelineOptions and the transmit worker's handles. */
export function createDepartureLog(): SharedArrayBuffer {
  return new SharedArrayBuffer(8 + 8 * DEPARTURE_SLOTS);
}

export class DepartureLog {
  readonly #count: Int32Array;
  readonly #times: BigInt64Array;

  constructor(sab: SharedArrayBuffer) {
    this.#count = new Int32Array(sab, 0, 1);
    this.#times = new BigInt64Array(sab, 8, DEPARTURE_SLOTS);
  }

  /** Frames taken off the ring so far, mod 2^32: the number of the next one. */
  get taken(): number {
    return Atomics.load(this.#count, 0) >>> 0;
  }

  /** Writer: frame `n` left at `ns` (0n: it did not). Readers see it once a later `publish` counts it. */
  record(n: number, ns: bigint): void {
    this.#times[n & MASK] = ns;
  }

  /** Writer: frames below `taken` (mod 2^32) have been recorded. */
  publish(taken: number): void {
    Atomics.store(this.#count, 0, taken | 0);
  }

  /**
   * Reader: frames taken off the ring, given `queued` (frames ever put on it, which the reader counts): tickets
   * below the result are no longer queued.
   */
  departures(queued: number): number {
    return queued - ((queued % U32) - this.taken + U32) % U32;
  }

  /** Reader: when frame `ticket` was handed to the kernel, or null (still queued, did not leave, or too long ago). */
  departedNs(ticket: number, queued: number): bigint | null {
    const gone = this.departures(queued);
    if (ticket < 0 || ticket >= gone || gone - ticket > TRUSTED) return null;
    const ns = this.#times[ticket % DEPARTURE_SLOTS]!;
    return ns === 0n ? null : ns;
  }

  /** Supervisor: frames from `taken` up to `queued` were lost with the ring they waited in; the count moves past them. */
  writeOff(queued: number): void {
    const from = this.departures(queued);
    for (let t = Math.max(from, queued - TRUSTED); t < queued; t++) this.#times[t % DEPARTURE_SLOTS] = 0n;
    this.publish(queued % U32);
  }
}
