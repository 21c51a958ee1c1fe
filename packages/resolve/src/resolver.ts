import { asyncScheduler, defer, filter, finalize, map, of, share, Observable, Subscription, type SchedulerLike } from 'rxjs';
import { ArpOp, Mac, type Ipv4 } from '@ersatz/wire';
import { MacCache } from './cache.js';
import { AbortError, AddressConflictError, checkDelay, checkInt, ResolveTimeoutError } from './error.js';
import { describeRejection, judgeAnswer, type AnswerRules, type Rejection } from './answer.js';
import { requestFrame, sendRequest, sentAt, type SentRequest } from './frames.js';
import type { ArpLink, ArpObservation } from './link.js';

/** How one query asks and what it believes (see judgeAnswer for the rule and AnswerRules for the opt-ins). */
export interface QueryOptions extends AnswerRules {
  /** Requests to send before giving up (default 3). */
  readonly tries?: number;
  /** Time between requests, and how long to wait after the last one (default 1000 ms). */
  readonly intervalMs?: number;
  /**
   * After the first acceptable reply, keep listening this long for other MACs claiming the IP and report them in
   * `conflicts` (default 0: answer at once, no conflict detection). See `Resolver.query$` for the trade-off.
   */
  readonly settleMs?: number;
}

export interface ResolverOptions extends QueryOptions {
  /** Clock for every timer (retries, timeouts, settle window, cache TTL). Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** How long an answer is remembered and given without sending (default 0: no cache). */
  readonly cacheTtlMs?: number;
  /** Most answers remembered (default 256). */
  readonly cacheMax?: number;
}

/** One answered query. */
export interface ResolveResult {
  readonly ip: Ipv4;
  readonly mac: Mac;
  /**
   * From our request (its capture timestamp when the capture saw it go out, else `link.now()` when we queued it) to
   * the reply's capture timestamp; null for a cached answer. ARP has no sequence numbers, so a late reply to an
   * earlier try is timed from the latest request sent before it was captured.
   */
  readonly rttNs: bigint | null;
  /** Requests sent (0 for a cached answer): the tries, plus one per recovery of the link while it waited. */
  readonly tries: number;
  /** Other MACs that claimed the IP within the settle window, in arrival order (never includes `mac`). */
  readonly conflicts: readonly Mac[];
  readonly fromCache: boolean;
  /** The reply that answered, or null for a cached answer. */
  readonly reply: ArpObservation | null;
}

type Settled = Required<QueryOptions>;

/** Where the resolver's one subscription to arp$ delivers the frames about one IP. */
interface Listener {
  next(o: ArpObservation): void;
  error(err: unknown): void;
}

const OP = 'resolve';

function settle(defaults: Settled, o: QueryOptions): Settled {
  // The common call passes no options: nothing to check or merge.
  if (Object.keys(o).length === 0) return defaults;
  checkInt(OP, 'tries', o.tries, 1);
  checkDelay(OP, 'intervalMs', o.intervalMs, true);
  checkDelay(OP, 'settleMs', o.settleMs);
  const settled = { ...defaults, ...stripUndefined(o) };
  // The query's whole life is one timer of tries × intervalMs.
  checkDelay(OP, 'tries × intervalMs', settled.tries * settled.intervalMs, true);
  return settled;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
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
  readonly #pending = new Map<Ipv4, Observable<ResolveResult>>();
  // One subscription to arp$ while any query listens; frames are routed by the IP they concern, so a frame costs
  // one Map lookup however many queries are pending (a filter per query would make N queries cost N² filter calls).
  readonly #routes = new Map<Ipv4, Set<Listener>>();
  #hub: Subscription | null = null;

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
    return defer(() => {
      const cached = this.#cache.get(ip, this.#scheduler.now());
      if (cached !== undefined) return of<ResolveResult>({ ip, mac: cached, rttNs: null, tries: 0, conflicts: [], fromCache: true, reply: null });
      let shared = this.#pending.get(ip);
      if (shared === undefined) {
        const query$ = this.#ask(ip, o).pipe(
          finalize(() => {
            if (this.#pending.get(ip) === query$) this.#pending.delete(ip);
          }),
          share(),
        );
        this.#pending.set(ip, query$);
        shared = query$;
      }
      return shared;
    });
  }

  /**
   * Like `query$`, emitting just the MAC. A contested answer (other MACs within `settleMs`) errors with
   * AddressConflictError naming every claimant: a single MAC cannot carry the conflict, and picking one silently
   * would believe what the network has not settled.
   */
  resolve$(ip: Ipv4, options: QueryOptions = {}): Observable<Mac> {
    return this.query$(ip, options).pipe(
      map((r) => {
        if (r.conflicts.length > 0) throw new AddressConflictError(ip, [r.mac, ...r.conflicts]);
        return r.mac;
      }),
    );
  }

  /**
   * Resolves `ip` once. Returns the MAC; rejects with ResolveTimeoutError, AddressConflictError, OptionError, or
   * AbortError when `signal` aborts first (the query is then cancelled unless other subscribers share it).
   */
  resolve(ip: Ipv4, options: QueryOptions & { readonly signal?: AbortSignal } = {}): Promise<Mac> {
    const { signal, ...query } = options;
    return new Promise<Mac>((resolve, reject) => {
      if (signal?.aborted) return reject(new AbortError(ip, signal.reason));
      let done = false;
      const onAbort = (): void => {
        done = true;
        sub.unsubscribe();
        reject(new AbortError(ip, signal?.reason));
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

  // Frames from `ip` (by ar$spa) go to `listener`. Returns the function that stops listening.
  #listen(ip: Ipv4, listener: Listener): () => void {
    let route = this.#routes.get(ip);
    if (route === undefined) this.#routes.set(ip, (route = new Set()));
    route.add(listener);
    this.#hub ??= this.#link.arp$.subscribe({
      next: (o) => {
        const r = this.#routes.get(o.arp.senderIp);
        if (r === undefined) return;
        // A copy only when sharing: a listener may join or leave this route while the frame is being delivered.
        if (r.size === 1) for (const l of r) l.next(o);
        else for (const l of Array.from(r)) l.next(o);
      },
      error: (err: unknown) => {
        const all = [...this.#routes.values()].flatMap((r) => [...r]);
        this.#routes.clear();
        this.#hub = null;
        for (const l of all) l.error(err);
      },
    });
    return () => {
      route.delete(listener);
      if (route.size === 0 && this.#routes.get(ip) === route) this.#routes.delete(ip);
      if (this.#routes.size === 0) {
        this.#hub?.unsubscribe();
        this.#hub = null;
      }
    };
  }

  // One query on the wire, written out by hand rather than composed from operators: it runs once per resolve, and
  // the composed chain (merge, interval, timer, take, mergeMap, a second listener for the settle window) cost about
  // as much main-thread time as the rest of the pipeline's hand-offs. Listening starts before the first request goes
  // out, so even an instant reply is seen. Timers run on the resolver's scheduler (marble-testable).
  #ask(ip: Ipv4, o: Settled): Observable<ResolveResult> {
    const link = this.#link;
    const scheduler = this.#scheduler;
    return new Observable<ResolveResult>((subscriber) => {
      const startMs = scheduler.now();
      const frame = requestFrame(link, ip);
      // `tries` requests, plus one per recovery of the link while the query waited.
      const sends: SentRequest[] = [];
      // Frames from the IP that were not believed, counted by reason (the first of each kept to describe them), for
      // the timeout error: a flood of them costs a counter each, not a string.
      const ignored = new Map<Rejection, { count: number; first: ArpObservation }>();
      // Retries, the deadline and re-sends after a recovery: all stop at the first answer.
      const asking = new Subscription();
      const teardown = new Subscription(() => asking.unsubscribe());
      let answer: { readonly result: Omit<ResolveResult, 'conflicts'>; readonly conflicts: Mac[] } | null = null;

      const finish = (): void => {
        const { result, conflicts } = answer!;
        // A contested answer is not remembered: the next query should look again.
        if (conflicts.length === 0) this.#cache.set(ip, result.mac, scheduler.now());
        subscriber.next({ ...result, conflicts });
        subscriber.complete();
      };
      const onAnswer = (reply: ArpObservation): void => {
        const mac = reply.arp.senderMac;
        if (answer !== null) {
          // Within the settle window: another claimant, reported once each, in arrival order.
          if (mac !== answer.result.mac && !answer.conflicts.includes(mac)) answer.conflicts.push(mac);
          return;
        }
        // From the latest request that left before the reply.
        let rttNs = reply.tsNs - sentAt(link, sends[0]!);
        for (const s of sends) {
          const at = sentAt(link, s);
          if (at <= reply.tsNs) rttNs = reply.tsNs - at;
        }
        answer = { result: { ip, mac, rttNs, tries: sends.length, fromCache: false, reply }, conflicts: [] };
        asking.unsubscribe();
        if (o.settleMs <= 0) finish();
        else teardown.add(scheduler.schedule(finish, o.settleMs));
      };
      teardown.add(
        this.#listen(ip, {
          next: (obs) => {
            const first = sends[0];
            // Captured before we asked: stale, or an answer to someone else's question.
            if (first === undefined || obs.tsNs < first.queuedNs) return;
            const verdict = judgeAnswer(link, ip, link.ip, o, obs);
            if (verdict === 'answer') return onAnswer(obs);
            if (verdict === 'unrelated') return;
            const seen = ignored.get(verdict);
            if (seen === undefined) ignored.set(verdict, { count: 1, first: obs });
            else seen.count++;
          },
          error: (err) => subscriber.error(err),
        }),
      );
      const send = (): void => {
        sends.push(sendRequest(link, frame));
      };
      send();
      // Added after the first send: an answer delivered during it has closed `asking`, which cancels these at once.
      if (o.tries > 1) {
        let sent = 1;
        asking.add(
          scheduler.schedule(function () {
            send();
            if (++sent < o.tries) this.schedule(undefined, o.intervalMs);
          }, o.intervalMs),
        );
      }
      // A worker restarted or the interface reopened: our request or its reply may have been lost in between, so ask
      // again now rather than at the next try (or never, after the last one). The deadline stays: the query still ends.
      if (link.recovered$ !== undefined) asking.add(link.recovered$.subscribe(() => send()));
      asking.add(
        scheduler.schedule(() => {
          const why = [...ignored].map(([reason, i]) => ({ count: i.count, why: describeRejection(reason, i.first) }));
          subscriber.error(new ResolveTimeoutError(ip, sends.length, scheduler.now() - startMs, why));
        }, o.tries * o.intervalMs),
      );
      return teardown;
    });
  }
}

/** Creates a Resolver over `link`. Throws OptionError for options outside their domain. */
export function createResolver(link: ArpLink, options?: ResolverOptions): Resolver {
  return new Resolver(link, options);
}
