import { Subject, asyncScheduler, type Observable, type SchedulerLike, type Subscription } from 'rxjs';
import { InterfaceLostError, WorkerCrashLoopError, type PipelineError, type Stage } from './error.js';

/** The stages that hold a socket on the interface, which can be reopened without a new thread. */
export type LinkStage = 'capture' | 'transmit';

/** When to restart, when to reopen, when to give up. Times in ms on the supervisor's scheduler. */
export interface SupervisorPolicy {
  /** More deaths of one stage than this within crashWindowMs is a crash loop: the pipeline stops. */
  readonly maxRestarts: number;
  readonly crashWindowMs: number;
  /**
   * The delay before a restart, by how many times the stage died within the window (the first death restarts at
   * once): a worker that dies of its input or its environment is not spun in a tight loop, and the crash loop is
   * declared after about 4 s rather than in a few milliseconds.
   */
  readonly restartBackoffMs: readonly number[];
  /** Reopen attempts after the interface went down or away: this backoff, capped at its last value, until close. */
  readonly reopenBackoffMs: readonly number[];
  /** How long after an ENETDOWN to look whether the interface still exists (deletion takes it down first). */
  readonly linkSettleMs: number;
}

export const DEFAULT_POLICY: SupervisorPolicy = {
  maxRestarts: 5,
  crashWindowMs: 30_000,
  restartBackoffMs: [0, 250, 500, 1000, 2000],
  reopenBackoffMs: [250, 500, 1000, 2000, 5000],
  linkSettleMs: 50,
};

/** What the supervisor tells the pipeline to do, when it is time to do it. */
export type Action =
  | { readonly kind: 'restart'; readonly stage: Stage }
  | { readonly kind: 'reopen'; readonly stage: LinkStage }
  | { readonly kind: 'fail'; readonly error: PipelineError }
  | { readonly kind: 'warn'; readonly text: string };

export interface SupervisorOptions {
  readonly ifname: string;
  /** 'fail': the interface going down or away stops the pipeline (InterfaceLostError); 'reopen': wait for it. */
  readonly linkLoss: 'reopen' | 'fail';
  /** Whether the interface still exists (asked linkSettleMs after an ENETDOWN). */
  readonly linkExists: () => boolean;
  readonly policy?: SupervisorPolicy;
  /** The clock and timers: asyncScheduler in use, a TestScheduler in the tests. */
  readonly scheduler?: SchedulerLike;
}

/**
 * The pipeline's restart and reopen policy, apart from any thread: told what happened (a stage died, a socket
 * stopped, a reopen worked), it answers on actions$ with what to do and when, on an injected scheduler so the
 * policy is tested on virtual time. It never touches a worker or a ring itself.
 */
export class Supervisor {
  readonly #actions$ = new Subject<Action>();
  /** Hot: restart, reopen, fail and warn, each at its time. Completes on close. */
  readonly actions$: Observable<Action> = this.#actions$.asObservable();
  readonly #o: Required<SupervisorOptions>;
  readonly #restarts: Record<Stage, number> = { capture: 0, decode: 0, transmit: 0 };
  readonly #deaths: Record<Stage, number[]> = { capture: [], decode: [], transmit: [] };
  readonly #reopenAttempts: Record<LinkStage, number> = { capture: 0, transmit: 0 };
  readonly #pending = new Set<Subscription>();
  /** Set once the interface was found down or gone under linkLoss 'fail': the pipeline is about to fail. */
  #losingLink = false;
  #closed = false;

  constructor(o: SupervisorOptions) {
    this.#o = { policy: DEFAULT_POLICY, scheduler: asyncScheduler, ...o };
  }

  /** Restarts so far, per stage. */
  restarts(): Record<Stage, number> {
    return { ...this.#restarts };
  }

  /** A stage's thread died (`reason`: its uncaught error or exit code): restart it after its backoff, or give up. */
  died(stage: Stage, reason: string): void {
    if (this.#closed) return;
    const { maxRestarts, crashWindowMs, restartBackoffMs } = this.#o.policy;
    const now = this.#o.scheduler.now();
    const deaths = this.#deaths[stage].filter((at) => now - at < crashWindowMs);
    deaths.push(now);
    this.#deaths[stage] = deaths;
    if (deaths.length > maxRestarts) {
      this.#emit({ kind: 'fail', error: new WorkerCrashLoopError(stage, deaths.length, crashWindowMs, reason) });
      return;
    }
    const n = ++this.#restarts[stage];
    const delay = restartBackoffMs[Math.min(deaths.length, restartBackoffMs.length) - 1]!;
    this.#emit({ kind: 'warn', text: `${stage} worker died (${reason}); restarting it${delay > 0 ? ` in ${delay} ms` : ''} (restart ${n})` });
    this.#after(delay, { kind: 'restart', stage });
  }

  /** A stage's socket stopped or would not open: ask for a reopen after the next step of its backoff. */
  reopenLater(stage: LinkStage): void {
    if (this.#closed) return;
    const backoff = this.#o.policy.reopenBackoffMs;
    const attempt = this.#reopenAttempts[stage]++;
    this.#after(backoff[Math.min(attempt, backoff.length - 1)]!, { kind: 'reopen', stage });
  }

  /** A reopen worked: the next loss starts its backoff again. */
  reopened(stage: LinkStage): void {
    this.#reopenAttempts[stage] = 0;
  }

  /**
   * Under linkLoss 'fail', an error that says the interface is down or gone (ENETDOWN, ENODEV, ENXIO) stops the
   * pipeline with InterfaceLostError. Returns whether it does (then the caller does nothing else about `err`).
   */
  linkLost(err: unknown): boolean {
    if (this.#o.linkLoss !== 'fail' || this.#closed) return false;
    if (this.#losingLink) return true; // already failing: the other stage noticed too
    const code = (err as { code?: unknown } | null)?.code;
    if (code !== 'ENETDOWN' && code !== 'ENODEV' && code !== 'ENXIO') return false;
    // libpcap's own words for a capture (`The interface went down`), the failed call for a send (`sendmmsg: ENETDOWN`).
    const { detail, operation } = err as { detail?: unknown; operation?: unknown };
    const why = typeof detail === 'string' && detail !== '' ? detail : typeof operation === 'string' ? `${operation}: ${code}` : code;
    const { ifname, linkExists } = this.#o;
    this.#losingLink = true;
    if (code !== 'ENETDOWN') {
      this.#emit({ kind: 'fail', error: new InterfaceLostError(ifname, 'ENODEV', why) });
      return true;
    }
    // Deleting an interface takes it down first: a send or the capture fails with ENETDOWN a moment before the
    // interface is gone. Look again once that moment has passed, so the error gives the right advice.
    this.#after(this.#o.policy.linkSettleMs, () => ({ kind: 'fail', error: new InterfaceLostError(ifname, linkExists() ? 'ENETDOWN' : 'ENODEV', why) }));
    return true;
  }

  /** Cancels every pending restart, reopen and check; completes actions$. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#pending) s.unsubscribe();
    this.#pending.clear();
    this.#actions$.complete();
  }

  #emit(a: Action): void {
    if (!this.#closed) this.#actions$.next(a);
  }

  /** Emits `action` (or what it computes then) after `ms`; at once for 0, so a first restart does not wait a timer. */
  #after(ms: number, action: Action | (() => Action)): void {
    const fire = (): void => this.#emit(typeof action === 'function' ? action() : action);
    if (ms <= 0) return fire();
    const s = this.#o.scheduler.schedule(() => {
      this.#pending.delete(s);
      fire();
    }, ms);
    this.#pending.add(s);
  }
}
