import { asyncScheduler, from, Observable, type ObservableInput, type SchedulerAction, type SchedulerLike } from 'rxjs';
import type { IcmpErrorQuote, IcmpObservation } from '@ersatz/decode-worker';
import { emitIcmpEchoFrame, ETH_HEADER_LEN, ETH_MIN_FRAME, IcmpType, Ipv4, Mac, printable, VLAN_TAG_LEN } from '@ersatz/wire';
import { checkDelay, checkInt, OptionError } from './error.js';
import { sendRequest, sentAt, type SentRequest } from './frames.js';
import type { ArpLink } from './link.js';
import { createResolver, type QueryOptions } from './resolver.js';
import { RttAccumulator, type RttStats } from './stats.js';

/** An ArpLink that also shows ICMP echo traffic (the API's `Link` opened with `icmp: true`). */
export interface IcmpLink extends ArpLink {
  /**
   * Hot: every ICMP echo request and reply captured on the link (our own requests only where it captures both
   * directions), and errors about them.
   */
  readonly icmp$: Observable<IcmpObservation>;
}

export interface PingOptions {
  /**
   * -c: requests to send; ping ends at the `count`th reply, or a wait after the last request (default: no limit).
   * With a deadline it keeps sending until `count` replies came or the deadline passed, as iputils does.
   */
  readonly count?: number;
  /** -i: time between requests (default 1000 ms). */
  readonly intervalMs?: number;
  /** -w: stop this long after the start, whatever is outstanding (default 0: no deadline). */
  readonly deadlineMs?: number;
  /**
   * -W: after the `count`th request, how long to wait when no reply came at all (default 10000 ms, ping's linger
   * time). When some did, ping waits the larger of twice the longest RTT and one interval, as iputils does.
   */
  readonly timeoutMs?: number;
  /** -s: echo data bytes (default 56, ping's; at most `mtu` − 28, what one unfragmented frame holds). */
  readonly payloadBytes?: number;
  /** The link's MTU (default 1500): a request is one unfragmented frame of at most this many IPv4 bytes. */
  readonly mtu?: number;
  /** -t: IPv4 time to live (default 64). */
  readonly ttl?: number;
  /** ICMP identifier (default: random): replies are matched by it and the sequence number. */
  readonly id?: number;
  /** IPv4 source of the requests (default `link.ip`); replies must be addressed to it. */
  readonly source?: Ipv4;
  /** The router or host the frames go to (default: the target itself, which must then be on the link). */
  readonly nextHop?: Ipv4;
  /** The next hop's MAC when already known: no ARP query is made. */
  readonly nextHopMac?: Mac;
  /** How the next hop is resolved (default: the resolver's, 3 tries 1000 ms apart). */
  readonly resolve?: QueryOptions;
  /** Ends the run early, with its `done` summary, when it emits (what SIGINT does to ping). */
  readonly stop$?: ObservableInput<unknown>;
  readonly scheduler?: SchedulerLike;
}

/** The next hop answered the ARP query: requests go to `mac` from now on. */
export interface PingResolvedEvent {
  readonly type: 'resolved';
  readonly nextHop: Ipv4;
  readonly mac: Mac;
  /** The ARP round trip, or null when the MAC was given (`nextHopMac`). */
  readonly rttNs: bigint | null;
}

export interface PingSentEvent {
  readonly type: 'sent';
  /** ICMP sequence number: 1 for the first request, as ping (wraps after 65535 to 0). */
  readonly seq: number;
}

export interface PingReplyEvent {
  readonly type: 'reply';
  readonly seq: number;
  /** The IPv4 source of the reply (the target). */
  readonly ip: Ipv4;
  readonly ttl: number;
  /** ICMP message length in bytes. */
  readonly bytes: number;
  /** From our request's capture timestamp (its queueing time when the capture missed it) to the reply's. */
  readonly rttNs: bigint;
  /** A second reply for a sequence number already answered (ping's "DUP!"); not counted in `received` or RTTs. */
  readonly dup: boolean;
  readonly reply: IcmpObservation;
}

/**
 * An ICMP error about one of our requests: Destination Unreachable (3), Time Exceeded (11) or Parameter Problem
 * (12), from the router or host on the path that gave up on it. Counted in the summary's `errors`, as iputils does.
 */
export interface PingErrorEvent {
  readonly type: 'error';
  /** The quoted request's sequence number. */
  readonly seq: number;
  /** The router or host that sent the error. */
  readonly from: Ipv4;
  readonly icmpType: typeof IcmpType.DestinationUnreachable | typeof IcmpType.TimeExceeded | typeof IcmpType.ParameterProblem;
  readonly code: number;
  /** The error's 4 bytes after the checksum: Frag Needed's next-hop MTU (low 16 bits), Parameter Problem's pointer (top 8). */
  readonly info: number;
  readonly error: IcmpObservation;
}

/** A router's Redirect (5) for one of our requests: advice, not a failure (the router forwarded it); not counted. */
export interface PingRedirectEvent {
  readonly type: 'redirect';
  readonly seq: number;
  readonly from: Ipv4;
  /** 0 network, 1 host, 2 TOS and network, 3 TOS and host. */
  readonly code: number;
  /** The better next hop the router names. */
  readonly gateway: Ipv4;
  readonly redirect: IcmpObservation;
}

export interface PingSummary {
  /** Echo requests sent. */
  readonly transmitted: number;
  /** Sequence numbers answered (duplicates excluded). */
  readonly received: number;
  readonly duplicates: number;
  /** ICMP errors about our requests (PingErrorEvent), as iputils' "+N errors". */
  readonly errors: number;
  /** Share of requests not answered, 0..100 (0 when none was sent). */
  readonly lossPercent: number;
  readonly rtt: RttStats | null;
  /** From the first request (not the ARP query before it) to the end. */
  readonly elapsedMs: number;
  /**
   * ping's exit status: 1 when no reply came (errors alone are no reply), or when a count and a deadline were both
   * given and fewer than `count` replies came by the deadline; else 0.
   */
  readonly exitCode: 0 | 1;
}

export type PingEvent = PingResolvedEvent | PingSentEvent | PingReplyEvent | PingErrorEvent | PingRedirectEvent | { readonly type: 'done'; readonly summary: PingSummary };

const OP = 'ping';
const ECHO_REQUEST = 8;
const ECHO_REPLY = 0;
// IPv4 header 20 + ICMP header 8: the payload of one unfragmented request is at most the MTU less these.
const IP_ICMP_HEADERS = 28;
const MIN_MTU = 68; // RFC 791: every IPv4 link carries 68-byte datagrams
const MAX_MTU = 0xffff;
const SEQ_MOD = 0x1_0000;

/** One request in flight: what was sent (see sentAt) and whether it was answered. */
interface Probe {
  readonly sent: SentRequest;
  answered: boolean;
}

/**
 * Cold: pings `target` the way iputils ping does, with echo requests crafted here and sent as raw Ethernet frames to
 * the next hop's MAC (resolved first with an ARP query unless `nextHopMac` is given; a `resolved` event tells). Sends
 * one request at once and one every `intervalMs`, emitting `sent` per request, `reply` per echo reply matched by
 * identifier and sequence number on `link.icmp$`, `error`/`redirect` per ICMP error about a request we sent, and a
 * `done` summary, then completes. It ends: when replies + errors reach `count`; with a deadline, at the first error
 * (both as iputils); after the `count`th request, once the wait described at `timeoutMs` has passed; at the deadline; or when
 * `stop$` emits. Without count, deadline or stop$ it runs until unsubscribed (then no summary).
 *
 * Replies count when they are echo replies from `target` to `source`, unicast to our MAC, carrying our identifier
 * and the sequence number of a request we sent. Errors count when, unicast to our MAC and addressed to `source`,
 * they quote an echo request from `source` to `target` with our identifier and the sequence number of a request we
 * sent (from any router: that is who sends them). The host's own kernel sees the same replies and errors; it sent
 * no request with that identifier, so it drops them.
 *
 * Errors with ResolveTimeoutError when the next hop does not answer ARP. Throws OptionError (synchronously) for
 * options outside their domain.
 */
export function ping$(link: IcmpLink, target: Ipv4, options: PingOptions = {}): Observable<PingEvent> {
  const {
    count,
    intervalMs = 1000,
    deadlineMs = 0,
    timeoutMs = 10_000,
    payloadBytes = 56,
    mtu = 1500,
    ttl = 64,
    id = Math.floor(Math.random() * SEQ_MOD),
    source = link.ip,
    nextHop = target,
    nextHopMac,
    resolve = {},
    stop$,
    scheduler = asyncScheduler,
  } = options;
  checkInt(OP, 'count', count, 1);
  checkDelay(OP, 'intervalMs', intervalMs, true);
  checkDelay(OP, 'deadlineMs', deadlineMs);
  checkDelay(OP, 'timeoutMs', timeoutMs, true);
  checkInt(OP, 'mtu', mtu, MIN_MTU, MAX_MTU);
  checkInt(OP, 'payloadBytes', payloadBytes, 0, mtu - IP_ICMP_HEADERS);
  checkInt(OP, 'ttl', ttl, 1, 255);
  checkInt(OP, 'id', id, 0, SEQ_MOD - 1);
  if (nextHopMac !== undefined && !Mac.isUnicast(nextHopMac)) throw new OptionError(OP, 'nextHopMac', nextHopMac, 'a unicast MAC');
  const resolver = nextHopMac === undefined ? createResolver(link, { scheduler }) : null;
  const payload = Uint8Array.from({ length: payloadBytes }, (_, i) => i & 0xff); // ping's default pattern

  return new Observable<PingEvent>((subscriber) => {
    const rtt = new RttAccumulator();
    const probes = new Map<number, Probe>(); // by sequence number: at most 65536 entries
    // emitIcmpEchoFrame pads short frames to Ethernet's 60-byte minimum, plus the tag on a tagged link.
    const buf = new Uint8Array(VLAN_TAG_LEN + Math.max(ETH_MIN_FRAME, ETH_HEADER_LEN + IP_ICMP_HEADERS + payloadBytes));
    let mac: Mac | null = null;
    let seq = 0;
    let transmitted = 0;
    let received = 0;
    let duplicates = 0;
    let errors = 0;
    let firstMs: number | null = null;
    let finished = false;

    const finish = (): void => {
      if (finished) return;
      finished = true;
      const exitCode = received === 0 || (deadlineMs > 0 && count !== undefined && received < count) ? 1 : 0;
      subscriber.next(printable({
        type: 'done',
        summary: {
          transmitted,
          received,
          duplicates,
          errors,
          lossPercent: transmitted === 0 ? 0 : ((transmitted - received) * 100) / transmitted,
          rtt: rtt.stats(),
          elapsedMs: firstMs === null ? 0 : scheduler.now() - firstMs,
          exitCode,
        },
      }));
      subscriber.complete();
    };

    const frameFor = (dst: Mac, s: number): Uint8Array => {
      const o = { dst, src: link.mac, vlan: link.vlan, ipSrc: source, ipDst: target, ttl, type: 'request', id, seq: s, payload } as const;
      return buf.subarray(0, emitIcmpEchoFrame(buf, o));
    };

    const send = (): void => {
      seq = (seq + 1) % SEQ_MOD;
      probes.set(seq, { sent: sendRequest(link, frameFor(mac!, seq)), answered: false });
      firstMs ??= scheduler.now();
      transmitted++;
      subscriber.next(printable({ type: 'sent', seq }));
    };

    const onIcmp = (obs: IcmpObservation): void => {
      // Echo requests: ours leaving (captured only where the link records both directions), or someone else's.
      if (finished || obs.id !== id || obs.type === ECHO_REQUEST) return;
      if (obs.error !== undefined) return onError(obs, obs.error);
      // Promiscuous capture also shows replies unicast to other hosts: only ours count.
      if (obs.type !== ECHO_REPLY || obs.code !== 0 || obs.src !== target || obs.dst !== source || obs.ethDst !== link.mac) return;
      const p = probes.get(obs.seq);
      if (p === undefined) return;
      const dup = p.answered;
      const rttNs = obs.tsNs - sentAt(link, p.sent);
      if (dup) duplicates++;
      else {
        p.answered = true;
        received++;
        rtt.add(rttNs);
      }
      subscriber.next(printable({ type: 'reply', seq: obs.seq, ip: obs.src, ttl: obs.ttl, bytes: obs.bytes, rttNs, dup, reply: obs }));
      if (!dup && count !== undefined && received + errors >= count) finish();
    };

    // iputils' rule: an error is ours when it quotes our request to the target with our identifier.
    const onError = (obs: IcmpObservation, e: IcmpErrorQuote): void => {
      if (obs.dst !== source || obs.ethDst !== link.mac || e.quotedSrc !== source || e.quotedDst !== target || !probes.has(obs.seq)) return;
      if (obs.type === IcmpType.Redirect) {
        subscriber.next(printable({ type: 'redirect', seq: obs.seq, from: obs.src, code: obs.code, gateway: e.info as Ipv4, redirect: obs }));
        return;
      }
      const icmpType = obs.type;
      if (icmpType !== IcmpType.DestinationUnreachable && icmpType !== IcmpType.TimeExceeded && icmpType !== IcmpType.ParameterProblem) return;
      errors++;
      subscriber.next(printable({ type: 'error', seq: obs.seq, from: obs.src, icmpType, code: obs.code, info: e.info, error: obs }));
      // iputils ends when replies + errors reach the count, and at the first error when a deadline was given.
      if ((count !== undefined && received + errors >= count) || deadlineMs > 0) finish();
    };

    // Without a deadline, `count` caps the requests; with one, ping keeps asking until `count` replies or the deadline.
    const cap = deadlineMs === 0 ? count : undefined;
    // iputils' schedule_exit: after the last request, twice the longest RTT (at least one interval) once anything
    // answered, else the -W linger time.
    const nextWaitMs = (): number => {
      if (cap === undefined || transmitted < cap) return intervalMs;
      const maxMs = rtt.stats()?.maxMs;
      return maxMs === undefined ? timeoutMs : Math.max(2 * maxMs, intervalMs);
    };

    const start = (resolved: Mac): void => {
      mac = resolved;
      // Listen first, then ask.
      subscriber.add(link.icmp$.subscribe({ next: onIcmp, error: (e: unknown) => subscriber.error(e) }));
      send();
      subscriber.add(
        scheduler.schedule(function (this: SchedulerAction<undefined>) {
          if (finished) return;
          if (cap !== undefined && transmitted >= cap) return finish(); // the wait after the last request is over
          send();
          this.schedule(undefined, nextWaitMs());
        }, nextWaitMs()),
      );
    };

    if (stop$ !== undefined) subscriber.add(from(stop$).subscribe(() => finish()));
    if (deadlineMs > 0) subscriber.add(scheduler.schedule(finish, deadlineMs));
    if (finished) return; // stop$ had already fired: nothing goes on the wire
    if (resolver === null) {
      subscriber.next(printable({ type: 'resolved', nextHop, mac: nextHopMac!, rttNs: null }));
      start(nextHopMac!);
    } else {
      subscriber.add(
        resolver.query$(nextHop, resolve).subscribe({
          next: (r) => {
            if (finished) return;
            subscriber.next(printable({ type: 'resolved', nextHop, mac: r.mac, rttNs: r.rttNs }));
            start(r.mac);
          },
          error: (e: unknown) => subscriber.error(e),
        }),
      );
    }
  });
}
