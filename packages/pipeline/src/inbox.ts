// The main thread's end of the rings the decode worker writes: events and raw frames read into observables, in
// capture order, and up to when every captured frame has been delivered.
import { setImmediate as nextTurn } from 'node:timers';
import { setImmediate, setTimeout } from 'node:timers/promises';
import { Subject } from 'rxjs';
import { libc } from '@ersatz/os';
import { RingReader, TraceHop, closeRing, emptyProbe, stamp, type RingHandle } from '@ersatz/ring';
import { readEvent, type PipelineEvent } from '@ersatz/decode-worker';
import type { CapturedFrame } from './options.js';

/** See Pipeline.events$, frames$, heardUntilNs and stats().main: the pipeline's public side of this. */
export class Inbox {
  readonly events$ = new Subject<PipelineEvent>();
  readonly frames$ = new Subject<CapturedFrame>();
  events = 0;
  frames = 0;
  /** Event records that did not read back (a bug: the first one is also a warning). */
  badRecords = 0;
  /** Times the main thread looked for a lone frame's answer (see queued), and the events those looks delivered. */
  looks = 0;
  looked = 0;
  /** Frames the current job (a task and its microtasks) queued, and whether one of them is due now. */
  #jobFrames = 0;
  #jobDue = false;
  /** The latest job that queued frames queued one, due now: the look scheduled next is for its answer. */
  #lookWanted = false;
  #lookScheduled = false;
  readonly #lookAfterSend: boolean;
  #eventsReader: RingReader;
  #framesReader: RingReader | undefined;
  readonly #hearing = new Hearing();
  #loops: Promise<void>[] = [];

  readonly #trace: BigInt64Array | undefined;
  readonly #onBadRecord: (text: string) => void;

  /** `lookAfterSend`: see queued(). */
  constructor(events: RingHandle, frames: RingHandle | undefined, trace: BigInt64Array | undefined, onBadRecord: (text: string) => void, lookAfterSend: boolean) {
    this.#lookAfterSend = lookAfterSend;
    this.#trace = trace;
    this.#onBadRecord = onBadRecord;
    this.#eventsReader = new RingReader(events);
    this.#framesReader = frames ? new RingReader(frames) : undefined;
  }

  /** Starts reading; the loops end once `stopping()` and the rings are closed (see end). */
  start(stopping: () => boolean): void {
    this.#loops = [readLoop(() => this.#eventsReader, this.#onEvent, stopping)];
    if (this.#framesReader) this.#loops.push(readLoop(() => this.#framesReader!, this.#onFrame, stopping));
  }

  /** `fd`: libpcap's descriptor (-1: none); `rx`: the ring the capture writes. See Pipeline.heardUntilNs. */
  heardUntilNs(fd: number, rx: RingHandle): bigint {
    return this.#hearing.until(process.hrtime.bigint(), fd, rx, this.#eventsReader);
  }

  /**
   * `frames` were queued for the transmit worker, due now or paced for later. When a job (a task of the event loop and
   * its microtasks) queued a lone frame due now, the main thread, in the next turn, looks at the events ring for up to
   * LOOK_MS before it parks, unless a later job queued other frames meanwhile (the latest job decides): such a frame is
   * most often a query waiting for its answer, which comes back through three threads ~100 µs later, and waking the
   * parked main thread then costs ~40 µs more (on a VM, a halted vCPU, then V8's waitAsync task through the event
   * loop). Measured on a 2-vCPU VM, sequential `query$`: a median of 67–93 µs instead of 150–180 by hand (3 interleaved
   * runs), 76–117 µs against 173 in the bench; 100 concurrent no different. Not for many frames at once (a sweep,
   * concurrent queries: events come anyway, and their CPU is needed elsewhere), and the pipeline turns it off where
   * looking cannot pay (see Pipeline's constructor). Its cost: up to LOOK_MS of the main thread when no answer comes (a
   * claim's announcement, a ping to a silent host); and the events it delivers may come ahead of frames$'s copy of the
   * same frame (the two rings were never read in step).
   */
  queued(frames: number, dueNow: boolean): void {
    if (!this.#lookAfterSend || frames === 0) return;
    if (this.#jobFrames === 0) queueMicrotask(this.#endJob);
    this.#jobFrames += frames;
    this.#jobDue ||= dueNow;
  }

  readonly #endJob = (): void => {
    // Counted by job, not since the last look: an answer that came before the look ran (and the next query sent in
    // its wake) must not make the next query's lone frame look like two.
    this.#lookWanted = this.#jobFrames === 1 && this.#jobDue;
    this.#jobFrames = 0;
    this.#jobDue = false;
    if (!this.#lookWanted || this.#lookScheduled) return;
    this.#lookScheduled = true;
    nextTurn(this.#look);
  };

  readonly #look = (): void => {
    this.#lookScheduled = false;
    if (!this.#lookWanted) return;
    this.#lookWanted = false;
    this.looks++;
    const r = this.#eventsReader;
    const until = performance.now() + LOOK_MS; // a double: no BigInt allocated per turn of the loop
    do {
      if (r.pending) {
        // The parked reader's waitAsync still resolves when decode notifies it, and finds the ring drained.
        const before = this.events;
        r.drain(this.#onEvent, MAIN_BATCH);
        this.looked += this.events - before; // events, not records: a bad record is not one
        return;
      }
    } while (performance.now() < until);
  };

  /** The decode worker restarted with `fresh` in place of `old`. */
  moveTo(name: 'events' | 'frames', fresh: RingHandle, old: RingHandle): void {
    // Swap the reader before closing the old ring: the loop it wakes must find the new one.
    if (name === 'events') this.#eventsReader = new RingReader(fresh);
    else this.#framesReader = new RingReader(fresh);
    closeRing(old);
  }

  /** Waits for the loops to end (their rings closed), then completes the observables. */
  async end(): Promise<void> {
    await Promise.all(this.#loops);
    this.events$.complete();
    this.frames$.complete();
  }

  readonly #onEvent = (rec: Uint8Array, tsNs: bigint): void => {
    let ev: PipelineEvent;
    try {
      ev = readEvent(rec, tsNs);
    } catch (err) {
      // Only a decode worker of another version could write such a record: say so the first one is a warning; never stop.
      if (++this.badRecords === 1) this.#onBadRecord(`events ring: ${(err as Error).message}`);
      return;
    }
    this.events++;
    this.#hearing.delivered(tsNs);
    stamp(this.#trace, TraceHop.MAIN_READ);
    this.events$.next(ev);
  };

  readonly #onFrame = (frame: Uint8Array, tsNs: bigint): void => {
    this.frames++;
    this.frames$.next({ tsNs, bytes: frame.slice() });
  };
}

/** Records the main thread handles before giving the event loop a turn. */
const MAIN_BATCH = 4096;
/** How long the main thread looks for a lone frame's answer before it parks (see Inbox.queued). */
const LOOK_MS = 0.1;

/**
 * The main thread's reader of a ring the decode worker writes: each record → `onRecord`, until `stopping()` and the
 * ring is closed. `reader()` is read afresh each round: a decode restart swaps the reader, and the loop follows it.
 */
async function readLoop(reader: () => RingReader, onRecord: (rec: Uint8Array, tsNs: bigint) => void, stopping: () => boolean): Promise<void> {
  for (;;) {
    const r = reader();
    // No timeout and no timer per wait (each timed waitAsync costs V8 a timeout task, an eventfd write and an extra
    // epoll round): a record or closeRing wakes it, and the ref'd worker threads keep the process alive meanwhile.
    const ready = await r.waitAsync(Infinity, false);
    if (r !== reader()) continue;
    if (ready) {
      if (r.drain(onRecord, MAIN_BATCH) === MAIN_BATCH) await setImmediate(); // a turn for the event loop
    } else if (r.closed) {
      if (stopping()) return;
      await setTimeout(5); // closed by a decode restart that is swapping rings: look again shortly
    }
  }
}

const POLLIN = 1;

/** See Pipeline.heardUntilNs. */
class Hearing {
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
