// The main thread's end of the tx ring: frames queued for the transmit worker, their tickets, and their departures as
// the worker records them.
import { DepartureLog, RingWriter, TraceHop, closeRing, createDepartureLog, stamp, type RingHandle } from '@ersatz/ring';

/** See Pipeline.send, sendBatch, departures and departedNs: the pipeline's public side of this. */
export class Outbox {
  /** For the transmit worker's handles. */
  readonly departureLog = createDepartureLog();
  readonly #log = new DepartureLog(this.departureLog);
  #writer: RingWriter;
  /**
   * The writer with frames staged in this job, published at its end: the frames one job queues (a sweep's pump,
   * a hundred concurrent queries) reach the transmit worker together, for one wake instead of one per frame (a
   * notify costs the main thread ~20 µs here).
   */
  #staged: RingWriter | null = null;
  readonly #publish = (): void => {
    this.#staged?.publish();
    this.#staged = null;
  };
  /** Frames ever queued: the next one's ticket. */
  #queued = 0;
  /** Frames refused: the ring was full or the outbox closed. */
  refused = 0;
  #open = true;

  readonly #trace: BigInt64Array | undefined;

  constructor(ring: RingHandle, trace: BigInt64Array | undefined) {
    this.#writer = new RingWriter(ring);
    this.#trace = trace;
  }

  send(frame: Uint8Array, notBeforeNs: bigint): number {
    stamp(this.#trace, TraceHop.QUEUED);
    const writer = this.#writer;
    if (!this.#open || !writer.tryStage(frame, notBeforeNs)) {
      this.refused++;
      return -1;
    }
    if (this.#staged === null) queueMicrotask(this.#publish);
    else if (this.#staged !== writer) this.#staged.publish(); // the ring was swapped within the job
    this.#staged = writer;
    return this.#queued++;
  }

  sendBatch(frames: readonly Uint8Array[], notBeforeNs?: bigint | readonly bigint[]): number {
    const n = this.#open ? this.#writer.pushBatch(frames, notBeforeNs) : 0;
    this.refused += frames.length - n;
    this.#queued += n;
    return n;
  }

  departures(): number {
    return this.#log.departures(this.#queued);
  }

  departedNs(ticket: number): bigint | null {
    return this.#log.departedNs(ticket, this.#queued);
  }

  /** The transmit worker died and `fresh` replaces `old`: what waited in the old ring is gone with its reader. */
  moveTo(fresh: RingHandle, old: RingHandle): void {
    closeRing(old);
    this.#log.writeOff(this.#queued);
    this.#writer = new RingWriter(fresh);
  }

  /** Refuses every frame from now on. */
  close(): void {
    this.#open = false;
  }
}
