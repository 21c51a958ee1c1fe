import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { currentCpu } from '@ersatz/os';
import { Subject, filter, firstValueFrom, type Observable } from 'rxjs';
import { closeRing, createRing, ringStats, traceView, type RingHandle } from '@ersatz/ring';
import { newHandleSlot, type LinkInfo } from '@ersatz/capture-worker';
import type { PipelineEvent } from '@ersatz/decode-worker';
import { newSocketSlot, type TransmitError, type TransmitInfo } from '@ersatz/transmit-worker';
import { PipelineError, type Stage } from './error.js';
import { checkOptions, type CapturedFrame, type PipelineOptions, type PipelineStats, type Recovery } from './options.js';
import { Outbox } from './outbox.js';
import { pinCaller, unpinCaller } from './caller-cpu.js';
import { holdIdlePoll } from './idle-poll.js';
import { Inbox } from './inbox.js';
import { RING_ENDS, specOf, type Incident, type RingName, type Rings, type Shared, type Threads } from './stages.js';
import { Supervisor, type Action, type LinkStage } from './supervisor.js';
import type { Thread } from './thread.js';

const MAX_WARNINGS = 20;

/**
 * The live capture → decode → transmit pipeline on one interface: three worker threads joined by SharedArrayBuffer
 * rings, supervised from the main thread.
 *
 *   capture worker (libpcap via koffi) ─rx ring→ decode worker (@ersatz/wire) ─events ring→ main thread: events$
 *                                                                             ─frames ring→ main thread: frames$
 *   main thread: send() ─tx ring→ transmit worker (AF_PACKET + sendmmsg, or pcap_sendpacket; pacing) → wire
 *
 * The main thread only reads and writes rings (waitAsync, never blocking) and makes control calls (comlink). The
 * stages are described once (stages.ts); the policy of when to restart, reopen or give up lives in Supervisor, on a
 * scheduler of its own. A worker that dies is restarted with fresh rings where it was a ring's reader or writer (a
 * ring's ends are claimed once). Frames in flight at that moment are lost: recovered$ tells the coordinator when to
 * ask again.
 *
 * Why no piscina here: a pool fits stateless jobs whose cost dwarfs a postMessage (piscina's own guidance). Every
 * stage of this live path is the opposite: capture owns one socket, transmit owns one socket and an ordered, paced
 * queue, and decoding one frame (~1 µs) costs less than handing it to a pool thread (~10–50 µs per message), besides
 * losing the order events must keep. The pool belongs to offline batch work, the `decode` command's pcap import.
 */
export class Pipeline {
  readonly #o: ReturnType<typeof checkOptions>;
  readonly #shared: Shared;
  /** This pipeline pinned its opener's thread (sameCpu): close gives it back. */
  #pinned = false;
  /** Releases the CPU latency request held while open (idlePoll). */
  #releaseIdlePoll: (() => void) | undefined;
  readonly #rings: Rings;
  readonly #outbox: Outbox;
  readonly #inbox: Inbox;
  readonly #threads = {} as Threads;
  #link!: LinkInfo;
  #transmitInfo!: TransmitInfo;
  #state: 'opening' | 'open' | 'closing' | 'closed' = 'opening';
  readonly #supervisor: Supervisor;
  /** Restarts and reopens run one at a time, in order: each swaps rings the others read. */
  #jobs: Promise<void> = Promise.resolve();
  readonly #warnings$ = new Subject<string>();
  readonly #recovered$ = new Subject<Recovery>();
  readonly #warnings: string[] = [];
  #closed: Promise<void> | undefined;

  /** Hot: every ARP frame and ICMP echo decoded, in capture order. Completes on close; errors if a stage crash-loops. */
  readonly events$: Observable<PipelineEvent>;
  /** Hot: every raw captured frame (only with keepFrames). Completes on close. */
  readonly frames$: Observable<CapturedFrame>;
  /**
   * Hot: the incidents the pipeline survives (restarts, reopens) as one-line texts (`capture worker died (...);
   * restarting it`). What stops it (a crash loop, a lost interface) errors events$ instead. Completes on close.
   */
  readonly warnings$: Observable<string> = this.#warnings$.asObservable();
  /** Hot: a stage is working again after a fault that may have lost frames (see Recovery). Completes on close. */
  readonly recovered$: Observable<Recovery> = this.#recovered$.asObservable();

  private constructor(opts: PipelineOptions) {
    const o = (this.#o = checkOptions(opts));
    const trace = traceView(opts.trace);
    // createRing throws RingSizeError (a RingError: user-facing) for a size that is not a power of two in range.
    this.#rings = {
      rx: createRing(o.ringBytes.rx),
      events: createRing(o.ringBytes.events),
      frames: o.keepFrames ? createRing(o.ringBytes.frames) : undefined,
      tx: createRing(o.ringBytes.tx),
    };
    this.#outbox = new Outbox(this.#rings.tx, trace);
    this.#shared = {
      captureSlot: newHandleSlot(),
      transmitSlot: newSocketSlot(),
      departures: this.#outbox.departureLog,
      trace: opts.trace,
      captureOpts: o.captureOpts,
      transmitOpts: o.transmitOpts,
      keepFrames: o.keepFrames,
      cpu: o.sameCpu ? currentCpu() : undefined,
    };
    // Looking for a lone frame's answer (Inbox.queued) pays only where the threads it waits for run on another CPU
    // that may be halted: not on one CPU, not with sameCpu (they would wait for the look to end), not with idlePoll.
    const lookAfterSend = !o.sameCpu && !o.idlePoll && availableParallelism() > 1;
    this.#inbox = new Inbox(this.#rings.events, this.#rings.frames, trace, (text) => this.#warn(text), lookAfterSend);
    this.events$ = this.#inbox.events$.asObservable();
    this.frames$ = this.#inbox.frames$.asObservable();
    this.#supervisor = new Supervisor({
      ifname: o.ifname,
      linkLoss: o.linkLoss,
      linkExists: () => existsSync(`/sys/class/net/${o.ifname}`),
    });
    this.#supervisor.actions$.subscribe((a) => this.#act(a));
  }

  /**
   * Spawns the three workers on `opts.ifname`, opens capture and transmit, and starts delivering events.
   * Returns the open pipeline. Rejects with CaptureError (EPERM, ENODEV, ENETDOWN, EINVAL for a bad filter, ...)
   * or TransmitError (EPERM, ENODEV, ...) rebuilt from the worker, RingSizeError for a ring size, PipelineError;
   * nothing is left running when it rejects.
   */
  static async open(opts: PipelineOptions): Promise<Pipeline> {
    const p = new Pipeline(opts);
    try {
      await p.#start();
      return p;
    } catch (err) {
      await p.close();
      throw err;
    }
  }

  /** The monotonic clock every timestamp uses (capture tsNs, send's notBeforeNs): `process.hrtime.bigint()`. */
  static now(): bigint {
    return process.hrtime.bigint();
  }

  /** What the capture opened (snaplen, buffer, filter). */
  get link(): LinkInfo {
    return this.#link;
  }

  /** What the transmit worker opened (ifindex, batch size). */
  get transmitInfo(): TransmitInfo {
    return this.#transmitInfo;
  }

  /**
   * Queues one frame (copied) for the transmit worker, which sees it at the end of the current job (microtask)
   * with every other frame queued in it. `notBeforeNs`: do not send before this `Pipeline.now()` time (0 = now).
   * Returns the frame's ticket (0, 1, 2, ... in queue order) for departures()/departedNs(), or -1 when it was not
   * queued: the tx ring is full or the pipeline is closed (counted in stats().main.sendRefused). Throws
   * RingArgumentError for a frame that is not a Uint8Array or a negative time. A lone frame due now may make the
   * main thread look for its answer for up to 100 µs at the end of this turn (see Inbox.queued).
   */
  send(frame: Uint8Array, notBeforeNs: bigint = 0n): number {
    const ticket = this.#outbox.send(frame, notBeforeNs);
    if (ticket >= 0) this.#inbox.queued(1, notBeforeNs === 0n);
    return ticket;
  }

  /**
   * Queues frames in order until one does not fit. `notBeforeNs`: one time for all or one per frame. Returns how
   * many were queued (a prefix; they take tickets as send() would, unreported); the rest count in
   * stats().main.sendRefused.
   */
  sendBatch(frames: readonly Uint8Array[], notBeforeNs?: bigint | readonly bigint[]): number {
    const n = this.#outbox.sendBatch(frames, notBeforeNs);
    this.#inbox.queued(n, false); // never looked for: a batch is many frames
    return n;
  }

  /** Frames no longer queued (handed to the kernel, refused, or lost with a dead worker): tickets below this. */
  departures(): number {
    return this.#outbox.departures();
  }

  /**
   * When the frame with `ticket` was handed to the kernel (the transmit worker's clock just before sendmmsg, on
   * Pipeline.now's clock), or null: still queued, refused, lost, or more than 32768 frames ago.
   */
  departedNs(ticket: number): bigint | null {
    return this.#outbox.departedNs(ticket);
  }

  /**
   * A time (Pipeline.now's clock) before which every frame the kernel captured for us has been delivered on events$:
   * the capture time of the latest event delivered (frames travel in capture order), or the moment at which the
   * kernel's queue, the rx ring and the events ring were all found empty, looked at in the order frames travel so
   * that none can slip past. A wait that ended before it has seen every reply that came in time. On Windows the
   * kernel's queue cannot be looked at and counts as empty.
   */
  heardUntilNs(): bigint {
    return this.#inbox.heardUntilNs(this.#link?.fd ?? -1, this.#rings.rx);
  }

  /** Every counter in one snapshot: per worker, per ring, restarts, the main thread's. Never rejects. */
  async stats(): Promise<PipelineStats> {
    const ask = <A, T>(t: Thread<A> | undefined, fn: (api: Thread<A>['api']) => Promise<T>): Promise<T | null> =>
      t && t.alive ? t.call('stats', fn, 2000).catch(() => null) : Promise.resolve(null);
    const t = this.#threads;
    const [capture, decode, transmit] = await Promise.all([
      ask(t.capture, (a) => a.stats()),
      ask(t.decode, (a) => a.stats()),
      ask(t.transmit, (a) => a.stats()),
    ]);
    const r = this.#rings;
    return {
      capture,
      decode,
      transmit,
      rings: { rx: ringStats(r.rx), events: ringStats(r.events), frames: r.frames ? ringStats(r.frames) : null, tx: ringStats(r.tx) },
      restarts: this.#supervisor.restarts(),
      main: { events: this.#inbox.events, frames: this.#inbox.frames, sendRefused: this.#outbox.refused, badRecords: this.#inbox.badRecords, looks: this.#inbox.looks, looked: this.#inbox.looked },
      warnings: [...this.#warnings],
    };
  }

  /**
   * Stops capturing and sending, ends the three threads and completes the observables. Afterwards nothing of the
   * pipeline keeps the process alive. Idempotent; never rejects.
   */
  close(): Promise<void> {
    return (this.#closed ??= this.#shutdown());
  }

  /**
   * Ends one worker thread the way a crash would (test and chaos hook): the decode and transmit threads are
   * terminated; the capture thread dies of an uncaught error. Resolves when the pipeline has restarted it (or gave up).
   */
  async simulateCrash(stage: Stage): Promise<void> {
    const t = this.#threads[stage];
    const decided = firstValueFrom(this.#supervisor.actions$.pipe(filter((a) => (a.kind === 'restart' && a.stage === stage) || a.kind === 'fail')), {
      defaultValue: undefined,
    });
    if (t.alive) await specOf(stage).crash(t as Thread<unknown>);
    await t.exited;
    // The restart comes after its backoff, then waits its turn in the job queue.
    await decided;
    await this.#jobs;
  }

  // --- start and stop -------------------------------------------------------------------------------------------

  async #start(): Promise<void> {
    if (this.#o.idlePoll) this.#releaseIdlePoll = holdIdlePoll(); // first: a refusal leaves nothing to stop
    if (this.#shared.cpu !== undefined) {
      pinCaller(this.#shared.cpu);
      this.#pinned = true;
    }
    for (const stage of ['decode', 'capture', 'transmit'] as const) this.#spawn(stage);
    const [link, info, forwarding] = await Promise.allSettled([this.#open('capture'), this.#open('transmit'), this.#open('decode')]);
    // All open at once; when capture and transmit both fail (an unknown interface) the capture's error is the one
    // reported, so the same mistake always gives the same error.
    for (const r of [link, info, forwarding]) if (r.status === 'rejected') throw r.reason;
    this.#state = 'open';
    this.#inbox.start(() => this.#state === 'closing' || this.#state === 'closed');
  }

  async #shutdown(): Promise<void> {
    this.#state = 'closing';
    this.#outbox.close();
    this.#supervisor.close();
    await this.#jobs;
    const quietly = (p: Promise<unknown>) => p.then(() => undefined, () => undefined);
    const { capture, decode, transmit } = this.#threads;
    // Capture and transmit together: closing a packet socket waits out an RCU grace period or two in the kernel
    // (measured: 7-30 ms each), and two threads wait them out at once. Decode after capture, so nothing new enters;
    // it closes the events/frames rings, which ends the main loops.
    closeRing(this.#rings.tx);
    await Promise.all([
      capture?.alive ? quietly(capture.call('close', (a) => a.close(), 2000)) : undefined,
      transmit?.alive ? quietly(transmit.call('close', (a) => a.close(), 2000)) : undefined,
    ]);
    if (decode?.alive) await quietly(decode.call('close', (a) => a.close(), 2000));
    // Whatever did not answer, the rings are closed anyway so the main loops end.
    closeRing(this.#rings.events);
    if (this.#rings.frames) closeRing(this.#rings.frames);
    await Promise.all([capture, decode, transmit].map((t) => t?.terminate()));
    await this.#inbox.end();
    try {
      this.#releaseIdlePoll?.();
    } finally {
      if (this.#pinned) unpinCaller();
    }
    this.#state = 'closed';
    this.#warnings$.complete();
    this.#recovered$.complete();
  }

  // --- stages ---------------------------------------------------------------------------------------------------

  #spawn(stage: Stage): void {
    const t = specOf(stage).spawn(this.#rings, this.#shared, this.#onIncident);
    (this.#threads as Record<Stage, Thread<unknown>>)[stage] = t;
    void t.exited.then((code) => {
      if (this.#state !== 'open' || t !== this.#threads[stage]) return; // a planned end, or an old thread
      this.#supervisor.died(stage, t.crash ? `${t.crash.name}: ${t.crash.message}` : `exit code ${code}`);
    });
  }

  /** Makes the stage's current thread work (opens its socket, turns on forwarding) and keeps what it opened. */
  async #open(stage: Stage): Promise<void> {
    const opened = await specOf(stage).start(this.#threads[stage] as Thread<unknown>, this.#shared);
    if (stage === 'capture') this.#link = opened as LinkInfo;
    else if (stage === 'transmit') this.#transmitInfo = opened as TransmitInfo;
  }

  /** Replaces a dead stage's thread, with a fresh ring wherever it was a reader or writer. */
  async #restart(stage: Stage): Promise<void> {
    for (const name of specOf(stage).rings) {
      const old = this.#rings[name];
      if (!old) continue;
      const fresh = createRing(this.#o.ringBytes[name]);
      const [writer, reader] = RING_ENDS[name];
      const other = writer === stage ? reader : writer;
      if (other === 'main') this.#attachMain(name, fresh, old);
      else if (this.#threads[other].alive) await specOf(other).attach(this.#threads[other] as Thread<unknown>, name, fresh);
      this.#rings[name] = fresh;
    }
    this.#spawn(stage);
    try {
      await this.#open(stage);
    } catch (err) {
      if (stage === 'decode') throw err;
      this.#cannotOpen(stage, err);
      return;
    }
    this.#warn(`${stage} worker restarted`);
    this.#recovered$.next({ stage, how: 'restarted' });
  }

  /** The main thread's end of a ring moves to `fresh`. */
  #attachMain(name: RingName, fresh: RingHandle, old: RingHandle): void {
    if (name === 'tx') this.#outbox.moveTo(fresh, old);
    else this.#inbox.moveTo(name as 'events' | 'frames', fresh, old);
  }

  async #reopen(stage: LinkStage): Promise<void> {
    try {
      await this.#open(stage);
    } catch (err) {
      if (!this.#supervisor.linkLost(err)) this.#supervisor.reopenLater(stage);
      return;
    }
    this.#supervisor.reopened(stage);
    this.#warn(`${stage} on ${this.#o.ifname} reopened`);
    this.#recovered$.next({ stage, how: 'reopened' });
  }

  /** A restarted thread could not open its socket: the link is lost, or try again later. */
  #cannotOpen(stage: LinkStage, err: unknown): void {
    if (this.#supervisor.linkLost(err)) return;
    this.#warn(`${stage} on ${this.#o.ifname} could not be reopened: ${(err as Error).message}`);
    this.#supervisor.reopenLater(stage);
  }

  /** The interface went down or away under a stage: say so, then reopen once it is back (or fail, see linkLoss). */
  readonly #onIncident = (i: Incident): void => {
    if (this.#state !== 'open' || this.#supervisor.linkLost(i.error)) return;
    if (i.stage === 'capture') {
      this.#warn(`capture stopped: ${i.error.message}`);
      this.#supervisor.reopenLater('capture');
      return;
    }
    this.#warn(`transmit failing: ${i.error.message}`);
    // A socket bound to a vanished ifindex stays dead even when a link of that name comes back: rebind it.
    const code = (i.error as TransmitError).code;
    if (code === 'ENXIO' || code === 'ENODEV') this.#supervisor.reopenLater('transmit');
  };

  /** Carries out what the supervisor decided. */
  #act(a: Action): void {
    if (this.#state !== 'open') return;
    if (a.kind === 'warn') this.#warn(a.text);
    else if (a.kind === 'fail') this.#fail(a.error);
    else if (a.kind === 'reopen') this.#queue(() => this.#reopen(a.stage));
    else {
      this.#queue(() =>
        this.#restart(a.stage).catch((err: unknown) => {
          // A half-restarted stage would leave the pipeline open and deaf: end it with the reason instead.
          this.#fail(new PipelineError(`cannot restart the ${a.stage} worker (${err instanceof Error ? err.message : String(err)}): open the link again`));
        }),
      );
    }
  }

  /** Queues a restart or reopen so they never interleave; each runs only while the pipeline is open. */
  #queue(job: () => Promise<void>): void {
    this.#jobs = this.#jobs.then(() => (this.#state === 'open' ? job() : undefined)).catch((err: unknown) => {
      this.#warn(`supervision: ${err instanceof Error ? err.message : String(err)}`);
    });
  }

  #fail(err: PipelineError): void {
    if (this.#state !== 'open') return;
    // Kept in stats().warnings, but not put on warnings$: events$ carries it as its error, said once.
    this.#warn(err.message, false);
    this.#inbox.events$.error(err);
    void this.close();
  }

  #warn(text: string, emit = true): void {
    this.#warnings.push(text);
    if (this.#warnings.length > MAX_WARNINGS) this.#warnings.shift();
    if (emit) this.#warnings$.next(text);
  }
}
