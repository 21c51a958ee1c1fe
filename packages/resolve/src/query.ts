// One ARP query on the wire, shared by every subscriber that asked for its IP while it ran. Written out by hand, as
// one object with methods, rather than composed from operators and closures: it runs once per resolve, and the
// composed form (defer, share, finalize, merge, timer, a Subject, a dozen closures and Subscriptions per query) cost
// the main thread more than the rest of the pipeline's hand-offs, half of it in garbage collection (measured: 100
// concurrent resolves, 7 KB allocated per resolve before, see issue #12's note).
import type { SchedulerAction, SchedulerLike, Subscription } from 'rxjs';
import { printable, type Ipv4, type Mac } from '@ersatz/wire';
import { describeRejection, judgeAnswer, type AnswerRules, type Rejection } from './answer.js';
import { ResolveTimeoutError } from './error.js';
import { sendRequest, sentAt, type RequestTemplate, type SentRequest } from './frames.js';
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

export type Settled = Required<QueryOptions>;

/** One answered query. */
export interface ResolveResult {
  readonly ip: Ipv4;
  readonly mac: Mac;
  /**
   * From our request's departure (`link.departedNs`: just before it was handed to the kernel; else `link.now()` when
   * it was queued) to the reply's capture timestamp; null for a cached answer, and for an answer captured before any
   * of our requests had left (the host's own request naming us, RFC 826's merge step, can overtake a request still
   * queued): there was no round trip to time. ARP has no sequence numbers, so a late reply to an earlier try is timed
   * from the latest request that left before it was captured.
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

const NO_CONFLICTS: readonly Mac[] = Object.freeze([]);

/** Where a query's result goes: an rxjs Subscriber, or an adapter such as resolve$'s (just the MAC). */
export interface ResultSink {
  next(result: ResolveResult): void;
  error(err: unknown): void;
  complete(): void;
}

/** Where the resolver's one subscription to arp$ delivers the frames about one IP. */
export interface Listener {
  next(o: ArpObservation): void;
  error(err: unknown): void;
}

/** What a query needs from its resolver: one object per resolver, shared by all its queries. */
export interface QueryHost {
  readonly link: ArpLink;
  readonly scheduler: SchedulerLike;
  /** Our requests, from the link's own address. */
  readonly requests: RequestTemplate;
  /** Routes the frames whose sender is `ip` to `listener` until `unlisten`. */
  listen(ip: Ipv4, listener: Listener): void;
  unlisten(ip: Ipv4, listener: Listener): void;
  /** An uncontested answer, for the cache. */
  remember(ip: Ipv4, mac: Mac): void;
  /** The query finished or was abandoned: the next subscriber for its IP starts a fresh one (as share() resets). */
  ended(query: Query): void;
}

/**
 * Listens for `ip` before the first request goes out (so even an instant reply is seen), sends `tries` requests
 * `intervalMs` apart plus one per recovery of the link (see resend), and answers every subscriber with the first
 * acceptable reply (after `settleMs`, with the other claimants), or errors with ResolveTimeoutError after the last
 * interval. Stops, with nothing more sent, when its last subscriber leaves. Timers run on the host's scheduler
 * (marble-testable).
 */
export class Query implements Listener {
  readonly ip: Ipv4;
  readonly #host: QueryHost;
  readonly #o: Settled;
  readonly #startMs: number;
  #subscribers: ResultSink[] = [];
  /** `tries` requests, plus one per recovery of the link while the query waited. */
  readonly #sends: SentRequest[] = [];
  /**
   * Frames from the IP that were not believed, counted by reason (the first of each kept to describe them), for the
   * timeout error: a flood of them costs a counter each, not a string.
   */
  #ignored: Map<Rejection, { count: number; first: ArpObservation }> | null = null;
  #answer: { reply: ArpObservation; rttNs: bigint | null; tries: number } | null = null;
  #conflicts: Mac[] | null = null;
  // The retries and then the deadline (one timer, see #tick) stop at the first answer; the settle timer at the end.
  #asking: Subscription | null = null;
  #settle: Subscription | null = null;
  #listening = false;
  #ended = false;

  constructor(host: QueryHost, ip: Ipv4, o: Settled, first: ResultSink) {
    this.ip = ip;
    this.#host = host;
    this.#o = o;
    this.#startMs = host.scheduler.now();
    this.#subscribers.push(first);
  }

  /** Listens, sends the first request and arms the timers. */
  start(): void {
    const { scheduler } = this.#host;
    this.#host.listen(this.ip, this);
    if (this.#ended) return; // the link had already failed: the error is told
    this.#listening = true;
    this.#send();
    // An answer delivered during the first send has ended the query: nothing to arm.
    if (this.#answer !== null || this.#ended) return;
    this.#asking = scheduler.schedule(Query.#tick, this.#o.intervalMs, { query: this, sent: 1 });
  }

  /**
   * The link recovered from a fault (a worker restarted, the interface reopened): our request or its reply may have
   * been lost in between, so a query still asking asks again now rather than at the next try (or never, after the
   * last one). The deadline stays: the query still ends.
   */
  resend(): void {
    if (this.#answer === null && !this.#ended) this.#send();
  }

  join(subscriber: ResultSink): void {
    this.#subscribers.push(subscriber);
  }

  /** `subscriber` unsubscribed (or was told the end); the last one to leave stops the query. */
  leave(subscriber: ResultSink): void {
    const i = this.#subscribers.indexOf(subscriber);
    if (i >= 0) this.#subscribers.splice(i, 1);
    if (this.#subscribers.length === 0) this.#end();
  }

  /** A frame whose sender is our IP. */
  next(obs: ArpObservation): void {
    const first = this.#sends[0];
    // Captured before we asked: stale, or an answer to someone else's question.
    if (first === undefined || obs.tsNs < first.queuedNs) return;
    const { link } = this.#host;
    const verdict = judgeAnswer(link, this.ip, link.ip, this.#o, obs);
    if (verdict === 'answer') return this.#onAnswer(obs);
    if (verdict === 'unrelated') return;
    this.#ignored ??= new Map();
    const seen = this.#ignored.get(verdict);
    if (seen === undefined) this.#ignored.set(verdict, { count: 1, first: obs });
    else seen.count++;
  }

  /** The link failed: every subscriber gets its error. */
  error(err: unknown): void {
    for (const s of this.#end()) s.error(err);
  }

  #send(): void {
    this.#sends.push(sendRequest(this.#host.link, this.#host.requests.frameFor(this.ip)));
  }

  #onAnswer(reply: ArpObservation): void {
    const mac = reply.arp.senderMac;
    if (this.#answer !== null) {
      // Within the settle window: another claimant, reported once each, in arrival order.
      this.#conflicts ??= [];
      if (mac !== this.#answer.reply.arp.senderMac && !this.#conflicts.includes(mac)) this.#conflicts.push(mac);
      return;
    }
    // From the latest request that left before the reply; none had: no round trip.
    const { link } = this.#host;
    let rttNs: bigint | null = null;
    for (const s of this.#sends) {
      const at = sentAt(link, s);
      if (at <= reply.tsNs) rttNs = reply.tsNs - at;
    }
    this.#answer = { reply, rttNs, tries: this.#sends.length };
    this.#stopAsking();
    if (this.#o.settleMs <= 0) this.#finish();
    else this.#settle = this.#host.scheduler.schedule(Query.#settleWork, this.#o.settleMs, this);
  }

  #finish(): void {
    const { reply, rttNs, tries } = this.#answer!;
    const mac = reply.arp.senderMac;
    const conflicts = this.#conflicts ?? NO_CONFLICTS;
    // A contested answer is not remembered: the next query should look again.
    if (conflicts.length === 0) this.#host.remember(this.ip, mac);
    const result: ResolveResult = printable({ ip: this.ip, mac, rttNs, tries, conflicts, fromCache: false, reply });
    for (const s of this.#end()) {
      s.next(result);
      s.complete();
    }
  }

  #timeout(): void {
    const why = this.#ignored === null ? [] : [...this.#ignored].map(([reason, i]) => ({ count: i.count, why: describeRejection(reason, i.first) }));
    const err = new ResolveTimeoutError(this.ip, this.#sends.length, this.#host.scheduler.now() - this.#startMs, why);
    for (const s of this.#end()) s.error(err);
  }

  #stopAsking(): void {
    this.#asking?.unsubscribe();
    this.#asking = null;
  }

  /** Ends the query once (timers, listening, the host's record); returns the subscribers to tell, none if already ended. */
  #end(): ResultSink[] {
    if (this.#ended) return [];
    this.#ended = true;
    const all = this.#subscribers;
    this.#subscribers = [];
    this.#stopAsking();
    this.#settle?.unsubscribe();
    if (this.#listening) this.#host.unlisten(this.ip, this);
    this.#host.ended(this);
    return all;
  }

  // Scheduler work takes its state as an argument, so arming a timer creates no closure. One timer per query, due
  // every intervalMs: the next request while tries remain, then the deadline, an interval after the last request
  // (rescheduled with the same delay, rxjs keeps the same interval timer: no timer made or cleared per try).
  static #tick(this: SchedulerAction<{ query: Query; sent: number }>, state?: { query: Query; sent: number }): void {
    const s = state!;
    const q = s.query;
    if (s.sent >= q.#o.tries) return q.#timeout();
    s.sent++;
    q.#send();
    this.schedule(s, q.#o.intervalMs); // a no-op when that send's answer already ended the query
  }

  static #settleWork(this: SchedulerAction<Query>, query?: Query): void {
    query!.#finish();
  }
}
