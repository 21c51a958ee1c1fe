// `ersatz scan` of IPv6 (issue #17). A /64 cannot be swept, so, as ndisc6 and `ping ff02::1` users do: one echo
// request to all nodes (ff02::1; every host answers from its link-local address) and a Neighbor Solicitation for each
// address given (a list, or a prefix of /112 or longer), paced and asked twice; then what the kernel's IPv6 neighbour
// table knows of the interface. Each responder is printed once, by MAC, with every address it answered for (and those
// only the kernel's table names, apart), its vendor, and DUP when another MAC claimed one of them too.
import { randomInt } from 'node:crypto';
import { firstValueFrom, timer } from 'rxjs';
import { Ipv6, Mac, emitEcho6RequestFrame, parseScopedIpv6 } from '@ersatz/wire';
import { ndpFrame } from '@ersatz/resolve';
import { Exit, UsageError, type ExitCode } from '../exit.js';
import { interruption } from '../interrupt.js';
import { LineWriter } from '../line-writer.js';
import type { Privileges } from '../privileges.js';
import { linkInfo, openNdp, ownAddresses, sourceAddress } from './ipv6.js';

/** A prefix of /112 holds 65 536 addresses: as many as a /16 sweep asks. */
const LONGEST_SWEEP = 112;

/** Every address the targets name: addresses, `ADDR/LEN` prefixes (LEN ≥ 112), comma- or space-separated. ff02::1 adds none. */
export function ipv6Targets(words: readonly string[]): Ipv6[] {
  const out: Ipv6[] = [];
  for (const word of words.flatMap((w) => w.split(',')).filter((w) => w !== '')) {
    const [addr, len] = word.split('/') as [string, string | undefined];
    const ip = parseScopedIpv6(addr).ip;
    if (len === undefined) {
      if (ip !== Ipv6.ALL_NODES) out.push(ip);
      continue;
    }
    const bits = Number(len);
    if (!/^\d+$/.test(len) || bits > 128) throw new UsageError(`scan: ${word}: the prefix length must be 0..128`);
    if (bits < LONGEST_SWEEP) throw new UsageError(`scan: ${word} holds 2^${128 - bits} addresses: give /${LONGEST_SWEEP} or longer (a /64 cannot be swept; ff02::1 finds the hosts that answer pings)`);
    const base = BigInt(`0x${Buffer.from(Ipv6.toBytes(ip)).toString('hex')}`) & ~((1n << BigInt(128 - bits)) - 1n);
    for (let i = 0n; i < 1n << BigInt(128 - bits); i++) out.push(Ipv6.fromBytes(Buffer.from((base + i).toString(16).padStart(32, '0'), 'hex')));
  }
  return [...new Set(out)];
}

export interface Scan6Options {
  readonly ifname: string | undefined;
  readonly json: boolean;
  readonly quiet: boolean;
  readonly tries: number;
  readonly timeoutMs: number;
  readonly ratePps: number;
  readonly vendorOf: (mac: Mac) => string | null;
}

/** `ersatz scan IPV6... -I IF`. */
export async function scan6(words: readonly string[], o: Scan6Options, become: Privileges): Promise<ExitCode> {
  const zones = words.map((w) => parseScopedIpv6(w.split('/')[0]!.split(',')[0]!).zone).filter((z) => z !== null);
  const ifname = o.ifname ?? zones[0];
  if (ifname === undefined) throw new UsageError('scan: an IPv6 scan needs its interface: -I IF');
  const targets = ipv6Targets(words);
  const mine = ownAddresses().get(ifname) ?? [];
  const linkLocal = mine.find((a) => Ipv6.isLinkLocal(a.ip))?.ip;
  if (linkLocal === undefined) throw new UsageError(`scan: ${ifname} has no IPv6 link-local address to ask from: is IPv6 enabled on it?`);
  const link = await openNdp('scan', await linkInfo(ifname), become);
  const interrupt = interruption();
  const out = new LineWriter();
  const started = performance.now();
  const id = randomInt(0x10000);
  const asked = new Set(targets);
  /** MAC → the addresses it answered for, in arrival order. */
  const responders = new Map<Mac, Set<Ipv6>>();
  /** Address → the MACs that claimed it. */
  const claims = new Map<Ipv6, Set<Mac>>();
  const heard = (mac: Mac, ip: Ipv6): void => {
    (responders.get(mac) ?? responders.set(mac, new Set()).get(mac)!).add(ip);
    (claims.get(ip) ?? claims.set(ip, new Set()).get(ip)!).add(mac);
  };
  const listening = link.ndp$.subscribe((e) => {
    if (e.ethDst !== link.mac) return;
    if (e.type === 'echo-reply' && e.dst === linkLocal) heard(e.ethSrc, e.src);
    else if (e.type === 'na' && e.linkAddress !== null && asked.has(e.target)) heard(e.linkAddress, e.target);
  });
  try {
    if (!o.json && !o.quiet) out.line(`Interface: ${ifname}, MAC ${link.mac}, IPv6 ${linkLocal}; asking ff02::1 and ${targets.length} address${targets.length === 1 ? '' : 'es'}`);
    const echo = new Uint8Array(14 + 40 + 8);
    emitEcho6RequestFrame(echo, { ethDst: Ipv6.multicastMac(Ipv6.ALL_NODES), ethSrc: link.mac, src: linkLocal, dst: Ipv6.ALL_NODES, id, seq: 1 });
    link.send(echo);
    // Paced by the transmit worker (notBeforeNs); a second pass asks only those that have not answered.
    const gapNs = BigInt(Math.round(1e9 / o.ratePps));
    // sourceAddress falls back to our link-local address, which was checked above: never undefined here.
    for (let pass = 0; pass < (targets.length === 0 ? 0 : o.tries) && !interrupt.fired; pass++) {
      let at = process.hrtime.bigint();
      const pending = targets.filter((t) => !claims.has(t));
      for (const t of pending) {
        link.send(ndpFrame(link, sourceAddress(mine, t)!, Ipv6.solicitedNode(t), { type: 'ns', target: t, sourceLinkAddress: link.mac }), (at += gapNs));
      }
      const sendingMs = Number(at - process.hrtime.bigint()) / 1e6;
      await firstValueFrom(timer(Math.max(0, sendingMs) + o.timeoutMs));
    }
    if (targets.length === 0) await firstValueFrom(timer(o.timeoutMs));
    // What the kernel already knows (entries with a MAC), for addresses nobody answered for here.
    const kernel = new Map<Mac, Set<Ipv6>>();
    const { neighbours6 } = await import('@ersatz/netlink');
    for (const e of neighbours6({ ifname, states: ['reachable', 'stale', 'delay', 'probe', 'permanent'] })) {
      if (e.mac !== null && !claims.has(e.ip)) (kernel.get(e.mac) ?? kernel.set(e.mac, new Set()).get(e.mac)!).add(e.ip);
    }
    const order = (ips: Iterable<Ipv6>): Ipv6[] => [...ips].sort((a, b) => Number(Ipv6.isLinkLocal(b)) - Number(Ipv6.isLinkLocal(a)) || (a < b ? -1 : 1));
    for (const mac of new Set([...responders.keys(), ...kernel.keys()])) {
      const ips = responders.get(mac) ?? new Set<Ipv6>();
      const dup = [...ips].some((ip) => claims.get(ip)!.size > 1);
      const vendor = o.vendorOf(mac);
      const addresses = order(ips);
      const known = order(kernel.get(mac) ?? []);
      if (o.json) out.line(JSON.stringify({ type: 'host', mac, vendor, addresses, kernelOnly: known, dup, interface: ifname }));
      else if (!o.quiet) out.line(`${mac}\t${[...addresses, ...known.map((ip) => `${ip} (kernel's table)`)].join(', ')}\t${vendor ?? '(Unknown)'}${dup ? ' (DUP)' : ''}`);
    }
    const elapsedS = (performance.now() - started) / 1000;
    const addresses = [...claims.keys()].length;
    if (o.json) out.line(JSON.stringify({ type: 'summary', summary: { interface: ifname, asked: targets.length, responders: responders.size, addresses, kernelOnly: [...kernel.values()].reduce((n, ips) => n + ips.size, 0), elapsedMs: Math.round(elapsedS * 1000), interrupted: interrupt.fired } }));
    else if (!o.quiet) out.line(`\n${responders.size} responder${responders.size === 1 ? '' : 's'} with ${addresses} address${addresses === 1 ? '' : 'es'} in ${elapsedS.toFixed(3)} s`);
    return interrupt.fired ? interrupt.code : responders.size > 0 ? Exit.OK : Exit.NO_REPLY;
  } finally {
    out.flush();
    listening.unsubscribe();
    interrupt.dispose();
    await link.close();
  }
}
