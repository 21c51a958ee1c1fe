import { asyncScheduler, from, Observable, type SchedulerAction, type Subscription } from 'rxjs';
import { Ipv4, printable, TargetSet } from '@ersatz/wire';
import { checkDelay, checkInt, checkNumber, OptionError } from './error.js';
import { judgeAnswer, type AnswerRules } from './answer.js';
import { checkSender, RequestTemplate } from './frames.js';
import type { ArpLink, ArpObservation } from './link.js';
import { HostTable } from './scan-hosts.js';
import type { ScanEvent, ScanOptions } from './scan-types.js';

const OP = 'scan';
// As arp-scan: a proxy or MAC-NAT bridge answering for a host is reported, its Ethernet source shown beside the MAC.
const SCAN_RULES: AnswerRules = { acceptSourceMismatch: true };
// arp-scan's accounting: ARP payload padded to 46 bytes + 18 bytes of header and FCS.
const MIN_WIRE_BYTES = 64;
const FCS = 4;
// How long past its end a wait may stay undecided (its request still queued, or answers still crossing the
// pipeline), and how often to look again meanwhile.
const UNDECIDED_GRACE_MS = 2000;
const RECHECK_MS = 2;
/**
 * Flow control: a request holds one credit from when it is queued until its host's answer has reached this thread
 * or its wait has ended, and at most this many are out. The path back holds several times as many replies (the
 * pipeline's events ring ~75 000, rx ring ~100 000, capture buffer ~160 000 at their defaults), so every reply the
 * kernel hands over has room, however far behind this thread falls: a sweep never outruns its consumer. The cost: a
 * range that does not answer is asked at most CREDITS per timeout (32 768/s at the default 500 ms).
 */
const CREDITS = 16384;
/** Once out of credit, the pump resumes when this many are back. */
const CREDITS_RESUME = CREDITS / 2;
/**
 * Hosts given up are still known for this many give-ups more, so that an answer arriving after its host's last wait
 * (a slow host, or a machine too busy to answer in time) is reported while the scan runs, as arp-scan reports it.
 */
const LATE_HOSTS = 16384;

/**
 * Sweeps `targets` with ARP requests the way arp-scan does: one pass over every host at the paced rate, then
 * further passes over the hosts that have not answered, each host waiting `timeoutMs × backoff^(try-1)` after its
 * latest request left (ArpLink.departedNs) before it is asked again or given up; at most CREDITS (16384) requests
 * await an answer at once. A host is reported once, as soon as it answers (even after its last wait, while the scan
 * runs), and again (`dup: true`) for each further MAC answering for it. Replies count when they come from that
 * host's IP, are addressed to `source` and our MAC, and were captured after we first asked it.
 *
 * Completes after the `done` event, `settleMs` after every host has answered or passed its last timeout (replies
 * within that window still count, duplicates included; later ones are not seen). Unsubscribing stops
 * it at once, except for requests already handed to the link (at most `lookaheadMs` of them).
 *
 * State is one slot per target (a HostTable, ~90 bytes a host; an unanswered host's IP is forgotten LATE_HOSTS
 * give-ups after its own), one FIFO of hosts waiting (arp-scan's cursor: waits are applied in send order, which is
 * deadline order when backoff >= 1), one timer and one subscription to `arp$`, whatever the number of targets. Random
 * order copies the targets into a Uint32Array (4 bytes a host); so does a list that is not a TargetSet, read once
 * when the scan starts (with a TargetSet of its hosts, which numbers the slots).
 *
 * Throws OptionError (synchronously) for options outside their domain.
 */
export function scan$(link: ArpLink, targets: Iterable<Ipv4>, options: ScanOptions = {}): Observable<ScanEvent> {
  const {
    ratePps,
    bandwidthBps,
    tries = 2,
    timeoutMs = 500,
    backoff = 1.5,
    random = false,
    seed,
    source = link.ip,
    spoofSender = false,
    settleMs = 10,
    progressMs = 0,
    lookaheadMs = 10,
    stop$,
    scheduler = asyncScheduler,
  } = options;
  if (ratePps !== undefined && bandwidthBps !== undefined) throw new OptionError(OP, 'ratePps', ratePps, 'either ratePps or bandwidthBps, not both');
  checkSender(OP, link, source, { allowUnspecified: true, spoofSender });
  checkNumber(OP, 'ratePps', ratePps, 0, true);
  checkNumber(OP, 'bandwidthBps', bandwidthBps, 0, true);
  checkInt(OP, 'tries', tries, 1);
  checkDelay(OP, 'timeoutMs', timeoutMs, true);
  checkNumber(OP, 'backoff', backoff, 0, true);
  checkDelay(OP, 'settleMs', settleMs);
  checkDelay(OP, 'progressMs', progressMs);
  checkDelay(OP, 'lookaheadMs', lookaheadMs);
  // The last try's wait grows as timeoutMs × backoff^(tries-1): it too must fit a timer.
  checkDelay(OP, 'timeoutMs × backoff^(tries-1)', timeoutMs * backoff ** (tries - 1), true);

  return new Observable<ScanEvent>((subscriber) => {
    const requests = new RequestTemplate(link, source);
    const wireBits = Math.max(requests.length + FCS, MIN_WIRE_BYTES) * 8;
    const intervalMs = ratePps !== undefined ? 1000 / ratePps : (wireBits * 1000) / (bandwidthBps ?? 256_000);

    const startMs = scheduler.now();
    const startNs = link.now();
    const sinceStart = (tsNs: bigint): number => Number(tsNs - startNs);
    // A list that is not a TargetSet is read once, here, and asked in its own order.
    const list = targets instanceof TargetSet ? null : Uint32Array.from(targets);
    const set = list === null ? (targets as TargetSet) : TargetSet.of(list);
    const order = random ? set.shuffled(seed ?? Math.floor(Math.random() * 2 ** 32)) : (list ?? set);
    const it = (order as Iterable<Ipv4>)[Symbol.iterator](); // uint32 values straight from Ipv4s
    // One target read ahead, so that the pump knows it has asked the last one as soon as it has (not a slot later).
    let ahead = it.next();
    let exhausted = ahead.done === true;
    const hosts = new HostTable(set);
    /** Slots, in the order their requests were sent. */
    const waiting: number[] = [];
    let head = 0;
    let nextSlotMs = 0;
    let total = 0;
    let sent = 0;
    let answered = 0;
    let outstanding = 0;
    let duplicates = 0;
    let wake: Subscription | null = null;
    // Credits out (see CREDITS); `expired`: the first host in `waiting` whose credit its wait has not yet returned.
    let inFlight = 0;
    let expired = 0;
    let starved = false;
    let finished = false;

    const elapsed = (): number => scheduler.now() - startMs;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      wake?.unsubscribe();
      subscriber.next(printable({ type: 'done', summary: { hosts: total, sent, answered, duplicates, elapsedMs: elapsed() } }));
      subscriber.complete();
    };
    // Nothing is outstanding: listen settleMs more for late duplicates, then end (once; pump stays asleep).
    let settling = false;
    const settle = (): void => {
      if (settling || finished) return;
      settling = true;
      wake?.unsubscribe();
      if (settleMs === 0) return finish();
      wake = scheduler.schedule(finish, settleMs);
    };
    const sleepUntil = (atMs: number, nowMs: number): void => {
      wake?.unsubscribe();
      wake = scheduler.schedule(pump, Math.max(0, atMs - nowMs));
    };
    const release = (h: number): void => {
      if (hosts.holding[h] === 0) return;
      hosts.holding[h] = 0;
      inFlight--;
    };
    // The last LATE_HOSTS hosts given up (their slots), oldest overwritten first: past that a host is forgotten unless
    // it answered.
    const givenUp: number[] = [];
    let givenUpCount = 0;
    const giveUp = (h: number): void => {
      hosts.gaveUp[h] = 1;
      const at = givenUpCount++ % LATE_HOSTS;
      const old = givenUp[at];
      if (old !== undefined && hosts.mac[old] === undefined) hosts.forget(old);
      givenUp[at] = h;
    };
    const waitFor = (tries: number): number => timeoutMs * backoff ** (tries - 1);
    // The timing base of the latest request: when it left, else when it was due to.
    const baseNs = (h: number): number => {
      if (hosts.leftNs[h]! < 0) {
        const left = link.departedNs(hosts.ticket[h]!);
        if (left !== null) hosts.leftNs[h] = sinceStart(left);
      }
      return hosts.leftNs[h]! >= 0 ? hosts.leftNs[h]! : hosts.sentNs[h]!;
    };
    const send = (h: number, atMs: number): void => {
      if (hosts.tries[h]! > 0) hosts.prevBaseNs[h] = baseNs(h);
      release(h);
      const sentNs = Math.round(atMs * 1e6);
      hosts.sentNs[h] = sentNs;
      hosts.leftNs[h] = -1;
      hosts.departed[h] = 0;
      hosts.dueMs[h] = atMs + waitFor(++hosts.tries[h]!);
      hosts.holding[h] = 1;
      inFlight++;
      waiting.push(h);
      nextSlotMs = atMs + intervalMs;
      sent++;
      hosts.ticket[h] = link.send(requests.frameFor(hosts.ip[h] as Ipv4), startNs + BigInt(sentNs));
    };
    // How far the link has delivered what it captured (ms since the start), asked at most once per pump run.
    let heardMs = -Infinity;
    let heardAsked = false;
    const heard = (ms: number): boolean => {
      if (heardMs < ms && !heardAsked) {
        heardAsked = true;
        heardMs = sinceStart(link.heardUntilNs()) / 1e6;
      }
      return heardMs >= ms;
    };
    /**
     * Whether `h`'s wait is over at `nowMs`: true, false (its dueMs is when it will be), or 'undecided' for at most
     * UNDECIDED_GRACE_MS: its request is still in the link's send queue (at high rates the transmit worker runs
     * behind the schedule, and a host gets its whole timeout after its request is on the wire, as with arp-scan), or
     * an answer captured in time may still be crossing the pipeline to this thread.
     */
    const waitOver = (h: number, nowMs: number): boolean | 'undecided' => {
      if (hosts.dueMs[h]! > nowMs) return false;
      if (hosts.departed[h] === 0) {
        if (hosts.ticket[h]! >= link.departures() && nowMs < hosts.dueMs[h]! + UNDECIDED_GRACE_MS) return 'undecided';
        hosts.departed[h] = 1;
        baseNs(h); // looks the departure up
        const leftNs = hosts.leftNs[h]!;
        if (leftNs >= 0) hosts.dueMs[h] = Math.max(hosts.dueMs[h]!, leftNs / 1e6 + waitFor(hosts.tries[h]!));
        if (hosts.dueMs[h]! > nowMs) return false;
      }
      const dueMs = hosts.dueMs[h]!;
      return heard(dueMs) || nowMs >= dueMs + UNDECIDED_GRACE_MS || 'undecided';
    };
    // Out of credit: the waits that are over return theirs (the hosts stay queued for their next try). Returns when
    // to look again, or -1 when credit is back.
    const reclaim = (nowMs: number): number => {
      for (; expired < waiting.length; expired++) {
        const h = waiting[expired]!;
        if (hosts.holding[h] === 0) continue;
        const over = waitOver(h, nowMs);
        if (over !== true) return inFlight < CREDITS ? -1 : over === 'undecided' ? nowMs + RECHECK_MS : hosts.dueMs[h]!;
        release(h);
      }
      return inFlight < CREDITS ? -1 : nowMs + timeoutMs;
    };

    // The first pass's hot loop: asks new hosts while they are due within the lookahead and credit lasts. Apart from
    // pump, whose rarer ways out (out of lookahead, out of credit, the later passes) would each make V8 compile this
    // loop again when first taken after it was optimised.
    const askNew = (nowMs: number, horizon: number): void => {
      for (;;) {
        const atMs = Math.max(nextSlotMs, nowMs);
        if (exhausted || atMs > horizon || inFlight >= CREDITS) return;
        const ip = ahead.value as Ipv4;
        ahead = it.next();
        exhausted = ahead.done === true;
        const h = hosts.add(ip, Math.round(atMs * 1e6));
        if (h < 0) continue; // listed twice: ask once
        total++;
        outstanding++;
        send(h, atMs);
      }
    };

    // The one schedule: hand the link every request due within the lookahead, drop hosts past their last timeout,
    // then sleep until the next thing is due.
    function pump(): void {
      if (finished) return;
      const nowMs = elapsed();
      const horizon = nowMs + lookaheadMs;
      starved = false;
      heardAsked = false;
      for (;;) {
        const atMs = Math.max(nextSlotMs, nowMs); // never catch up in a burst after a stall
        if (!exhausted) {
          if (atMs > horizon) return sleepUntil(atMs - lookaheadMs, nowMs);
          if (inFlight >= CREDITS) {
            const againMs = reclaim(nowMs);
            if (againMs >= 0) {
              starved = true; // an answer wakes the pump sooner (onFrame)
              return sleepUntil(againMs, nowMs);
            }
          }
          askNew(nowMs, horizon);
          continue;
        }
        while (head < waiting.length && hosts.mac[waiting[head]!] !== undefined) head++;
        if (head > 1024 && head * 2 > waiting.length) {
          waiting.splice(0, head);
          expired = Math.max(0, expired - head);
          head = 0;
        }
        const h = waiting[head];
        if (h === undefined) return settle(); // every host answered or timed out
        const over = waitOver(h, nowMs);
        if (over === 'undecided') return sleepUntil(nowMs + RECHECK_MS, nowMs);
        if (!over) return sleepUntil(hosts.dueMs[h]!, nowMs);
        if (hosts.tries[h]! >= tries + hosts.extra[h]!) {
          release(h);
          head++;
          outstanding--;
          giveUp(h);
          continue;
        }
        if (atMs > horizon) return sleepUntil(atMs - lookaheadMs, nowMs);
        head++;
        send(h, atMs); // the retry takes over the credit of the request that timed out
      }
    }

    const onFrame = (obs: ArpObservation): void => {
      // Our own requests (captured only when the link records both directions) are judged unrelated.
      if (finished) return;
      const a = obs.arp;
      const h = hosts.slotOf(a.senderIp);
      if (h < 0 || judgeAnswer(link, a.senderIp, source, SCAN_RULES, obs) !== 'answer') return;
      const ts = sinceStart(obs.tsNs);
      const firstNs = hosts.firstNs[h]!;
      if (ts < firstNs) return; // not asked yet, or asked again after it timed out
      const base = baseNs(h);
      const prev = hosts.prevBaseNs[h]!;
      // From the latest request that left before the reply; when none had (the host's own request naming us overtook
      // ours), from when it was first queued: never a negative RTT.
      const rttNs = BigInt(ts - (base <= ts ? base : prev > 0 && prev <= ts ? prev : firstNs));
      const dup = hosts.mac[h] !== undefined;
      if (!hosts.answered(h, a.senderMac)) return; // the same MAC again: one host, not a DUP
      if (!dup) {
        answered++;
        if (hosts.gaveUp[h] === 0) {
          // (A late answer's host left the outstanding and gave back its credit when it was given up.)
          outstanding--;
          release(h);
          if (starved && inFlight <= CREDITS_RESUME && !settling) {
            starved = false;
            sleepUntil(0, 0); // the pump runs once this batch of events is handled, not per event
          }
        }
      } else duplicates++;
      subscriber.next(printable({ type: 'host', ip: a.senderIp, mac: a.senderMac, ethSrc: obs.ethSrc, rttNs, dup, tries: hosts.tries[h]!, reply: obs }));
      // outstanding first: compared on every answer, V8 has seen the comparison before the sweep's end needs it.
      if (outstanding === 0 && exhausted && !dup) settle();
    };

    // Listen first, then ask.
    subscriber.add(link.arp$.subscribe({ next: onFrame, error: (e: unknown) => subscriber.error(e) }));
    // A worker restarted or the interface reopened: requests and replies in flight meanwhile may be lost. Every host
    // still waiting gets one more request, asked at its usual time, so a lost frame does not cost it its answer.
    if (link.recovered$ !== undefined) {
      subscriber.add(
        link.recovered$.subscribe(() => {
          for (let i = head; i < waiting.length; i++) if (hosts.mac[waiting[i]!] === undefined) hosts.extra[waiting[i]!]!++;
        }),
      );
    }
    if (progressMs > 0) {
      subscriber.add(
        scheduler.schedule(function (this: SchedulerAction<undefined>) {
          if (finished) return;
          subscriber.next(printable({ type: 'progress', hosts: total, sent, answered, outstanding, elapsedMs: elapsed() }));
          this.schedule(undefined, progressMs);
        }, progressMs),
      );
    }
    if (stop$ !== undefined) subscriber.add(from(stop$).subscribe(() => finish()));
    pump();
    return () => {
      finished = true;
      wake?.unsubscribe();
    };
  });
}

