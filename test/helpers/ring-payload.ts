/**
 * Deterministic record stream for ring tests: record `seq` gets a pseudo-random length and content from a seeded
 * xorshift32, so the consumer can rebuild exactly what the producer pushed and compare every byte.
 */
export class PayloadStream {
  #state: number;
  seq = 0;

  constructor(
    seed: number,
    readonly maxLen: number,
  ) {
    this.#state = seed >>> 0 || 1;
  }

  #next(): number {
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    return this.#state;
  }

  /** Writes the next record's payload into `into` (≥ maxLen bytes) and returns its length. Mostly short frames, 1 in 8
   *  up to 255 bytes, and 1 in 1024 anywhere up to maxLen, so the ring fills and wraps at ever-changing offsets. */
  next(into: Uint8Array): number {
    const r = this.#next();
    const pick = r & 0x3ff;
    const len = pick === 0 ? this.#next() % (this.maxLen + 1) : pick < 128 ? (r >>> 10) % 256 : (r >>> 10) % 61;
    let i = 0;
    if (len >= 4) {
      // The sequence number leads the payload, little-endian, like a test-pattern generator would.
      const s = this.seq;
      into[0] = s & 0xff;
      into[1] = (s >>> 8) & 0xff;
      into[2] = (s >>> 16) & 0xff;
      into[3] = (s >>> 24) & 0xff;
      i = 4;
    }
    for (; i + 4 <= len; i += 4) {
      const v = this.#next();
      into[i] = v & 0xff;
      into[i + 1] = (v >>> 8) & 0xff;
      into[i + 2] = (v >>> 16) & 0xff;
      into[i + 3] = v >>> 24;
    }
    if (i < len) {
      let v = this.#next();
      for (; i < len; i++, v >>>= 8) into[i] = v & 0xff;
    }
    this.seq++;
    return len;
  }

  /** Timestamp the producer attaches to record `seq`: 0 (none) for every 16th, else seq + 1 ns. */
  static ts(seq: number): bigint {
    return seq % 16 === 0 ? 0n : BigInt(seq) + 1n;
  }
}

/** FNV-1a over a record's length and bytes, folded into a running 32-bit checksum. */
export function fnv(h: number, frame: Uint8Array): number {
  h = Math.imul(h ^ (frame.length & 0xff), 0x01000193);
  h = Math.imul(h ^ (frame.length >>> 8), 0x01000193);
  for (let i = 0; i < frame.length; i++) h = Math.imul(h ^ frame[i]!, 0x01000193);
  return h >>> 0;
}

export const FNV_SEED = 0x811c9dc5;
