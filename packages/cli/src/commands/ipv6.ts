// The IPv6 side of `resolve` and `arping` (issue #17): Neighbor Discovery instead of ARP, chosen by the address the
// user gives. Which interface and which of our addresses: the zone (fe80::1%eth0) or -I, else the interface whose
// prefix holds the target, else the IPv6 default route's (then the router is what is resolved, as for IPv4).
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { firstValueFrom, takeUntil } from 'rxjs';
import { Ipv4, Ipv6, parseScopedIpv6 } from '@ersatz/wire';
import { injectNeighbour, openLink, type InterfaceInfo, type Link } from '@ersatz/api';
import { Cap } from '@ersatz/os/caps';
import { CONFLICT_CAUSES, dad$, solicit$, unsolicitedAdvertisement } from '@ersatz/resolve';
import { Exit, UsageError, type ExitCode } from '../exit.js';
import { interruption } from '../interrupt.js';
import { giveUpRoot, rawOnly, type Privileges } from '../privileges.js';
import { warn } from '../warn.js';
import { traceStats } from '../verbose.js';

interface Route6 {
  /** The interface, with ARP's InterfaceInfo shape (no IPv4 needed). */
  readonly info: InterfaceInfo;
  /** The address asked about, its zone taken off. */
  readonly target: Ipv6;
  /** Our address to send from. */
  readonly source: Ipv6;
  /** What is resolved: the target, or the router for an off-link one. */
  readonly nextHop: Ipv6;
}

/** Our IPv6 addresses per interface, with their prefix lengths (Node's getifaddrs). */
export function ownAddresses(): Map<string, { ip: Ipv6; prefixLen: number }[]> {
  const out = new Map<string, { ip: Ipv6; prefixLen: number }[]>();
  for (const [name, list] of Object.entries(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family !== 'IPv6' || a.internal) continue;
      const prefixLen = Number(a.cidr?.split('/')[1] ?? 128);
      (out.get(name) ?? out.set(name, []).get(name)!).push({ ip: Ipv6.parse(a.address.split('%')[0]!), prefixLen });
    }
  }
  return out;
}

/**
 * Our address to ask about `target` from: one in its prefix (RFC 4861 §7.2.2; not for a link-local target), else our
 * link-local one; undefined when the interface has neither.
 */
export function sourceAddress(mine: readonly { ip: Ipv6; prefixLen: number }[], target: Ipv6): Ipv6 | undefined {
  const inPrefix = Ipv6.isLinkLocal(target) ? undefined : mine.find((a) => !Ipv6.isLinkLocal(a.ip) && Ipv6.samePrefix(a.ip, target, a.prefixLen));
  return (inPrefix ?? mine.find((a) => Ipv6.isLinkLocal(a.ip)))?.ip;
}

/** The IPv6 default route from /proc/net/ipv6_route (the main table's ::/0 with the lowest metric): router and interface. */
function defaultRoute6(): { gateway: Ipv6; ifname: string } | null {
  let text: string;
  try {
    text = readFileSync('/proc/net/ipv6_route', 'utf8');
  } catch {
    return null;
  }
  let best: { gateway: Ipv6; ifname: string; metric: number } | null = null;
  for (const line of text.trim().split('\n')) {
    // dest prefixlen src srcprefixlen nexthop metric refcnt use flags ifname; RTF_GATEWAY is 0x2
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[0] !== '0'.repeat(32) || f[1] !== '00' || (parseInt(f[8]!, 16) & 0x2) === 0) continue;
    const metric = parseInt(f[5]!, 16);
    const gateway = Ipv6.fromBytes(Buffer.from(f[4]!, 'hex'));
    if (best === null || metric < best.metric) best = { gateway, ifname: f[9]!, metric };
  }
  return best;
}

/** Where to ask about `text` (an IPv6 address, perhaps with a zone). Throws UsageError saying what to give. */
export async function route6(command: string, text: string, ifname: string | undefined): Promise<Route6> {
  if (process.platform !== 'linux') throw new UsageError(`${command}: IPv6 (Neighbor Discovery) is Linux-only so far`);
  const { ip, zone } = parseScopedIpv6(text);
  if (zone !== null && ifname !== undefined && zone !== ifname) throw new UsageError(`${command}: ${text} names ${zone}, but -I says ${ifname}: give one`);
  const own = ownAddresses();
  let dev = zone ?? ifname;
  let nextHop = ip;
  if (Ipv6.isLinkLocal(ip)) {
    if (dev === undefined) throw new UsageError(`${command}: a link-local address is on every link: name one, as ${ip}%eth0 or -I eth0`);
  } else {
    const onLink = [...own].find(([name, list]) => (dev === undefined || name === dev) && list.some((a) => !Ipv6.isLinkLocal(a.ip) && Ipv6.samePrefix(a.ip, ip, a.prefixLen)));
    if (onLink !== undefined) dev = onLink[0];
    else {
      const route = defaultRoute6();
      if (route === null || (dev !== undefined && route.ifname !== dev)) throw new UsageError(`${command}: ${ip} is not on a link of this host${dev === undefined ? '' : ` (${dev})`} and there is no IPv6 default route${dev === undefined ? '' : ` through ${dev}`} to reach it: check 'ip -6 route'`);
      dev = route.ifname;
      nextHop = route.gateway;
    }
  }
  const source = sourceAddress(own.get(dev!) ?? [], nextHop);
  if (source === undefined) throw new UsageError(`${command}: ${dev} has no IPv6 address to ask from (not even a link-local one): is IPv6 enabled on it?`);
  return { info: await linkInfo(dev!), target: ip, source, nextHop };
}

/** The interface as openLink takes it, without IPv4 (ND needs none). */
export async function linkInfo(ifname: string): Promise<InterfaceInfo> {
  const nl = await import('@ersatz/netlink');
  const lk = nl.checkArpCapable(nl.link(ifname));
  return { ifname: lk.name, ifindex: lk.index, mac: lk.mac!, ip: Ipv4.UNSPECIFIED, prefixLen: 0, addresses: [], gateway: null, target: Ipv4.UNSPECIFIED };
}

/** A link for ND (capturing ICMPv6, without a ring: see OpenLinkOptions.captureRing), after which root is given up. */
export async function openNdp(command: string, info: InterfaceInfo, become: Privileges, keep: readonly number[] = []): Promise<Link> {
  const link = await openLink(info, { ndp: true, captureBufferBytes: 1 << 20, captureRing: false }).catch((err: unknown) => Promise.reject(rawOnly(command, err)));
  await giveUpRoot(command, become, keep);
  return link;
}

export interface Resolve6Options {
  readonly ifname: string | undefined;
  readonly tries: number;
  readonly intervalMs: number;
  readonly settleMs: number;
  readonly first: boolean;
  readonly json: boolean;
  /** Store the answer as a PERMANENT entry (CAP_NET_ADMIN, kept alone after the sockets open). */
  readonly inject: boolean;
}

/** `ersatz resolve IPV6`: a Neighbor Solicitation and its advertisement. */
export async function resolve6(text: string, o: Resolve6Options, become: Privileges): Promise<ExitCode> {
  const { info, target, source, nextHop } = await route6('resolve', text, o.ifname);
  const link = await openNdp('resolve', info, become, o.inject ? [Cap.NET_ADMIN] : []);
  const interrupt = interruption();
  try {
    const answer$ = solicit$(link, nextHop, { source, tries: o.tries, intervalMs: o.intervalMs, settleMs: o.settleMs }).pipe(takeUntil(interrupt.stop$));
    const a = await firstValueFrom(answer$, { defaultValue: null });
    if (a === null) return interrupt.code;
    const rttMs = a.rttNs === null ? null : Number(a.rttNs) / 1e6;
    const via = nextHop === target ? undefined : nextHop;
    const contested = a.conflicts.length > 0;
    // A contested answer is not stored: the kernel would then send to whichever host it names.
    const stored = o.inject && (!contested || o.first);
    if (stored) await injectNeighbour({ ip: nextHop, mac: a.mac, ifname: info.ifname });
    if (o.json) {
      process.stdout.write(`${JSON.stringify({ ip: target, mac: a.mac, interface: info.ifname, rttMs, ...(via && { nextHop: via }), router: a.router, ...(contested && { conflicts: a.conflicts }), tier: 'raw' })}\n`);
    } else {
      process.stdout.write(`${target}${via ? ` via ${via}` : ''} is at ${a.mac} on ${info.ifname}${rttMs === null ? '' : ` (${rttMs.toFixed(3)} ms)`}${a.router ? ', a router' : ''}${stored ? ', stored in the kernel neighbour table' : ''}\n`);
    }
    if (contested) {
      warn(`address conflict: ${nextHop} advertised from ${[a.mac, ...a.conflicts].join(' and ')} within ${o.settleMs} ms: ${CONFLICT_CAUSES}${o.first ? '; took the first (--first)' : `; --first takes the first${o.inject ? '; not injected' : ''}`}`);
      if (!o.first) return Exit.NO_REPLY;
    }
    return Exit.OK;
  } finally {
    interrupt.dispose();
    await traceStats('resolve', link);
    await link.close();
  }
}

/**
 * `arping -D IPV6 -I IF` (RFC 4862 DAD: exit 0 free, 1 taken) and `arping -U IPV6 -I IF` (unsolicited advertisements of
 * an address of IF, `count` of them `intervalMs` apart: IPv6's gratuitous ARP; refused for an address not ours).
 */
export async function arping6(mode: 'dad' | 'unsolicited', text: string, o: { ifname: string | undefined; count: number; intervalMs: number; quiet: boolean; json: boolean }, become: Privileges): Promise<ExitCode> {
  const { ip, zone } = parseScopedIpv6(text);
  const ifname = zone ?? o.ifname;
  if (ifname === undefined) throw new UsageError(`arping: -${mode === 'dad' ? 'D' : 'U'} with an IPv6 address needs its interface: -I IF`);
  if (Ipv6.isMulticast(ip) || Ipv6.isUnspecified(ip)) throw new UsageError(`arping: ${ip} is not an address a host can hold: give a unicast address`);
  const mine = ownAddresses().get(ifname) ?? [];
  if (mode === 'unsolicited' && !mine.some((a) => a.ip === ip)) {
    throw new UsageError(`arping: -U announces one of ${ifname}'s own addresses, and ${ip} is not one of them: announcing another host's address would take its traffic (add it with 'ip -6 addr add ${ip}/64 dev ${ifname}' first)`);
  }
  const info = await linkInfo(ifname);
  const link = await openNdp('arping', info, become);
  const interrupt = interruption();
  const say = (line: string, json: object): void => {
    if (!o.quiet) process.stdout.write(`${o.json ? JSON.stringify(json) : line}\n`);
  };
  try {
    if (mode === 'dad') {
      const r = await firstValueFrom(dad$(link, ip, { transmits: o.count, retransMs: o.intervalMs }).pipe(takeUntil(interrupt.stop$)), { defaultValue: null });
      if (r === null) return interrupt.code;
      if (r.free) say(`${ip} is free on ${ifname}: no answer to ${r.sent} duplicate address detection probe${r.sent === 1 ? '' : 's'}`, { ip, interface: ifname, free: true, sent: r.sent });
      else say(`${ip} is taken on ${ifname}: ${r.how === 'advertisement' ? `advertised by ${r.mac}` : `${r.mac} is probing for it too`}`, { ip, interface: ifname, free: false, sent: r.sent, mac: r.mac, how: r.how });
      return r.free ? Exit.OK : Exit.NO_REPLY;
    }
    const frame = unsolicitedAdvertisement(link, ip);
    for (let n = 1; n <= o.count && !interrupt.fired; n++) {
      link.send(frame);
      say(`unsolicited advertisement ${n}: ${ip} is at ${link.mac} (override)`, { type: 'sent', n, ip, mac: link.mac });
      if (n < o.count) await sleep(o.intervalMs);
    }
    return interrupt.fired ? interrupt.code : Exit.OK;
  } finally {
    interrupt.dispose();
    await link.close();
  }
}
