// What the main thread knows of its frames' progress through the workers: which sent frames have left (the transmit
// worker's departure log) and up to when captured frames have all been delivered.
import { libc } from '@ersatz/os';
import { DepartureLog, createDepartureLog, emptyProbe, type RingHandle, type RingReader } from '@ersatz/ring';

/** Tickets for frames queued on the tx ring, and their departures as the transmit worker records them. */
export class Departures {
  /** For the transmit worker's handles. */
  readonly sab = createDepartureLog();
  readonly #log = new DepartureLog(this.sab);
  /** Frames ever queued on a tx ring: the next one's ticket. */
  #queued = 0;

  /** Counts `n` frames queued; returns the first one's ticket. */
  queue(n = 1): number {
    const first = this.#queued;
    this.#queued += n;
    return first;
  }

  /** See Pipeline.departures. */
  count(): number {
    return this.#log.departures(this.#queued);
  }

  /** See Pipeline.departedNs. */
  departedNs(ticket: number): bigint | null {
    return this.#log.departedNs(ticket, this.#queued);
  }

  /** The transmit worker died: what waited in its ring is gone with it. */
  writeOff(): void {
    this.#log.writeOff(this.#queued);
  }
}

const POLLIN = 1;

/** See Pipeline.heardUntilNs. */
export class Hearing {
  #heardNs = 0n;
  /** struct pollfd { int fd; short events; short revents; }, in the machine's byte order. */
  readonly #pollFd = new Uint8Array(8);

  /** An event captured at `tsNs` was delivered: so was every frame captured before it. */
  delivered(tsNs: bigint): void {
    if (tsNs > this.#heardNs) this.#heardNs = tsNs;
  }

  /** `fd`: libpcap's descriptor (-1: none, its queue counts as empty); the rx ring and the events ring's reader. */
  until(nowNs: bigint, fd: number, rx: RingHandle, events: RingReader): bigint {
    // In the order frames travel, so that none can slip past between two looks.
    if (this.#kernelQueueEmpty(fd) && emptyProbe(rx)() && !events.pending) this.#heardNs = nowNs;
    return this.#heardNs;
  }

  #kernelQueueEmpty(fd: number): boolean {
    if (fd < 0) return true;
    new Int32Array(this.#pollFd.buffer, 0, 1)[0] = fd;
    new Int16Array(this.#pollFd.buffer, 4, 2).set([POLLIN, 0]);
    return libc().poll(this.#pollFd, 1, 0) === 0;
  }
}
