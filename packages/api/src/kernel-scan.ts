// A sweep in the kernel tier: the kernel resolves each target for any user (one datagram to its discard port), a few
// hundred at a time so that its neighbour table never holds more unresolved entries than it is built to.
import { readFileSync } from 'node:fs';
import { Observable } from 'rxjs';
import { Ipv4, printable } from '@ersatz/wire';
import type { NeighbourEntry } from '@ersatz/netlink';
import type { InterfaceInfo } from './host.js';
import { answerDeadlineMs, DISCARD_PORT, discardSocket, HELD, type NeighbourAnswer } from './kernel-tier.js';

export type KernelScanEvent =
  | { readonly type: 'host'; readonly answer: NeighbourAnswer }
  | {
      readonly type: 'done';
      readonly summary: {
        readonly hosts: number;
        readonly answered: number;
        /** Targets the kernel never made an entry for, MAX_ASKS datagrams apart: its table stayed full. */
        readonly unasked: number;
        readonly window: number;
        readonly elapsedMs: number;
      };
    };

/** Datagrams per target at most when the kernel makes no entry for it (its table full). */
const MAX_ASKS = 10;

export interface KernelScanOptions {
  /**
   * Targets being resolved at once (default: half the kernel's gc_thresh2, 256 with its defaults, at most 1024): each
   * is an entry of the kernel's neighbour table until it resolves or fails, and past gc_thresh3 the kernel refuses new
   * ones. A silent target holds its entry for the kernel's retry time (mcast_solicit × retrans_time_ms: 3 s).
   */
  readonly window?: number;
}

/**
 * Sweeps `targets` on `info.ifname` through the kernel (our own addresses left out): a target whose entry already
 * holds a MAC is reported at once (with its state); the others get one datagram each, and the entry's next change
 * answers (REACHABLE with the MAC, or FAILED: not found). A target the kernel made no entry for within its retry time
 * and a second (its table full) is asked again, up to MAX_ASKS times, then counted in `unasked`. Emits each host found,
 * then `done`. Unsubscribing stops it. Linux only.
 */
export function kernelScan$(info: InterfaceInfo, targets: Iterable<Ipv4>, options: KernelScanOptions = {}): Observable<KernelScanEvent> {
  return new Observable<KernelScanEvent>((subscriber) => {
    const startMs = performance.now();
    const window = Math.max(1, Math.min(options.window ?? defaultWindow(), 1024));
    const deadlineMs = answerDeadlineMs(info.ifname);
    const pending = new Map<Ipv4, number>(); // target → when it is given up
    const it = targets[Symbol.iterator]();
    let hosts = 0;
    let answered = 0;
    let exhausted = false;
    let stopped = false;
    const socket = discardSocket();
    let held = new Map<Ipv4, NeighbourEntry>();

    const found = (e: NeighbourEntry): void => {
      answered++;
      subscriber.next({ type: 'host', answer: printable({ tier: 'kernel', ip: e.ip, mac: e.mac!, ifname: info.ifname, state: e.state }) });
    };
    // Targets whose datagram the kernel refused for want of room in its table: asked again, never dropped.
    const refused: Ipv4[] = [];
    const asks = new Map<Ipv4, number>();
    let unasked = 0;
    let netlink: typeof import('@ersatz/netlink') | null = null;
    let pausedUntil = 0;
    const send = (ip: Ipv4): void => {
      pending.set(ip, performance.now() + deadlineMs);
      socket.send(new Uint8Array(0), DISCARD_PORT, Ipv4.format(ip), (err) => {
        if (err === null || err === undefined || stopped) return;
        // ENOBUFS (the table is at gc_thresh3) and the like: wait for the kernel's collector, then ask again.
        pending.delete(ip);
        refused.push(ip);
        pausedUntil = performance.now() + 250;
      });
    };
    /** The next target to ask: one refused before, else a new one (counted, our own addresses left out). */
    const next = (): Ipv4 | undefined => {
      if (refused.length > 0) return refused.shift();
      for (;;) {
        const step = it.next();
        if (step.done === true) {
          exhausted = true;
          return undefined;
        }
        // Our own addresses are no neighbours: the kernel would loop the datagram back and never ARP for them.
        if (info.addresses.includes(step.value)) continue;
        hosts++;
        return step.value;
      }
    };
    const pump = (): void => {
      while (!stopped && pending.size < window && performance.now() >= pausedUntil) {
        const ip = next();
        if (ip === undefined) break;
        const known = held.get(ip);
        if (known !== undefined) found(known);
        else send(ip);
      }
      if (exhausted && refused.length === 0 && pending.size === 0 && !stopped) {
        stopped = true;
        subscriber.next({ type: 'done', summary: { hosts, answered, unasked, window, elapsedMs: Math.round(performance.now() - startMs) } });
        subscriber.complete();
      }
    };
    // Targets that got neither answer in time. The kernel gives every entry it makes an answer or FAILED within its
    // retry time, so no entry at all means it made none: its table was full (gc_thresh3), the datagram dropped without
    // an error. Those are asked again once the table has room (up to MAX_ASKS times, then counted as not asked).
    const expiry = setInterval(() => {
      const now = performance.now();
      for (const [ip, until] of pending) {
        if (until > now) continue;
        pending.delete(ip);
        const entry = netlink?.neighbour({ ifname: info.ifname, ip }) ?? null;
        if (entry !== null && entry.mac !== null && HELD.has(entry.state)) found(entry);
        else if (entry === null || entry.state === 'incomplete') {
          const n = (asks.get(ip) ?? 1) + 1;
          if (n > MAX_ASKS) unasked++;
          else {
            asks.set(ip, n);
            refused.push(ip);
            pausedUntil = now + 1000;
          }
        }
      }
      pump();
    }, 250);

    void import('@ersatz/netlink')
      .then((nl) => {
        netlink = nl;
        if (stopped) return;
        // What the table holds already answers without a datagram; then every change of a pending target's entry.
        held = new Map(nl.neighbours({ ifname: info.ifname }).filter((e) => e.mac !== null && HELD.has(e.state)).map((e) => [e.ip, e]));
        subscriber.add(
          nl.neighbours$({ ifname: info.ifname }).subscribe({
            next: ({ entry: e }) => {
              if (!pending.has(e.ip) || (e.state !== 'failed' && (e.mac === null || !HELD.has(e.state)))) return;
              pending.delete(e.ip);
              if (e.state !== 'failed') found(e);
              pump();
            },
            error: (err: unknown) => subscriber.error(err),
          }),
        );
        pump();
      })
      .catch((err: unknown) => subscriber.error(err));

    return () => {
      stopped = true;
      clearInterval(expiry);
      socket.close();
    };
  });
}

/** Half the kernel's gc_thresh2 (the table size past which it collects entries younger than 5 s): 256 by default. */
function defaultWindow(): number {
  try {
    return Math.floor(Number(readFileSync('/proc/sys/net/ipv4/neigh/default/gc_thresh2', 'utf8')) / 2) || 256;
  } catch {
    return 256;
  }
}
