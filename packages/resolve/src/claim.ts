// RFC 5227 IPv4 Address Conflict Detection, the whole of it: probe (with its random timing), detect reply and
// probe-probe conflicts, announce, and optionally defend the address afterwards (§2.4).
import { asyncScheduler, from, Observable, type ObservableInput, type SchedulerLike } from 'rxjs';
import { ArpOp, Ipv4, Mac, printable, type ArpRepr } from '@ersatz/wire';
import { OptionError } from './error.js';
import { arpFrame, onOurVlan } from './frames.js';
import type { ArpLink, ArpObservation } from './link.js';

/** RFC 5227 §1.1's constants, in milliseconds. */
export const Rfc5227 = {
  PROBE_WAIT: 1000,
  PROBE_NUM: 3,
  PROBE_MIN: 1000,
  PROBE_MAX: 2000,
  ANNOUNCE_WAIT: 2000,
  ANNOUNCE_NUM: 2,
  ANNOUNCE_INTERVAL: 2000,
  DEFEND_INTERVAL: 10_000,
} as const;

export interface ClaimOptions {
  /**
   * After announcing, keep the address (§2.4 b): answer a conflicting ARP with one announcement, unless the last
   * conflict came within DEFEND_INTERVAL, which ends the claim with a `conflict`. Default false: the claim completes
   * after the last announcement.
   */
  readonly defend?: boolean;
  /** Uniform in [0, 1): picks PROBE_WAIT and the probe spacing (default Math.random). */
  readonly random?: () => number;
  /** Ends the claim early, without a verdict (what SIGINT does to `ersatz claim`). */
  readonly stop$?: ObservableInput<unknown>;
  readonly scheduler?: SchedulerLike;
}

/** Who else wants the address, and how we know. */
export interface ClaimConflictEvent {
  readonly type: 'conflict';
  /** The other station's hardware address (`ar$sha`). */
  readonly mac: Mac;
  /** `sender`: an ARP request or reply with `ar$spa` = the address. `probe`: its own probe for the address (§2.1.1). */
  readonly kind: 'sender' | 'probe';
  /** `probing` up to ANNOUNCE_WAIT after the last probe; `announcing` once claimed; `defending` after a defence. */
  readonly phase: 'probing' | 'announcing' | 'defending';
  readonly observation: ArpObservation;
}

export type ClaimEvent =
  /** Probe `n` (1..PROBE_NUM) has been queued. */
  | { readonly type: 'probing'; readonly n: number; readonly arp: ArpRepr }
  /** Announcement `n` (1..ANNOUNCE_NUM) has been queued: the address is ours from the first one. */
  | { readonly type: 'announcing'; readonly n: number; readonly arp: ArpRepr }
  /** Every announcement is out: the claim succeeded (the end, unless `defend`). */
  | { readonly type: 'announced' }
  /** `defend`: a conflicting ARP from `mac`, answered with one announcement. */
  | { readonly type: 'defended'; readonly mac: Mac; readonly observation: ArpObservation }
  | ClaimConflictEvent;

const OP = 'claim';

/** The ARP Probe for `ip` (§2.1.1): a broadcast request from sender IP 0.0.0.0, target hardware address zero. */
export function claimProbe(link: Pick<ArpLink, 'mac'>, ip: Ipv4): ArpRepr {
  return { operation: ArpOp.Request, senderMac: link.mac, senderIp: Ipv4.UNSPECIFIED, targetMac: Mac.ZERO, targetIp: ip };
}

/** The ARP Announcement of `ip` (§2.3): a broadcast request with sender IP = target IP = `ip`, target hardware address zero. */
export function claimAnnouncement(link: Pick<ArpLink, 'mac'>, ip: Ipv4): ArpRepr {
  return { operation: ArpOp.Request, senderMac: link.mac, senderIp: ip, targetMac: Mac.ZERO, targetIp: ip };
}

/**
 * How `o` conflicts with our claim of `ip`, or null: another station's ARP request or reply with sender IP = `ip`
 * (§2.1.1, §2.4), or, while probing, another station's probe for `ip` (§2.1.1: both hosts back off).
 */
export function claimConflict(link: ArpLink, ip: Ipv4, o: ArpObservation, probing: boolean): 'sender' | 'probe' | null {
  const a = o.arp;
  if (!onOurVlan(link, o) || a.senderMac === link.mac) return null; // our own frames, where the link captures them
  if (a.operation !== ArpOp.Request && a.operation !== ArpOp.Reply) return null;
  if (a.senderIp === ip) return 'sender';
  if (probing && a.operation === ArpOp.Request && a.senderIp === Ipv4.UNSPECIFIED && a.targetIp === ip) return 'probe';
  return null;
}

/**
 * Cold: claims `ip` on `link` as RFC 5227 says. Waits PROBE_WAIT × random, sends PROBE_NUM probes PROBE_MIN..PROBE_MAX
 * apart (random), and if nothing conflicts by ANNOUNCE_WAIT after the last one, sends ANNOUNCE_NUM announcements
 * ANNOUNCE_INTERVAL apart. Emits `probing` per probe, `announcing` per announcement, then `announced` and completes;
 * or emits one `conflict` and completes (nothing more is sent). With `defend` it keeps watching after `announced`
 * (see ClaimOptions.defend) until a conflict, `stop$` or unsubscription. `stop$` completes it without a verdict.
 *
 * The probes are the safety: the interface need not have `ip` yet (that is what a claim is for), and an address
 * another host holds gets a reply from it, which ends the claim before any announcement. Listens from subscription.
 * Throws OptionError (synchronously) for an address no host can hold (0.0.0.0, broadcast, multicast, loopback).
 */
export function claim$(link: ArpLink, ip: Ipv4, options: ClaimOptions = {}): Observable<ClaimEvent> {
  const { defend = false, random = Math.random, stop$, scheduler = asyncScheduler } = options;
  if (Ipv4.isUnspecified(ip) || Ipv4.isBroadcast(ip) || Ipv4.isMulticast(ip) || Ipv4.isLoopback(ip)) {
    throw new OptionError(OP, 'address', Ipv4.format(ip), 'a unicast address a host can hold (not 0.0.0.0, broadcast, multicast or loopback)');
  }
  const R = Rfc5227;
  // A random() outside [0, 1) must not stretch or shrink the RFC's windows.
  const uniform = (lo: number, hi: number): number => lo + (hi - lo) * Math.min(Math.max(random(), 0), 1);

  return new Observable<ClaimEvent>((subscriber) => {
    let phase: 'probing' | 'announcing' | 'defending' = 'probing';
    let probes = 0;
    let announcements = 0;
    let lastDefenceMs: number | null = null;
    let done = false;

    const end = (): void => {
      done = true;
      subscriber.complete();
    };
    const at = (delayMs: number, work: () => void): void => {
      subscriber.add(scheduler.schedule(() => !done && work(), delayMs));
    };
    const broadcast = (arp: ArpRepr): void => {
      link.send(arpFrame(link, Mac.BROADCAST, arp));
    };

    const probe = (): void => {
      const arp = claimProbe(link, ip);
      broadcast(arp);
      subscriber.next(printable({ type: 'probing', n: ++probes, arp }));
      if (probes < R.PROBE_NUM) at(uniform(R.PROBE_MIN, R.PROBE_MAX), probe);
      else at(R.ANNOUNCE_WAIT, announce);
    };
    const announce = (): void => {
      phase = 'announcing';
      const arp = claimAnnouncement(link, ip);
      broadcast(arp);
      subscriber.next(printable({ type: 'announcing', n: ++announcements, arp }));
      if (announcements < R.ANNOUNCE_NUM) return at(R.ANNOUNCE_INTERVAL, announce);
      subscriber.next(printable({ type: 'announced' }));
      if (!defend) end();
    };

    const onFrame = (o: ArpObservation): void => {
      if (done) return;
      const kind = claimConflict(link, ip, o, phase === 'probing');
      if (kind === null) return;
      const now = scheduler.now();
      if (phase !== 'probing' && defend && (lastDefenceMs === null || now - lastDefenceMs >= R.DEFEND_INTERVAL)) {
        // §2.4 (b): record the conflict, broadcast one announcement, go on using the address.
        lastDefenceMs = now;
        broadcast(claimAnnouncement(link, ip));
        subscriber.next(printable({ type: 'defended', mac: o.arp.senderMac, observation: o }));
        return;
      }
      subscriber.next(printable({ type: 'conflict', mac: o.arp.senderMac, kind, phase: lastDefenceMs === null ? phase : 'defending', observation: o }));
      end();
    };

    // Listen first: a reply to the first probe, or another host's probe before ours, must not be missed.
    subscriber.add(link.arp$.subscribe({ next: onFrame, error: (e: unknown) => subscriber.error(e) }));
    if (stop$ !== undefined) subscriber.add(from(stop$).subscribe(() => !done && end()));
    at(uniform(0, R.PROBE_WAIT), probe);
  });
}
