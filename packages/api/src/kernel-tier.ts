// The tiers below raw frames, for a process without CAP_NET_RAW (Linux): the kernel resolves an address for any user
// who sends it a datagram, and its neighbour table (RTM_GETNEIGH, the RTNLGRP_NEIGH events) is readable by anyone.
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { filter, map, merge, take, timer } from 'rxjs';
import { Ipv4, printable, type Mac } from '@ersatz/wire';
import type { NeighState } from '@ersatz/netlink';
import type { InterfaceInfo } from './host.js';

/**
 * How an address is resolved: `raw` sends our own ARP frames (CAP_NET_RAW), `kernel` has the kernel resolve it (no
 * privilege), `cache` reports what the kernel's table already holds.
 */
export type Tier = 'raw' | 'kernel' | 'cache';

/** The kernel's answer for an address. */
export interface NeighbourAnswer {
  readonly tier: 'kernel' | 'cache';
  /** The address asked (the next hop: the target itself on the link, else the gateway). */
  readonly ip: Ipv4;
  readonly mac: Mac;
  readonly ifname: string;
  /** The entry's state when answered (`reachable` after a fresh resolution; `stale` and others from the table). */
  readonly state: NeighState;
  /** Milliseconds since the entry last changed (state or MAC), when the kernel said. */
  readonly ageMs?: number;
}

/** States in which the kernel's entry holds a MAC it uses. */
export const HELD: ReadonlySet<NeighState> = new Set(['reachable', 'stale', 'delay', 'probe', 'permanent', 'noarp']);
// The discard service (RFC 863): a datagram for no one, sent only so that the kernel resolves the address.
export const DISCARD_PORT = 9;

/**
 * The kernel's resolution of `info.target` on `info.ifname`. `cache`: the table's entry as it is. `kernel`: an entry
 * that holds a MAC answers at once; otherwise one datagram to the discard port makes the kernel ask (its own
 * `mcast_solicit` requests, `retrans_time_ms` apart), and the entry's next change answers: REACHABLE with the MAC, or
 * FAILED. Resolves with the answer, or null (no entry; FAILED; nothing within the kernel's retry time). Rejects with
 * `signal.reason` when `signal` aborts first. Linux only.
 */
export async function kernelResolve(info: InterfaceInfo, options: { readonly tier?: 'kernel' | 'cache'; readonly signal?: AbortSignal } = {}): Promise<NeighbourAnswer | null> {
  const { tier = 'kernel', signal } = options;
  signal?.throwIfAborted();
  const nl = await import('@ersatz/netlink');
  const answer = (mac: Mac, state: NeighState, ageMs?: number): NeighbourAnswer =>
    printable({ tier, ip: info.target, mac, ifname: info.ifname, state, ...(ageMs !== undefined && { ageMs }) });
  const held = nl.neighbour({ ifname: info.ifname, ip: info.target });
  if (held !== null && held.mac !== null && (tier === 'cache' || HELD.has(held.state))) return answer(held.mac, held.state, held.ageMs);
  if (tier === 'cache') return null;
  // Listening before the datagram leaves: the entry's changes cannot be missed.
  const changes$ = nl.neighbours$({ ifname: info.ifname }).pipe(
    map((e) => e.entry),
    filter((e) => e.ip === info.target && (e.state === 'failed' || (e.mac !== null && HELD.has(e.state)))),
  );
  const settled$ = merge(
    changes$.pipe(map((e) => (e.state === 'failed' ? null : answer(e.mac!, e.state)))),
    timer(answerDeadlineMs(info.ifname)).pipe(map(() => null)),
  ).pipe(take(1));
  const socket = discardSocket();
  return new Promise<NeighbourAnswer | null>((resolve, reject) => {
    const onAbort = (): void => {
      sub.unsubscribe();
      reject(signal!.reason);
    };
    const sub = settled$.subscribe({ next: resolve, error: reject });
    signal?.addEventListener('abort', onAbort, { once: true });
    sub.add(() => signal?.removeEventListener('abort', onAbort));
    socket.send(new Uint8Array(0), DISCARD_PORT, Ipv4.format(info.target), (err) => {
      if (err === null || err === undefined) return;
      sub.unsubscribe();
      reject(err);
    });
  }).finally(() => socket.close());
}

/**
 * How long to wait for an entry's answer on `ifname`: the kernel's own retry time (`mcast_solicit` ×
 * `retrans_time_ms`) and a second to spare, so that its FAILED comes first.
 */
export function answerDeadlineMs(ifname: string): number {
  const read = (name: string, fallback: number): number => {
    try {
      return Number(readFileSync(`/proc/sys/net/ipv4/neigh/${ifname}/${name}`, 'utf8')) || fallback;
    } catch {
      return fallback;
    }
  };
  return read('mcast_solicit', 3) * read('retrans_time_ms', 1000) + 1000;
}

/** A UDP socket for datagrams to the discard port, whose errors are ignored: an ICMP error about one says nothing about the neighbour. */
export function discardSocket(): Socket {
  const socket = createSocket('udp4');
  socket.on('error', () => undefined);
  return socket;
}
