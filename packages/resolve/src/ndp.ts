// IPv6's twin of ARP (RFC 4861): resolving an address with a Neighbor Solicitation, duplicate address detection
// (RFC 4862 §5.4) and the unsolicited advertisement. Frames out through the link, valid ND messages in on ndp$.
import { asyncScheduler, defer, finalize, Observable, share, type SchedulerLike, type Subscription } from 'rxjs';
import { Ipv6, Mac, emitNdpFrame, type NdpEmit } from '@ersatz/wire';
import type { NdpObservation } from '@ersatz/decode-worker';
import { ChurnMap } from './churn-map.js';
import { NeighborTimeoutError, OptionError, checkDelay, checkInt } from './error.js';
import type { ArpLink } from './link.js';

/** What ND needs of a link: its MAC, sending, and the ND messages it captures (openLink with `ndp: true`). */
export interface NdpLink extends Pick<ArpLink, 'ifname' | 'mac' | 'send' | 'departedNs'> {
  readonly ndp$: Observable<NdpObservation>;
}

export interface SolicitOptions {
  /** Our address, the solicitation's source: link-local for a link-local target, else one in the target's prefix. */
  readonly source: Ipv6;
  /** Solicitations before giving up (default 3, as the kernel's MAX_MULTICAST_SOLICIT). */
  readonly tries?: number;
  /** Between solicitations and after the last (default 1000 ms, RFC 4861's RetransTimer). */
  readonly intervalMs?: number;
  /** After the first advertisement, listen this long for other MACs claiming the address (default 0). */
  readonly settleMs?: number;
  readonly scheduler?: SchedulerLike;
}

export interface NeighborAnswer {
  readonly ip: Ipv6;
  readonly mac: Mac;
  /** From our solicitation's departure to the advertisement's capture timestamp. */
  readonly rttNs: bigint | null;
  readonly tries: number;
  /** The R flag: the neighbor is a router. */
  readonly router: boolean;
  /** Other MACs that advertised the address within the settle window. */
  readonly conflicts: readonly Mac[];
  readonly reply: NdpObservation;
}

/** An ND frame from `link`; `ethDst` derived from `dst` when it is multicast (RFC 2464 §7). */
export function ndpFrame(link: Pick<NdpLink, 'mac'>, src: Ipv6, dst: Ipv6, message: NdpEmit, ethDst?: Mac): Uint8Array {
  const buf = new Uint8Array(128);
  const n = emitNdpFrame(buf, { ethDst: ethDst ?? Ipv6.multicastMac(dst), ethSrc: link.mac, src, dst, message });
  return buf.subarray(0, n);
}

/**
 * The solicitations in flight on each link, by target: concurrent resolves of one address share one. A ChurnMap, as
 * the resolver's queries: each solicitation comes and goes.
 */
const inFlight = new WeakMap<NdpLink, ChurnMap<Ipv6, Observable<NeighborAnswer>>>();

/**
 * Resolves `target` as a host does (RFC 4861 §7.2): a Neighbor Solicitation to its solicited-node address, with our
 * link-layer address, `tries` times `intervalMs` apart; answered by a valid Neighbor Advertisement for the target that
 * carries its link-layer address (one without it cannot resolve an address: §7.2.5). Emits one answer and completes;
 * errors with NeighborTimeoutError. Cold; subscribers that ask for one target on one link while a solicitation for it
 * runs share it (with the options of the one that started it), and it stops when the last one leaves, as the IPv4
 * Resolver's queries do. Throws OptionError for options outside their domain.
 */
export function solicit$(link: NdpLink, target: Ipv6, options: SolicitOptions): Observable<NeighborAnswer> {
  const { tries = 3, intervalMs = 1000, settleMs = 0 } = options;
  checkInt('solicit', 'tries', tries, 1);
  checkDelay('solicit', 'intervalMs', intervalMs, true);
  checkDelay('solicit', 'settleMs', settleMs);
  if (Ipv6.isMulticast(target) || Ipv6.isUnspecified(target)) throw new OptionError('solicit', 'target', target, 'a unicast IPv6 address');
  return defer(() => {
    let running = inFlight.get(link);
    if (running === undefined) inFlight.set(link, (running = new ChurnMap()));
    let shared = running.get(target);
    if (shared === undefined) {
      const mine = running;
      shared = solicitation(link, target, options).pipe(
        finalize(() => mine.delete(target)),
        share(),
      );
      running.set(target, shared);
    }
    return shared;
  });
}

/** One solicitation's life: send, retry, wait for the advertisement (and the settle window), or time out. */
function solicitation(link: NdpLink, target: Ipv6, options: SolicitOptions): Observable<NeighborAnswer> {
  const { source, tries = 3, intervalMs = 1000, settleMs = 0, scheduler = asyncScheduler } = options;
  return new Observable<NeighborAnswer>((subscriber) => {
    const dst = Ipv6.solicitedNode(target);
    const frame = ndpFrame(link, source, dst, { type: 'ns', target, sourceLinkAddress: link.mac });
    const tickets: number[] = [];
    const startMs = scheduler.now();
    let first: NdpObservation | null = null;
    const conflicts: Mac[] = [];
    const timers: Subscription[] = [];
    const finish = (): void => {
      const reply = first!;
      const departed = tickets.map((t) => link.departedNs(t)).filter((d): d is bigint => d !== null && d <= reply.tsNs);
      subscriber.next({ ip: target, mac: reply.linkAddress!, rttNs: departed.length === 0 ? null : reply.tsNs - departed.at(-1)!, tries: tickets.length, router: reply.router, conflicts, reply });
      subscriber.complete();
    };
    const listening = link.ndp$.subscribe({
      next: (o) => {
        if (o.type !== 'na' || o.target !== target || o.linkAddress === null) return;
        if (first === null) {
          first = o;
          for (const t of timers.splice(0)) t.unsubscribe();
          if (settleMs <= 0) return finish();
          timers.push(scheduler.schedule(finish, settleMs));
        } else if (o.linkAddress !== first.linkAddress && !conflicts.includes(o.linkAddress)) conflicts.push(o.linkAddress);
      },
      error: (err: unknown) => subscriber.error(err),
    });
    const ask = (): void => {
      tickets.push(link.send(frame));
    };
    ask();
    if (first === null) {
      for (let i = 1; i < tries; i++) timers.push(scheduler.schedule(ask, i * intervalMs));
      timers.push(scheduler.schedule(() => subscriber.error(new NeighborTimeoutError(target, tickets.length, scheduler.now() - startMs)), tries * intervalMs));
    }
    return () => {
      listening.unsubscribe();
      for (const t of timers) t.unsubscribe();
    };
  });
}

export interface DadOptions {
  /** Solicitations (RFC 4862's DupAddrDetectTransmits, default 1). */
  readonly transmits?: number;
  /** Between them and after the last (RFC 4861's RetransTimer, default 1000 ms). */
  readonly retransMs?: number;
  readonly scheduler?: SchedulerLike;
}

/** What DAD found: free, or taken by a MAC that advertised the address or was itself probing for it. */
export type DadResult = { readonly free: true; readonly sent: number } | { readonly free: false; readonly sent: number; readonly mac: Mac; readonly how: 'advertisement' | 'probe' };

/**
 * Duplicate address detection (RFC 4862 §5.4) for `target`: Neighbor Solicitations from :: to its solicited-node
 * address (no source link-layer address, an RFC 7527 nonce), without joining any group. The address is taken when
 * an advertisement for it comes (§5.4.4), or a solicitation for it from :: sent by another MAC (§5.4.3: another node
 * is probing for it too); free when neither came by `retransMs` after the last. Emits one result and completes.
 */
export function dad$(link: NdpLink, target: Ipv6, options: DadOptions = {}): Observable<DadResult> {
  const { transmits = 1, retransMs = 1000, scheduler = asyncScheduler } = options;
  checkInt('dad', 'transmits', transmits, 1);
  checkDelay('dad', 'retransMs', retransMs, true);
  return new Observable<DadResult>((subscriber) => {
    const dst = Ipv6.solicitedNode(target);
    // The global Web Crypto: importing node:crypto here made every cold start load it (~11 ms, measured).
    const frame = ndpFrame(link, Ipv6.UNSPECIFIED, dst, { type: 'ns', target, nonce: crypto.getRandomValues(new Uint8Array(6)) });
    let sent = 0;
    const timers: Subscription[] = [];
    const done = (r: DadResult): void => {
      subscriber.next(r);
      subscriber.complete();
    };
    const listening = link.ndp$.subscribe({
      next: (o) => {
        if (o.target !== target || o.ethSrc === link.mac) return; // our own, looped back by the network
        if (o.type === 'na') done({ free: false, sent, mac: o.linkAddress ?? o.ethSrc, how: 'advertisement' });
        else if (o.type === 'ns' && Ipv6.isUnspecified(o.src)) done({ free: false, sent, mac: o.ethSrc, how: 'probe' });
      },
      error: (err: unknown) => subscriber.error(err),
    });
    const probe = (): void => {
      link.send(frame);
      sent++;
    };
    probe();
    for (let i = 1; i < transmits; i++) timers.push(scheduler.schedule(probe, i * retransMs));
    timers.push(scheduler.schedule(() => done({ free: true, sent }), transmits * retransMs));
    return () => {
      listening.unsubscribe();
      for (const t of timers) t.unsubscribe();
    };
  });
}

/**
 * An unsolicited Neighbor Advertisement of `ip` (ours) to all nodes, override set, with our link-layer address
 * (RFC 4861 §7.2.6): IPv6's gratuitous ARP. The caller checks that `ip` is an address of the interface.
 */
export function unsolicitedAdvertisement(link: Pick<NdpLink, 'mac'>, ip: Ipv6, router = false): Uint8Array {
  return ndpFrame(link, ip, Ipv6.ALL_NODES, { type: 'na', target: ip, router, solicited: false, override: true, targetLinkAddress: link.mac });
}
