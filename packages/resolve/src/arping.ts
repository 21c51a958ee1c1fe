import { asyncScheduler, Observable, type ObservableInput, from, type SchedulerAction, type SchedulerLike } from 'rxjs';
import { ArpOp, Ipv4, Mac, printable, type ArpRepr } from '@ersatz/wire';
import { checkDelay, checkInt, OptionError } from './error.js';
import { judgeAnswer, type AnswerRules } from './answer.js';
import { arpFrame, checkSender, onOurVlan, sendRequest, sentAt, type SenderLink, type SentRequest } from './frames.js';
import type { ArpLink, ArpObservation } from './link.js';
import { RttAccumulator, type RttStats } from './stats.js';

/**
 * What arping sends (iputils arping's modes):
 * - `request` (default): `who-has target tell source`, broadcast until a reply teaches the target's MAC, then unicast.
 * - `dad` (-D): iputils' duplicate address detection, byte for byte: requests from sender IP 0.0.0.0 (unless
 *   `source`), `count` of them `intervalMs` apart; stops at the first reply: the address is taken. RFC 5227's probe
 *   (random timing, 3 probes, zero target MAC, then announcements) is `claim$`.
 * - `unsolicited` (-U): gratuitous request, sender IP = target IP, to update neighbours' caches: RFC 5227's ARP
 *   Announcement.
 * - `advert` (-A): gratuitous reply: sender IP = target IP, target MAC = our MAC (RFC 5227 §3 allows it; its
 *   Announcement is the request form).
 */
export type ArpingMode = 'request' | 'dad' | 'unsolicited' | 'advert';

export interface ArpingOptions {
  /** -c: probes to send; after the last one arping waits one more interval (default: no limit). */
  readonly count?: number;
  /** -w: stop after this long (iputils takes seconds); 0 or undefined: no deadline. */
  readonly deadlineMs?: number;
  /** -i: time between probes (default 1000 ms). */
  readonly intervalMs?: number;
  /** -b: keep broadcasting; never switch to unicast after the first reply. */
  readonly broadcastOnly?: boolean;
  readonly mode?: ArpingMode;
  /** -s: sender IP of our probes (default: the link's IP; 0.0.0.0 for `dad`; the target for `unsolicited`/`advert`). */
  readonly source?: Ipv4;
  /**
   * Send for a sender address that is not assigned to the interface (`source`, or the target of `unsolicited` /
   * `advert`). Dangerous: every neighbour learns that address at our MAC and sends its traffic for it to us (a
   * gateway's: the whole LAN's). For labs of your own only; default false, and never implied by `source`.
   */
  readonly spoofSender?: boolean;
  /** -f: stop at the first reply (always on for `dad`). */
  readonly quitOnReply?: boolean;
  /** Stops the run early with a summary when it emits (what SIGINT does to arping). */
  readonly stop$?: ObservableInput<unknown>;
  readonly scheduler?: SchedulerLike;
}

export interface ArpingSentEvent {
  readonly type: 'sent';
  /** 1 for the first probe. */
  readonly seq: number;
  /** Ethernet destination: broadcast, or the MAC learned from a reply. */
  readonly dst: Mac;
  readonly arp: ArpRepr;
}

export interface ArpingReplyEvent {
  readonly type: 'reply';
  /** `ar$spa` and `ar$sha` of the answer. */
  readonly ip: Ipv4;
  readonly mac: Mac;
  /** Reply, or Request (arping counts a request from the target that names us, as iputils does). */
  readonly operation: ArpOp;
  /** Whether it reached us broadcast/multicast rather than unicast (iputils prints "Broadcast" / "Unicast"). */
  readonly broadcast: boolean;
  /** From our latest probe sent before it (capture timestamp when seen) to its capture timestamp. */
  readonly rttNs: bigint;
  readonly reply: ArpObservation;
}

export interface ArpingSummary {
  readonly sent: number;
  /** Probes sent broadcast. */
  readonly broadcasts: number;
  readonly received: number;
  /** Answers that arrived broadcast, and answers that were requests (iputils' "(n request(s), m broadcast(s))"). */
  readonly broadcastReplies: number;
  readonly requestReplies: number;
  readonly rtt: RttStats | null;
  /** For `dad`: `taken` when anyone answered for the address, else `free`; null in other modes. */
  readonly dad: 'free' | 'taken' | null;
  /**
   * iputils arping's exit status: `dad` 0 when free, 1 when taken; `unsolicited`/`advert` always 0; with a deadline
   * and a count (and no -f) 0 only when `count` answers came; otherwise 0 when any answer came, 1 when none did.
   */
  readonly exitCode: 0 | 1;
  readonly elapsedMs: number;
}

export type ArpingEvent = ArpingSentEvent | ArpingReplyEvent | { readonly type: 'done'; readonly summary: ArpingSummary };

const OP = 'arping';
// As iputils: the Ethernet source is not checked, so an answer through a MAC-NAT bridge still counts.
const ARPING_RULES: AnswerRules = { acceptSourceMismatch: true };
const MODES: readonly ArpingMode[] = ['request', 'dad', 'unsolicited', 'advert'];

/**
 * The sender IP arping uses for `options` (see ArpingOptions.source), checked: it must be assigned to the interface
 * (`link.addresses`), except 0.0.0.0 in `dad` (an RFC 5227 probe, which needs no address of ours) or with
 * `spoofSender`. Throws ForeignSenderError otherwise, so nothing is sent.
 */
export function arpingSource(link: SenderLink, target: Ipv4, options: Pick<ArpingOptions, 'mode' | 'source' | 'spoofSender'> = {}): Ipv4 {
  const mode = options.mode ?? 'request';
  const spa = options.source ?? (mode === 'dad' ? Ipv4.UNSPECIFIED : mode === 'request' ? link.ip : target);
  return checkSender(OP, link, spa, { allowUnspecified: mode === 'dad', spoofSender: options.spoofSender === true });
}

/**
 * The probe iputils arping sends in `options.mode`, to `learned` when a reply taught it (else broadcast).
 * iputils fills `ar$tha` with the Ethernet destination (all ones while broadcasting, checked against tcpdump of
 * iputils 20221126), except in `advert` where it is our own MAC.
 */
export function arpingProbe(link: ArpLink, target: Ipv4, options: Pick<ArpingOptions, 'mode' | 'source' | 'spoofSender'> = {}, learned: Mac | null = null): { dst: Mac; arp: ArpRepr } {
  const dst = learned ?? Mac.BROADCAST;
  const senderIp = arpingSource(link, target, options);
  if (options.mode === 'advert') return { dst, arp: { operation: ArpOp.Reply, senderMac: link.mac, senderIp, targetMac: link.mac, targetIp: target } };
  return { dst, arp: { operation: ArpOp.Request, senderMac: link.mac, senderIp, targetMac: dst, targetIp: target } };
}

/**
 * Cold: runs iputils arping against `target` on `link`. Sends a probe at once and every `intervalMs`; emits a
 * `sent` event per probe, a `reply` event per accepted answer, and a `done` summary, then completes. It ends:
 * one interval after the `count`th probe; at the deadline; at the `count`th answer when a deadline is set; at the
 * first answer with -f or -D; right after the `count`th probe for -U/-A; or when `stop$` emits. Without count,
 * deadline or stop$ it runs until unsubscribed (then no summary).
 *
 * Accepted answers: outside `dad`, judgeAnswer's rule (a reply from `target` to our sender IP and MAC, or a request
 * from it naming our sender IP), with any Ethernet source, as iputils; in `dad`, iputils' filter: a request or reply
 * from `target` and a MAC other than ours, unicast to us or broadcast/multicast, addressed to our sender IP when we
 * sent one.
 *
 * Throws OptionError (synchronously) for options outside their domain, and ForeignSenderError for a sender address
 * the interface does not have (see arpingSource).
 */
export function arping$(link: ArpLink, target: Ipv4, options: ArpingOptions = {}): Observable<ArpingEvent> {
  const { count, deadlineMs = 0, intervalMs = 1000, broadcastOnly = false, mode = 'request', quitOnReply = false, stop$, scheduler = asyncScheduler } = options;
  checkInt(OP, 'count', count, 1);
  checkDelay(OP, 'deadlineMs', deadlineMs);
  checkDelay(OP, 'intervalMs', intervalMs, true);
  if (!MODES.includes(mode)) throw new OptionError(OP, 'mode', mode, MODES.join(', '));
  const dad = mode === 'dad';
  const unsolicited = mode === 'unsolicited' || mode === 'advert';
  const quit = quitOnReply || dad;
  const spa = arpingSource(link, target, options);

  return new Observable<ArpingEvent>((subscriber) => {
    const startMs = scheduler.now();
    const rtt = new RttAccumulator();
    let learned: Mac | null = null;
    let sent = 0;
    let broadcasts = 0;
    let received = 0;
    let broadcastReplies = 0;
    let requestReplies = 0;
    let firstNs: bigint | null = null;
    let latest: SentRequest | null = null;
    let previous: SentRequest | null = null;
    let finished = false;

    const finish = (): void => {
      if (finished) return;
      finished = true;
      const exitCode = dad ? (received > 0 ? 1 : 0) : unsolicited ? 0 : deadlineMs > 0 && count !== undefined && !quit ? (received >= count ? 0 : 1) : received > 0 ? 0 : 1;
      subscriber.next(printable({
        type: 'done',
        summary: {
          sent,
          broadcasts,
          received,
          broadcastReplies,
          requestReplies,
          rtt: rtt.stats(),
          dad: dad ? (received > 0 ? 'taken' : 'free') : null,
          exitCode,
          elapsedMs: scheduler.now() - startMs,
        },
      }));
      subscriber.complete();
    };

    const send = (): void => {
      const { dst, arp } = arpingProbe(link, target, options, learned);
      previous = latest;
      latest = sendRequest(link, arpFrame(link, dst, arp));
      firstNs ??= latest.queuedNs;
      sent++;
      if (learned === null) broadcasts++;
      subscriber.next(printable({ type: 'sent', seq: sent, dst, arp }));
      if (unsolicited && sent === count) finish();
    };

    const onFrame = (obs: ArpObservation): void => {
      // Our own frames (captured only where the link records both directions) never answer, as with iputils.
      if (finished || firstNs === null || obs.tsNs < firstNs || obs.ethSrc === link.mac || !onOurVlan(link, obs)) return;
      const a = obs.arp;
      if (dad) {
        // Anyone claiming the address is the answer DAD looks for (iputils' -D filter): a request or reply from it,
        // broadcast or to us (not PACKET_OTHERHOST), and addressed to our sender IP when we sent one.
        if (obs.ethDst !== link.mac && !Mac.isMulticast(obs.ethDst)) return;
        if (a.operation !== ArpOp.Request && a.operation !== ArpOp.Reply) return;
        if (a.senderIp !== target || a.senderMac === link.mac || (spa !== Ipv4.UNSPECIFIED && a.targetIp !== spa)) return;
      } else if (judgeAnswer(link, target, spa, ARPING_RULES, obs) !== 'answer') return;

      received++;
      // From the latest probe that left before the reply.
      const latestNs = sentAt(link, latest!);
      const rttNs = obs.tsNs - (latestNs <= obs.tsNs || previous === null ? latestNs : sentAt(link, previous));
      rtt.add(rttNs);
      const broadcast = obs.ethDst !== link.mac;
      if (broadcast) broadcastReplies++;
      if (a.operation === ArpOp.Request) requestReplies++;
      subscriber.next(printable({ type: 'reply', ip: a.senderIp, mac: a.senderMac, operation: a.operation, broadcast, rttNs, reply: obs }));
      if ((deadlineMs > 0 && received === count) || quit) return finish();
      if (!broadcastOnly) learned = a.senderMac;
    };

    // Listen first, then probe.
    subscriber.add(link.arp$.subscribe({ next: onFrame, error: (e: unknown) => subscriber.error(e) }));
    if (stop$ !== undefined) subscriber.add(from(stop$).subscribe(() => finish()));
    // iputils' interval timer: the nth expiry past `count` ends the run, every other one sends. Scheduled before the
    // deadline so that when both fall on the same instant (-c 2 -w 1) the probe still goes out first, as in iputils.
    let expiries = 1;
    subscriber.add(
      scheduler.schedule(function (this: SchedulerAction<undefined>) {
        if (finished) return;
        expiries++;
        if (count !== undefined && count < expiries) return finish();
        send();
        if (!finished) this.schedule(undefined, intervalMs);
      }, intervalMs),
    );
    if (deadlineMs > 0) subscriber.add(scheduler.schedule(finish, deadlineMs));
    send();
  });
}
