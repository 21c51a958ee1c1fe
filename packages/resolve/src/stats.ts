/** min/avg/max/stddev of round-trip times, in ms (what ping and arping users read). */
export interface RttStats {
  readonly count: number;
  readonly minMs: number;
  readonly avgMs: number;
  readonly maxMs: number;
  /** Population standard deviation (ping's `mdev`). */
  readonly stddevMs: number;
}

/**
 * Running RTT statistics in O(1) memory (an arping may run for days): Welford's update keeps the variance
 * accurate where the textbook sum-of-squares formula cancels catastrophically.
 */
export class RttAccumulator {
  #n = 0;
  #mean = 0;
  #m2 = 0;
  #min = Infinity;
  #max = -Infinity;

  add(rttNs: bigint): void {
    const x = Number(rttNs) / 1e6;
    this.#n++;
    const d = x - this.#mean;
    this.#mean += d / this.#n;
    this.#m2 += d * (x - this.#mean);
    if (x < this.#min) this.#min = x;
    if (x > this.#max) this.#max = x;
  }

  /** The statistics so far, or null before the first sample. */
  stats(): RttStats | null {
    if (this.#n === 0) return null;
    return { count: this.#n, minMs: this.#min, avgMs: this.#mean, maxMs: this.#max, stddevMs: Math.sqrt(this.#m2 / this.#n) };
  }
}
