import { existsSync } from 'node:fs';
import { Subject, type Observable } from 'rxjs';
import { RingReader, RingWriter, TraceHop, closeRing, createRing, ringStats, stamp, traceView, type RingHandle } from '@ersatz/ring';
import { CaptureError, newHandleSlot, spawnCapture, type CaptureApi, type CaptureOptions, type LinkInfo } from '@ersatz/capture-worker';
import { readEvent, spawnDecode, type DecodeApi, type PipelineEvent } from '@ersatz/decode-worker';
import { TransmitError, newSocketSlot, spawnTransmit, type TransmitApi, type TransmitInfo, type TransmitOptions } from '@ersatz/transmit-worker';
import { InterfaceLostError, PipelineError, PipelineOptionError, WorkerCrashLoopError, type Stage } from './error.js';
import { RING_DEFAULTS, type CapturedFrame, type PipelineOptions, type PipelineStats, type Recovery } from './options.js';
import { Departures, Hearing } from './progress.js';
import { readLoop } from './read-loop.js';
import { Thread } from './thread.js';

/** More restarts of one stage than this within CRASH_WINDOW_MS is a crash loop: the pipeline stops. */
const MAX_RESTARTS = 5;
const CRASH_WINDOW_MS = 30_000;
/**
 * How long to wait before restarting a stage that died, by how many times it died within CRASH_WINDOW_MS (the
 * first death restarts at once): a worker that dies of its input or its environment is not spun in a tight loop,
 * and the crash loop is declared after about 4 s rather than in a few milliseconds.
 */
const RESTART_BACKOFF_MS = [0, 250, 500, 1000, 2000] as const;
/** Reopen attempts after the interface went down or away: this backoff, capped at its last value, until close. */
const REOPEN_BACKOFF_MS = [250, 500, 1000, 2000, 5000] as const;
const MAX_WARNINGS = 20;
/** How long after an ENETDOWN to look whether the interface still exists (deletion takes it down first). */
const LINK_SETTLE_MS = 50;

/**
 * The live capture → decode → transmit pipeline on one interface: three worker threads joined by SharedArrayBuffer
 * rings, supervised from the main thread.
 *
 *   capture worker (libpcap via koffi) ─rx ring→ decode worker (@ersatz/wire) ─events ring→ main thread: events$
 *                                                                             ─frames ring→ main thread: frames$
 *   main thread: send() ─tx ring→ transmit worker (AF_PACKET + sendmmsg, or pcap_sendpacket; pacing) → wire
 *
 * The main thread only reads and writes rings (waitAsync, never blocking) and makes control calls (comlink). A worker
 * that dies is restarted with fresh rings for the links it owned (a ring's reader and writer are claimed once), after
 * a delay that grows while it keeps dying (RESTART_BACKOFF_MS), until a crash loop stops the pipeline. Frames in
 * flight at that moment are lost: recovered$ tells the coordinator when to ask again.
 *
 * Why no piscina here: a pool fits stateless jobs whose cost dwarfs a postMessage (piscina's own guidance). Every
 * stage of this live path is the opposite: capture owns one socket, transmit owns one socket and an ordered, paced
 * queue, and decoding one frame (~1 µs) costs less than handing it to a pool thread (~10–50 µs per message), besides
 * losing the order events must keep. The pool belongs to offline batch work, the `decode` command's pcap import.
 */
export class Pipeline {
  readonly #opts: Required<Pick<PipelineOptions, 'ifname' | 'keepFrames' | 'rxRingBytes' | 'eventsRingBytes' | 'framesRingBytes' | 'txRingBytes' | 'linkLoss'>>;
  readonly #captureOpts: CaptureOptions;
  readonly #transmitOpts: TransmitOptions;
  #rx: RingHandle;
  #events: RingHandle;
  #frames: RingHandle | undefined;
  #tx: RingHandle;
  #txWriter: RingWriter;
  /**
   * The tx writer with frames staged in this job, published at its end: the frames one job queues (a sweep's pump,
   * a hundred concurrent queries) reach the transmit worker together, for one wake instead of one per frame (a
   * notify costs the main thread ~20 µs here).
   */
  #txStaged: RingWriter | null = null;
  readonly #publishTx = (): void => {
    this.#txStaged?.publish();
    this.#txStaged = null;
  };
  #eventsReader: RingReader;
  #framesReader: RingReader | undefined;
  #capture!: Thread<CaptureApi>;
  #decode!: Thread<DecodeApi>;
  #transmit!: Thread<TransmitApi>;
  #link!: LinkInfo;
  #transmitInfo!: TransmitInfo;
  #state: 'opening' | 'open' | 'closing' | 'closed' = 'opening';
  /** Restarts and reopens run one at a time, in order: each swaps rings the others read. */
  #supervision: Promise<void> = Promise.resolve();
  readonly #restarts: Record<Stage, number> = { capture: 0, decode: 0, transmit: 0 };
  readonly #crashTimes: Record<Stage, number[]> = { capture: [], decode: [], transmit: [] };
  readonly #reopenTimers = new Set<NodeJS.Timeout>();
  /** Wakes a supervision job sleeping out a restart backoff (close must not wait for it). */
  readonly #wakers = new Set<() => void>();
  /** Set once the interface was found down or gone under `linkLoss: 'fail'`: the pipeline is about to fail. */
  #losingLink = false;
  /** Where the capture/transmit workers record their OS handles, so a successor closes what a dead one held. */
  readonly #captureSlot = newHandleSlot();
  readonly #transmitSlot = newSocketSlot();
  readonly #reopenAttempts: Record<'capture' | 'transmit', number> = { capture: 0, transmit: 0 };
  readonly #events$ = new Subject<PipelineEvent>();
  readonly #frames$ = new Subject<CapturedFrame>();
  readonly #warnings$ = new Subject<string>();
  readonly #recovered$ = new Subject<Recovery>();
  readonly #warnings: string[] = [];
  #eventCount = 0;
  #corruptRecords = 0;
  #frameCount = 0;
  #sendRefused = 0;
  readonly #departures = new Departures();
  readonly #hearing = new Hearing();
  readonly #traceSab: SharedArrayBuffer | undefined;
  readonly #trace: BigInt64Array | undefined;
  #loops: Promise<void>[] = [];
  #closed: Promise<void> | undefined;

  /** Hot: every ARP frame and ICMP echo decoded, in capture order. Completes on close; errors if a stage crash-loops. */
  readonly events$: Observable<PipelineEvent> = this.#events$.asObservable();
  /** Hot: every raw captured frame (only with keepFrames). Completes on close. */
  readonly frames$: Observable<CapturedFrame> = this.#frames$.asObservable();
  /**
   * Hot: the incidents the pipeline survives (restarts, reopens) as one-line texts (`capture worker died (...);
   * restarting it`). What stops it (a crash loop, a lost interface) errors events$ instead. Completes on close.
   */
  readonly warnings$: Observable<string> = this.#warnings$.asObservable();
  /** Hot: a stage is working again after a fault that may have lost frames (see Recovery). Completes on close. */
  readonly recovered$: Observable<Recovery> = this.#recovered$.asObservable();

  private constructor(o: PipelineOptions) {
    const opts = {
      ifname: o.ifname,
      keepFrames: o.keepFrames ?? false,
      rxRingBytes: o.rxRingBytes ?? RING_DEFAULTS.rxRingBytes,
      eventsRingBytes: o.eventsRingBytes ?? RING_DEFAULTS.eventsRingBytes,
      framesRingBytes: o.framesRingBytes ?? RING_DEFAULTS.framesRingBytes,
      txRingBytes: o.txRingBytes ?? RING_DEFAULTS.txRingBytes,
      linkLoss: o.linkLoss ?? 'reopen',
    };
    if (typeof opts.ifname !== 'string' || opts.ifname === '') throw new PipelineOptionError('ifname', 'an interface name', o.ifname);
    if (opts.linkLoss !== 'reopen' && opts.linkLoss !== 'fail') throw new PipelineOptionError('linkLoss', "'reopen' or 'fail'", o.linkLoss);
    if (o.transmitVia !== undefined && o.transmitVia !== 'packet-socket' && o.transmitVia !== 'pcap') {
      throw new PipelineOptionError('transmitVia', "'packet-socket' or 'pcap'", o.transmitVia);
    }
    if (o.captureWaitVia !== undefined && o.captureWaitVia !== 'selectable-fd' && o.captureWaitVia !== 'wait-loop') {
      throw new PipelineOptionError('captureWaitVia', "'selectable-fd' or 'wait-loop'", o.captureWaitVia);
    }
    this.#opts = opts;
    this.#traceSab = o.trace;
    this.#trace = traceView(o.trace);
    this.#captureOpts = {
      ifname: o.ifname,
      ...(o.filter !== undefined ? { filter: o.filter } : {}),
      ...(o.captureBufferBytes !== undefined ? { bufferBytes: o.captureBufferBytes } : {}),
      ...(o.snaplen !== undefined ? { snaplen: o.snaplen } : {}),
      ...(o.promiscuous !== undefined ? { promiscuous: o.promiscuous } : {}),
      ...(o.outgoing !== undefined ? { outgoing: o.outgoing } : {}),
      ...(o.captureWaitVia !== undefined ? { waitVia: o.captureWaitVia } : {}),
    };
    // Unset backends are left to the workers, which pick the platform's default.
    this.#transmitOpts = { ifname: o.ifname, ...(o.transmitVia !== undefined ? { via: o.transmitVia } : {}) };
    // createRing throws RingSizeError (a RingError: user-facing) for a size that is not a power of two in range.
    this.#rx = createRing(opts.rxRingBytes);
    this.#events = createRing(opts.eventsRingBytes);
    this.#frames = opts.keepFrames ? createRing(opts.framesRingBytes) : undefined;
    this.#tx = createRing(opts.txRingBytes);
    this.#txWriter = new RingWriter(this.#tx);
    this.#eventsReader = new RingReader(this.#events);
    this.#framesReader = this.#frames ? new RingReader(this.#frames) : undefined;
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
   * RingArgumentError for a frame that is not a Uint8Array or a negative time.
   */
  send(frame: Uint8Array, notBeforeNs: bigint = 0n): number {
    if (this.#state !== 'open' && this.#state !== 'opening') {
      this.#sendRefused++;
      return -1;
    }
    stamp(this.#trace, TraceHop.QUEUED);
    const writer = this.#txWriter;
    if (!writer.tryStage(frame, notBeforeNs)) {
      this.#sendRefused++;
      return -1;
    }
    if (this.#txStaged === null) queueMicrotask(this.#publishTx);
    else if (this.#txStaged !== writer) this.#txStaged.publish(); // the ring was swapped within the job
    this.#txStaged = writer;
    return this.#departures.queue();
  }

  /**
   * Queues frames in order until one does not fit. `notBeforeNs`: one time for all or one per frame. Returns how
   * many were queued (a prefix; they take tickets as send() would, unreported); the rest count in
   * stats().main.sendRefused.
   */
  sendBatch(frames: readonly Uint8Array[], notBeforeNs?: bigint | readonly bigint[]): number {
    if (this.#state !== 'open' && this.#state !== 'opening') {
      this.#sendRefused += frames.length;
      return 0;
    }
    const n = this.#txWriter.pushBatch(frames, notBeforeNs);
    this.#sendRefused += frames.length - n;
    this.#departures.queue(n);
    return n;
  }

  /** Frames no longer queued (handed to the kernel, refused, or lost with a dead worker): tickets below this. */
  departures(): number {
    return this.#departures.count();
  }

  /**
   * When the frame with `ticket` was handed to the kernel (the transmit worker's clock just before sendmmsg, on
   * Pipeline.now's clock), or null: still queued, refused, lost, or more than 32768 frames ago.
   */
  departedNs(ticket: number): bigint | null {
    return this.#departures.departedNs(ticket);
  }

  /**
   * A time (Pipeline.now's clock) before which every frame the kernel captured for us has been delivered on events$:
   * the capture time of the latest event delivered (frames travel in capture order), or the moment at which the
   * kernel's queue, the rx ring and the events ring were all found empty, looked at in the order frames travel so
   * that none can slip past. A wait that ended before it has seen every reply that came in time. On Windows the
   * kernel's queue cannot be looked at and counts as empty.
   */
  heardUntilNs(): bigint {
    return this.#hearing.until(Pipeline.now(), this.#link?.fd ?? -1, this.#rx, this.#eventsReader);
  }

  /** Every counter in one snapshot: per worker, per ring, restarts, the main thread's. Never rejects. */
  async stats(): Promise<PipelineStats> {
    const ask = <A, T>(t: Thread<A> | undefined, fn: (api: Thread<A>['api']) => Promise<T>): Promise<T | null> =>
      t && t.alive ? t.call('stats', fn, 2000).catch(() => null) : Promise.resolve(null);
    const [capture, decode, transmit] = await Promise.all([
      ask(this.#capture, (a) => a.stats()),
      ask(this.#decode, (a) => a.stats()),
      ask(this.#transmit, (a) => a.stats()),
    ]);
    return {
      capture,
      decode,
      transmit,
      rings: { rx: ringStats(this.#rx), events: ringStats(this.#events), frames: this.#frames ? ringStats(this.#frames) : null, tx: ringStats(this.#tx) },
      restarts: { ...this.#restarts },
      main: { events: this.#eventCount, frames: this.#frameCount, sendRefused: this.#sendRefused, badRecords: this.#corruptRecords },
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
   * terminated; the capture thread is made to throw an uncaught error (terminating it while its libpcap poll is live
   * aborts the process inside koffi, see workers/capture/src/main.ts), or terminated if it has not died 2 s later.
   * Resolves when the pipeline has restarted it (or gave up).
   */
  async simulateCrash(stage: Stage): Promise<void> {
    const t = this.#thread(stage);
    if (stage === 'capture' && t.alive) {
      t.worker.postMessage({ chaos: 'crash' });
      let timer: NodeJS.Timeout | undefined;
      const died = await Promise.race([t.exited.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 2000)))]);
      clearTimeout(timer);
      if (!died) await t.worker.terminate();
    } else await t.worker.terminate();
    await t.exited;
    // The exit handler queued the restart; wait for the queue to pass it.
    await this.#supervision;
  }

  // --- start and stop -------------------------------------------------------------------------------------------

  async #start(): Promise<void> {
    this.#decode = this.#spawnDecode();
    this.#capture = this.#spawnCapture(this.#rx);
    this.#transmit = this.#spawnTransmit(this.#tx);
    const forward = this.#opts.keepFrames ? this.#decode.call('forwardFrames', (a) => a.forwardFrames(true)) : Promise.resolve();
    const [link, info, fwd] = await Promise.allSettled([
      this.#capture.call('open', (a) => a.open(this.#captureOpts)),
      this.#transmit.call('open', (a) => a.open(this.#transmitOpts)),
      forward,
    ]);
    // Both opens run at once; when both fail (an unknown interface) the capture's error is the one reported, so the
    // same mistake always gives the same error.
    for (const r of [link, info, fwd]) if (r.status === 'rejected') throw r.reason;
    this.#link = (link as PromiseFulfilledResult<LinkInfo>).value;
    this.#transmitInfo = (info as PromiseFulfilledResult<TransmitInfo>).value;
    this.#state = 'open';
    this.#loops = [readLoop(() => this.#eventsReader, this.#onEvent, this.#stopping)];
    if (this.#opts.keepFrames) this.#loops.push(readLoop(() => this.#framesReader!, this.#onFrame, this.#stopping));
  }

  async #shutdown(): Promise<void> {
    this.#state = 'closing';
    for (const t of this.#reopenTimers) clearTimeout(t);
    this.#reopenTimers.clear();
    for (const wake of [...this.#wakers]) wake();
    await this.#supervision.catch(() => {});
    const quietly = (p: Promise<unknown>) => p.then(() => undefined, () => undefined);
    // Capture first, so nothing new enters; then decode closes the events/frames rings, which ends the main loops.
    if (this.#capture?.alive) await quietly(this.#capture.call('close', (a) => a.close(), 2000));
    closeRing(this.#tx);
    await Promise.all([
      this.#transmit?.alive ? quietly(this.#transmit.call('close', (a) => a.close(), 2000)) : undefined,
      this.#decode?.alive ? quietly(this.#decode.call('close', (a) => a.close(), 2000)) : undefined,
    ]);
    // Whatever did not answer, the rings are closed anyway so the main loops end.
    closeRing(this.#events);
    if (this.#frames) closeRing(this.#frames);
    await Promise.all([this.#capture, this.#decode, this.#transmit].map((t) => (t ? t.terminate() : undefined)));
    await Promise.all(this.#loops);
    this.#state = 'closed';
    this.#events$.complete();
    this.#frames$.complete();
    this.#warnings$.complete();
    this.#recovered$.complete();
  }

  // --- the main thread's readers --------------------------------------------------------------------------------

  readonly #stopping = (): boolean => this.#state === 'closing' || this.#state === 'closed';

  readonly #onEvent = (rec: Uint8Array, tsNs: bigint): void => {
    let ev: PipelineEvent;
    try {
      ev = readEvent(rec, tsNs);
    } catch (err) {
      // Only a decode worker of another version could write such a record: say so the first one is a warning; never stop.
      this.#corruptRecords++;
      if (this.#corruptRecords === 1) this.#warn(`events ring: ${(err as Error).message}`);
      return;
    }
    this.#eventCount++;
    this.#hearing.delivered(tsNs);
    stamp(this.#trace, TraceHop.MAIN_READ);
    this.#events$.next(ev);
  };

  readonly #onFrame = (frame: Uint8Array, tsNs: bigint): void => {
    this.#frameCount++;
    this.#frames$.next({ tsNs, bytes: frame.slice() });
  };

  // --- workers --------------------------------------------------------------------------------------------------

  #traced(): { trace?: SharedArrayBuffer } {
    return this.#traceSab === undefined ? {} : { trace: this.#traceSab };
  }

  #thread(stage: Stage): Thread<unknown> {
    return (stage === 'capture' ? this.#capture : stage === 'decode' ? this.#decode : this.#transmit) as Thread<unknown>;
  }

  #spawnCapture(rx: RingHandle): Thread<CaptureApi> {
    const { worker, api } = spawnCapture({ rx, handleSlot: this.#captureSlot, ...this.#traced() });
    const t = new Thread<CaptureApi>('capture', worker, api, CaptureError.fromWire);
    worker.on('message', (m: unknown) => {
      if (isIncident(m, 'capture-stopped')) this.#onCaptureStopped(CaptureError.fromWire(m.error) as Error);
    });
    void t.exited.then((code) => this.#onExit('capture', t, code));
    return t;
  }

  #spawnDecode(): Thread<DecodeApi> {
    const { worker, api } = spawnDecode({ rx: this.#rx, events: this.#events, ...(this.#frames ? { frames: this.#frames } : {}), ...this.#traced() });
    const t = new Thread<DecodeApi>('decode', worker, api, (e) => e);
    void t.exited.then((code) => this.#onExit('decode', t, code));
    return t;
  }

  #spawnTransmit(tx: RingHandle): Thread<TransmitApi> {
    const { worker, api } = spawnTransmit({ tx, socketSlot: this.#transmitSlot, departures: this.#departures.sab, ...this.#traced() });
    const t = new Thread<TransmitApi>('transmit', worker, api, TransmitError.fromWire);
    worker.on('message', (m: unknown) => {
      if (isIncident(m, 'transmit-failing')) this.#onTransmitFailing(TransmitError.fromWire(m.error) as TransmitError);
    });
    void t.exited.then((code) => this.#onExit('transmit', t, code));
    return t;
  }

  #onExit(stage: Stage, t: Thread<unknown>, code: number): void {
    if (this.#state !== 'open' || t !== this.#thread(stage)) return; // a planned end, or an old thread
    const reason = t.crash ? `${t.crash.name}: ${t.crash.message}` : `exit code ${code}`;
    const now = Date.now();
    const times = this.#crashTimes[stage].filter((at) => now - at < CRASH_WINDOW_MS);
    times.push(now);
    this.#crashTimes[stage] = times;
    if (times.length > MAX_RESTARTS) {
      this.#fail(new WorkerCrashLoopError(stage, times.length, CRASH_WINDOW_MS, reason));
      return;
    }
    this.#restarts[stage]++;
    const delay = RESTART_BACKOFF_MS[Math.min(times.length, RESTART_BACKOFF_MS.length) - 1]!;
    this.#warn(`${stage} worker died (${reason}); restarting it${delay > 0 ? ` in ${delay} ms` : ''} (restart ${this.#restarts[stage]})`);
    this.#supervise(async () => {
      if (delay > 0) await this.#sleep(delay);
      if (this.#state !== 'open') return;
      try {
        await this.#restart(stage);
      } catch (err) {
        // A half-restarted stage would leave the pipeline open and deaf: end it with the reason instead.
        const why = err instanceof Error ? err.message : String(err);
        this.#fail(new PipelineError(`cannot restart the ${stage} worker (${why}): open the link again`));
      }
    });
  }

  /** Resolves after `ms`, or at once when the pipeline closes. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#wakers.add(wake);
    });
  }

  /** Replaces a dead worker, with fresh rings where it was a ring's reader or writer. */
  async #restart(stage: Stage): Promise<void> {
    if (stage === 'capture') {
      const rx = createRing(this.#opts.rxRingBytes);
      if (this.#decode.alive) await this.#decode.call('setInput', (a) => a.setInput(rx));
      this.#rx = rx;
      this.#capture = this.#spawnCapture(rx);
      if (await this.#openCapture('restarted')) this.#recovered$.next({ stage, how: 'restarted' });
    } else if (stage === 'decode') {
      const rx = createRing(this.#opts.rxRingBytes);
      const events = createRing(this.#opts.eventsRingBytes);
      const frames = this.#opts.keepFrames ? createRing(this.#opts.framesRingBytes) : undefined;
      if (this.#capture.alive) await this.#capture.call('setOutput', (a) => a.setOutput(rx));
      const [oldEvents, oldFrames] = [this.#events, this.#frames];
      this.#rx = rx;
      this.#events = events;
      this.#frames = frames;
      // Swap the readers before closing the old rings: the woken loops must see the new reader.
      this.#eventsReader = new RingReader(events);
      if (frames) this.#framesReader = new RingReader(frames);
      closeRing(oldEvents);
      if (oldFrames) closeRing(oldFrames);
      this.#decode = this.#spawnDecode();
      if (this.#opts.keepFrames) await this.#decode.call('forwardFrames', (a) => a.forwardFrames(true));
      this.#warn('decode worker restarted');
      this.#recovered$.next({ stage, how: 'restarted' });
    } else {
      const tx = createRing(this.#opts.txRingBytes);
      closeRing(this.#tx);
      this.#departures.writeOff();
      this.#tx = tx;
      this.#txWriter = new RingWriter(tx);
      this.#transmit = this.#spawnTransmit(tx);
      if (await this.#openTransmit('restarted')) this.#recovered$.next({ stage, how: 'restarted' });
    }
  }

  /** Opens the capture of a restarted worker. Returns whether it opened (else a reopen is scheduled, or the pipeline failed). */
  async #openCapture(what: string): Promise<boolean> {
    try {
      this.#link = await this.#capture.call('open', (a) => a.open(this.#captureOpts));
      this.#warn(`capture on ${this.#opts.ifname} ${what}`);
      return true;
    } catch (err) {
      if (this.#linkLost(err)) return false;
      this.#warn(`capture on ${this.#opts.ifname} could not be reopened: ${(err as Error).message}`);
      this.#scheduleReopen('capture');
      return false;
    }
  }

  async #openTransmit(what: string): Promise<boolean> {
    try {
      this.#transmitInfo = await this.#transmit.call('open', (a) => a.open(this.#transmitOpts));
      this.#warn(`transmit on ${this.#opts.ifname} ${what}`);
      return true;
    } catch (err) {
      if (this.#linkLost(err)) return false;
      this.#warn(`transmit on ${this.#opts.ifname} could not be reopened: ${(err as Error).message}`);
      this.#scheduleReopen('transmit');
      return false;
    }
  }

  /** The interface went down or away under the capture: say so, then reopen once it is back (or fail, see linkLoss). */
  #onCaptureStopped(err: Error): void {
    if (this.#state !== 'open' || this.#linkLost(err)) return;
    this.#warn(`capture stopped: ${err.message}`);
    this.#scheduleReopen('capture');
  }

  #onTransmitFailing(err: TransmitError): void {
    if (this.#state !== 'open' || this.#linkLost(err)) return;
    this.#warn(`transmit failing: ${err.message}`);
    // A socket bound to a vanished ifindex stays dead even when a link of that name comes back: rebind it.
    if (err.code === 'ENXIO' || err.code === 'ENODEV') this.#scheduleReopen('transmit');
  }

  /**
   * With `linkLoss: 'fail'`, an error that says the interface is down or gone stops the pipeline with
   * InterfaceLostError. Returns whether it did.
   */
  #linkLost(err: unknown): boolean {
    if (this.#opts.linkLoss !== 'fail' || this.#state !== 'open') return false;
    if (this.#losingLink) return true; // already failing: the other stage noticed too
    const code = (err as { code?: unknown } | null)?.code;
    if (code !== 'ENETDOWN' && code !== 'ENODEV' && code !== 'ENXIO') return false;
    // libpcap's own words for a capture (`The interface went down`), the failed call for a send (`sendmmsg: ENETDOWN`).
    const { detail, operation } = err as { detail?: unknown; operation?: unknown };
    const why = typeof detail === 'string' && detail !== '' ? detail : typeof operation === 'string' ? `${operation}: ${code}` : code;
    if (code !== 'ENETDOWN') {
      this.#fail(new InterfaceLostError(this.#opts.ifname, 'ENODEV', why));
      return true;
    }
    // Deleting an interface takes it down first: a send or the capture fails with ENETDOWN a moment before the
    // interface is gone. Look again once that moment has passed, so the error gives the right advice.
    this.#losingLink = true;
    const timer = setTimeout(() => {
      this.#reopenTimers.delete(timer);
      this.#fail(new InterfaceLostError(this.#opts.ifname, existsSync(`/sys/class/net/${this.#opts.ifname}`) ? 'ENETDOWN' : 'ENODEV', why));
    }, LINK_SETTLE_MS);
    this.#reopenTimers.add(timer);
    return true;
  }

  #scheduleReopen(stage: 'capture' | 'transmit'): void {
    if (this.#state !== 'open') return;
    const attempt = this.#reopenAttempts[stage]++;
    const delay = REOPEN_BACKOFF_MS[Math.min(attempt, REOPEN_BACKOFF_MS.length - 1)]!;
    const timer = setTimeout(() => {
      this.#reopenTimers.delete(timer);
      this.#supervise(async () => {
        if (this.#state !== 'open') return;
        try {
          if (stage === 'capture') this.#link = await this.#capture.call('open', (a) => a.open(this.#captureOpts));
          else this.#transmitInfo = await this.#transmit.call('open', (a) => a.open(this.#transmitOpts));
          this.#reopenAttempts[stage] = 0;
          this.#warn(`${stage} on ${this.#opts.ifname} reopened`);
          this.#recovered$.next({ stage, how: 'reopened' });
        } catch (err) {
          if (!this.#linkLost(err)) this.#scheduleReopen(stage);
        }
      });
    }, delay);
    this.#reopenTimers.add(timer);
  }

  /** Queues supervision work so restarts and reopens never interleave; a failure becomes a warning. */
  #supervise(job: () => Promise<void>): void {
    this.#supervision = this.#supervision.then(job).catch((err: unknown) => {
      this.#warn(`supervision: ${err instanceof Error ? err.message : String(err)}`);
    });
  }

  #fail(err: PipelineError): void {
    if (this.#state !== 'open') return;
    // Kept in stats().warnings, but not put on warnings$: events$ carries it as its error, said once.
    this.#warn(err.message, false);
    this.#events$.error(err);
    void this.close();
  }

  #warn(text: string, emit = true): void {
    this.#warnings.push(text);
    if (this.#warnings.length > MAX_WARNINGS) this.#warnings.shift();
    if (emit) this.#warnings$.next(text);
  }
}

function isIncident<K extends string>(m: unknown, kind: K): m is { incident: K; error: unknown } {
  return typeof m === 'object' && m !== null && (m as { incident?: unknown }).incident === kind;
}
