import { asyncScheduler, filter, Observable, type SchedulerLike, type Subscriber, type Subscription, type TeardownLogic } from 'rxjs';
import { ArpOp, printable, type Ipv4, type Mac } from '@ersatz/wire';
import { MacCache } from './cache.js';
import { ChurnMap } from './churn-map.js';
import { AddressConflictError, checkDelay, checkInt } from './error.js';
import { judgeAnswer, type AnswerRules } from './answer.js';
import { RequestTemplate } from './frames.js';
import { Query, type Listener, type QueryHost, type QueryOptions, type ResolveResult, type ResultSink, type Settled } from './query.js';
import type { ArpLink, ArpObservation } from './link.js';

export type { QueryOptions, ResolveResult } from './query.js';

export interface ResolverOptions extends QueryOptions {
  /** Clock for every timer (retries, timeouts, settle window, cache TTL). Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** How long an answer is remembered and given without sending (default 0: no cache). */
  readonly cacheTtlMs?: number;
  /** Most answers remembered (default 256). */
  readonly cacheMax?: number;
}

const OP = 'resolve';

function settle(defaults: Settled, o: QueryOptions): Settled {
  // The common call passes no options: nothing to check or merge. Field by field, so every Settled has one shape.
  if (o.tries === undefined && o.intervalMs === undefined && o.settleMs === undefined && o.acceptGratuitous === undefined && o.acceptNotToUs === undefined && o.acceptSourceMismatch === undefined) {
    return defaults;
  }
  checkInt(OP, 'tries', o.tries, 1);
  checkDelay(OP, 'intervalMs', o.intervalMs, true);
  checkDelay(OP, 'settleMs', o.settleMs);
  const settled: Settled = {
    tries: o.tries ?? defaults.tries,
    intervalMs: o.intervalMs ?? defaults.intervalMs,
    settleMs: o.settleMs ?? defaults.settleMs,
    acceptGratuitous: o.acceptGratuitous ?? defaults.acceptGratuitous,
    acceptNotToUs: o.acceptNotToUs ?? defaults.acceptNotToUs,
    acceptSourceMismatch: o.acceptSourceMismatch ?? defaults.acceptSourceMismatch,
  };
  // The query's whole life, tries intervals of intervalMs, stays within what a timer can hold.
  checkDelay(OP, 'tries × intervalMs', settled.tries * settled.intervalMs, true);
  return settled;
}

/** Whether `obs` answers "who has `ip`?" asked by `link` from its own address, under `o`'s rules (judgeAnswer). */
export function isAnswer(link: ArpLink, ip: Ipv4, o: AnswerRules, obs: ArpObservation): boolean {
  return judgeAnswer(link, ip, link.ip, o, obs) === 'answer';
}

/**
 * Resolves IPv4 addresses to MACs over one link: retries, shared concurrent queries, an optional cache, and
 * conflict reporting. Every timer runs on `options.scheduler`, so the whole class is testable with marbles.
 */
export class Resolver {
  readonly #link: ArpLink;
  readonly #scheduler: SchedulerLike;
  readonly #defaults: Settled;
  readonly #cache: MacCache;
  readonly #pending = new ChurnMap<Ipv4, Query>();
  // One subscription to arp$ while any query listens; frames are routed by the IP they concern, so a frame costs
  // one Map lookup however many queries are pending (a filter per query would make N queries cost N² filter calls).
  readonly #routes = new ChurnMap<Ipv4, Listener[]>();
  #hub: Subscription | null = null;
  /** Re-sends every query still asking when the link recovers from a fault; held with the hub. */
  #recovery: Subscription | null = null;
  readonly #host: QueryHost;

  /** All ARP replies seen on the link (hot; unfiltered: gratuitous, spoofed and not-to-us replies included). */
  readonly replies$: Observable<ArpObservation>;

  /** Throws OptionError for options outside their domain. */
  constructor(link: ArpLink, options: ResolverOptions = {}) {
    const { scheduler = asyncScheduler, cacheTtlMs = 0, cacheMax = 256, ...query } = options;
    checkDelay(OP, 'cacheTtlMs', cacheTtlMs);
    checkInt(OP, 'cacheMax', cacheMax, 1);
    this.#link = link;
    this.#scheduler = scheduler;
    this.#defaults = settle(
      { tries: 3, intervalMs: 1000, settleMs: 0, acceptGratuitous: false, acceptNotToUs: false, acceptSourceMismatch: false },
      query,
    );
    this.#cache = new MacCache(cacheTtlMs, cacheMax);
    this.#host = {
      link,
      scheduler: this.#scheduler,
      requests: new RequestTemplate(link),
      listen: (ip, listener) => this.#listen(ip, listener),
      unlisten: (ip, listener) => this.#unlisten(ip, listener),
      // The clock is read only when there is a cache to ask or fill (off by default; Date.now costs ~0.1 µs a call).
      remember: (ip, mac) => {
        if (this.#cache.ttlMs > 0) this.#cache.set(ip, mac, this.#scheduler.now());
      },
      ended: (query) => {
        if (this.#pending.get(query.ip) === query) this.#pending.delete(query.ip);
      },
    };
    this.replies$ = link.arp$.pipe(filter((o) => o.arp.operation === ArpOp.Reply));
  }

  /**
   * Cold: on subscription, answers from the cache or joins the pending query for `ip` (starting one if none),
   * emits one `ResolveResult` and completes; errors with ResolveTimeoutError after the last try's interval.
   *
   * Concurrent subscribers for one IP share one query, run with the options of the subscriber that started it;
   * when the last one unsubscribes, the query stops (no more retransmissions).
   *
   * Conflicts: with `settleMs` > 0 the query keeps listening that long after the first acceptable reply and
   * reports every other MAC that answered. The trade-off is latency: a 0 window (the default) answers as soon as
   * one reply arrives, as the kernel does, and cannot see a second claimant; a window of a few ms catches
   * duplicate addresses on a LAN (replies from live hosts arrive within a millisecond or so of each other) at
   * that cost on every query. The first reply still wins `mac`: ARP gives no ground to prefer another.
   *
   * Throws OptionError (synchronously) for options outside their domain.
   */
  query$(ip: Ipv4, options: QueryOptions = {}): Observable<ResolveResult> {
    const o = settle(this.#defaults, options);
    return new Observable<ResolveResult>((subscriber) => this.#ask(ip, o, subscriber));
  }

  /**
   * Like `query$`, emitting just the MAC. A contested answer (other MACs within `settleMs`) errors with
   * AddressConflictError naming every claimant: a single MAC cannot carry the conflict, and picking one silently
   * would believe what the network has not settled.
   */
  resolve$(ip: Ipv4, options: QueryOptions = {}): Observable<Mac> {
    const o = settle(this.#defaults, options);
    // An adapter rather than query$(…).pipe(map(…)): an operator costs a lift and two more subscribers per call,
    // among the main thread's largest items at 100 concurrent resolves (issue #12's profile).
    return new Observable<Mac>((subscriber) => this.#ask(ip, o, new MacSink(ip, subscriber)));
  }

  /**
   * Resolves `ip` once. Returns the MAC; rejects with ResolveTimeoutError, AddressConflictError, OptionError, or
   * `signal.reason` when `signal` aborts first (the query is then cancelled unless other subscribers share it), as
   * the top-level `resolve()` and the `for await` forms do.
   */
  resolve(ip: Ipv4, options: QueryOptions & { readonly signal?: AbortSignal } = {}): Promise<Mac> {
    const { signal, ...query } = options;
    return new Promise<Mac>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      let done = false;
      const onAbort = (): void => {
        done = true;
        sub.unsubscribe();
        reject(signal?.reason);
      };
      const finish = (): void => {
        done = true;
        signal?.removeEventListener('abort', onAbort);
      };
      const sub = this.resolve$(ip, query).subscribe({
        next: (mac) => {
          finish();
          resolve(mac);
        },
        error: (err: unknown) => {
          finish();
          reject(err);
        },
      });
      // A cache hit answers synchronously, before there is anything to abort.
      if (!done) signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Forgets one cached answer (true when there was one) or, without an argument, all of them. */
  forget(ip?: Ipv4): boolean {
    if (ip !== undefined) return this.#cache.delete(ip);
    this.#cache.clear();
    return true;
  }

  /** Number of queries in flight (distinct IPs). */
  get pendingCount(): number {
    return this.#pending.size;
  }

  // Answers `sink` from the cache, or through the query pending for `ip` (started now if none); returns the teardown.
  #ask(ip: Ipv4, o: Settled, sink: ResultSink): TeardownLogic {
    const cached = this.#cache.size === 0 ? undefined : this.#cache.get(ip, this.#scheduler.now());
    if (cached !== undefined) {
      sink.next(printable({ ip, mac: cached, rttNs: null, tries: 0, conflicts: [], fromCache: true, reply: null }));
      sink.complete();
      return undefined;
    }
    let query = this.#pending.get(ip);
    if (query === undefined) {
      query = new Query(this.#host, ip, o, sink);
      this.#pending.set(ip, query);
      query.start();
    } else query.join(sink);
    const joined = query;
    return () => joined.leave(sink);
  }

  // Frames from `ip` (by ar$spa) go to `listener` until #unlisten.
  #listen(ip: Ipv4, listener: Listener): void {
    const route = this.#routes.get(ip);
    if (route === undefined) this.#routes.set(ip, [listener]);
    else route.push(listener);
    if (this.#hub !== null) return;
    const hub = this.#link.arp$.subscribe({
      next: (o) => {
        const r = this.#routes.get(o.arp.senderIp);
        if (r === undefined) return;
        // A copy only when sharing: a listener may join or leave this route while the frame is being delivered.
        if (r.length === 1) r[0]!.next(o);
        else for (const l of r.slice()) l.next(o);
      },
      error: (err: unknown) => {
        const all = [...this.#routes.values()].flat();
        this.#routes.clear();
        this.#hub = null;
        this.#recovery?.unsubscribe();
        this.#recovery = null;
        for (const l of all) l.error(err);
      },
    });
    // Closed already: the link had failed, and every listener has been told.
    if (hub.closed) return;
    this.#hub = hub;
    this.#recovery = this.#link.recovered$?.subscribe(() => {
      for (const q of [...this.#pending.values()]) q.resend();
    }) ?? null;
  }

  #unlisten(ip: Ipv4, listener: Listener): void {
    const route = this.#routes.get(ip);
    if (route === undefined) return; // cleared by the link's error
    const i = route.indexOf(listener);
    if (i >= 0) route.splice(i, 1);
    if (route.length === 0) this.#routes.delete(ip);
    if (this.#routes.size === 0) {
      this.#hub?.unsubscribe();
      this.#recovery?.unsubscribe();
      this.#hub = this.#recovery = null;
    }
  }
}

/** resolve$'s view of a query's result: the MAC, or AddressConflictError naming every claimant. */
class MacSink implements ResultSink {
  constructor(
    readonly ip: Ipv4,
    readonly out: Subscriber<Mac>,
  ) {}

  next(r: ResolveResult): void {
    if (r.conflicts.length > 0) this.out.error(new AddressConflictError(this.ip, [r.mac, ...r.conflicts]));
    else this.out.next(r.mac);
  }

  error(err: unknown): void {
    this.out.error(err);
  }

  complete(): void {
    this.out.complete(); // after an AddressConflictError: ignored, the subscriber has stopped
  }
}

/** Creates a Resolver over `link`. Throws OptionError for options outside their domain. */
export function createResolver(link: ArpLink, options?: ResolverOptions): Resolver {
  return new Resolver(link, options);
}
