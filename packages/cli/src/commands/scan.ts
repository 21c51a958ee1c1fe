import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { Cidr, Ipv4, parseTargets, TargetSet, type Mac } from '@ersatz/wire';
import { discoverInterface, type InterfaceInfo } from '@ersatz/api';
import { checkSender } from '@ersatz/resolve';
import { VendorFile, VendorFileError } from '@ersatz/vendor';
import { vendorLookup } from '../vendor-names.js';
import { intOption, ipArgument, isIpv6Text, numberOption, parseSpec } from '../options.js';
import type { CommandSpec, Options } from '../spec.js';
import { Exit, UsageError, type ExitCode } from '../exit.js';
import { openSession, type Session } from '../session.js';
import { tuneJitForSweep } from '../jit.js';
import { SweepOutput } from './scan-sweep.js';
import { compileFormat } from '../format.js';
import { interruption } from '../interrupt.js';
import { warn } from '../warn.js';
import { fallsBackToKernel, kernelForWantOfRaw, privileges, PRIVILEGE_OPTIONS, tierOption, type Privileges } from '../privileges.js';

const OPTIONS = {
  interface: {
    type: 'string',
    short: 'I',
    multiple: true,
    arg: 'IF',
    complete: 'interface',
    help:
      'send on IF (default: the interface whose subnet holds the targets); several -I sweep each in turn (with --localnet, ' +
      'each its own networks), every result line ending with the interface',
  },
  file: {
    type: 'string',
    short: 'f',
    arg: 'F',
    complete: 'file',
    help: 'read targets from F (one or more per line, # comments; - for stdin), with or instead of the arguments',
  },
  localnet: {
    type: 'boolean',
    short: 'l',
    default: false,
    help: "the targets are the interface's own IPv4 networks (with --interface IF, IF's; else the default route's interface), as arp-scan's -l; Linux",
  },
  rate: { type: 'string', arg: 'PPS', help: 'requests per second' },
  interval: { type: 'string', short: 'i', arg: 'T', help: "time between requests, as arp-scan's -i: milliseconds, or microseconds with a u suffix (1u)" },
  bandwidth: { type: 'string', short: 'B', arg: 'BPS', help: 'outgoing bits per second, K/M/G suffixes allowed (default 256000, as arp-scan: 500 requests/s)' },
  tries: { type: 'string', short: 'r', arg: 'N', help: 'requests per host at most (default 2); --retry N is the same, as in arp-scan' },
  retry: { type: 'string' },
  timeout: { type: 'string', short: 't', arg: 'MS', help: "wait for a host's first reply MS before asking again (default 500)" },
  backoff: { type: 'string', arg: 'F', help: 'each later wait is the previous one times F (default 1.5)' },
  settle: {
    type: 'string',
    arg: 'MS',
    help: 'once every host has answered or given up, listen MS more (default 10), so that a second MAC answering for the last host still shows as DUP; 0 ends at once',
  },
  random: { type: 'boolean', default: false, help: 'visit the targets in random order; --seed N makes the order repeatable' },
  seed: { type: 'string' },
  arpspa: {
    type: 'string',
    short: 's',
    arg: 'ADDR',
    help:
      "the requests' sender address (arp-scan's -s): one of the interface's, or 0.0.0.0 (a probe); any other would teach every " +
      "neighbour that ADDR lives at our MAC, and is refused. Default: for targets in one of the interface's subnets, our " +
      'address there; for the rest, the one the route picks',
  },
  'spoof-sender': { type: 'boolean', default: false, help: "send --arpspa even when it is not the interface's (a lab of your own only)" },
  vlan: {
    type: 'string',
    short: 'Q',
    arg: 'VID',
    help:
      "tag every request with 802.1Q VLAN VID (0..4095) and take only answers tagged VID (arp-scan's -Q), for a VLAN on a trunk port " +
      'with no VLAN interface here; give --interface IF and, since the targets are on no subnet of IF, usually --arpspa',
  },
  limit: { type: 'string', short: 'M', arg: 'N', help: "stop once N hosts have answered (arp-scan's -M); exit 1 when fewer did" },
  ouifile: {
    type: 'string',
    short: 'O',
    arg: 'FILE',
    complete: 'file',
    help:
      "vendor names from FILE first, in arp-scan's format (PREFIX<tab>Name, 2 to 12 hex digits, \":-.\" ignored, longest prefix wins; " +
      'its ieee-oui.txt and mac-vendor.txt are such files), then the IEEE registry; default $ERSATZ_OUI_FILE when set',
  },
  quiet: { type: 'boolean', short: 'q', default: false, help: "IP and MAC only (arp-scan's -q: no vendor, no RTT, no DUP mark)" },
  plain: { type: 'boolean', short: 'x', default: false, help: "only the hosts: no header and summary lines (arp-scan's -x)" },
  ignoredups: { type: 'boolean', short: 'g', default: false, help: "leave out the DUP lines (arp-scan's -g)" },
  format: {
    type: 'string',
    short: 'F',
    arg: 'FMT',
    help:
      "each host as FMT, arp-scan's template: ${field} or ${field;width} (negative: left-aligned) for ip, mac, hdrmac, vendor, vlan, " +
      'dup, rtt (framing, proto: empty, as arp-scan prints them for Ethernet II and IPv4); \\n, \\t, \\r, and \\ before any other ' +
      'character to print it as is',
  },
  json: {
    type: 'boolean',
    default: false,
    help:
      'print JSON Lines: {"type":"host","ip","mac","vendor","rttMs","dup","interface"} per answer (with "ethSrc" when the ' +
      'frame came from another MAC, "vlan" when it was tagged), then ' +
      '{"type":"summary","summary":{...},"interface"} (one per interface)',
  },
  pcap: { type: 'string', arg: 'OUT', complete: 'file', help: 'write every frame sent and received to OUT, a pcap file tcpdump -r reads' },
  tier: {
    type: 'string',
    arg: 'TIER',
    complete: ['raw', 'kernel'],
    help:
      'raw (our own ARP frames; needs CAP_NET_RAW) or kernel (for any user: the kernel resolves each target, one datagram to ' +
      "its discard port, a few hundred at a time; no RTT, no pacing options). Default: raw, or kernel when CAP_NET_RAW is missing (Linux)",
  },
  ...PRIVILEGE_OPTIONS,
} as const satisfies Options;

/** The options that shape our own frames: meaningless in the kernel tier, which sends none. */
const RAW_ONLY = ['pcap', 'vlan', 'arpspa', 'rate', 'interval', 'bandwidth', 'tries', 'retry', 'timeout', 'backoff', 'settle', 'random', 'seed'] as const;

export const SPEC: CommandSpec<typeof OPTIONS> = {
  name: 'scan',
  usage: `ersatz scan CIDR|RANGE... | --file F | --localnet [--interface IF]...
                   [--rate PPS | --interval T | --bandwidth BPS] [--tries N] [--timeout MS] [--backoff F]
                   [--settle MS] [--random [--seed N]]
                   [-s ADDR] [-Q VLAN] [-M N] [-O FILE] [-q] [-x] [-g] [--json | -F FORMAT] [--pcap OUT]
ersatz scan ff02::1 | IPV6... | IPV6/LEN... --interface IF [--rate PPS] [--tries N] [--timeout MS] [-q] [--json]`,
  about: `Sweeps the targets with ARP requests the way arp-scan does, paced, retrying the hosts that have not answered, and
prints each host once, as soon as it answers, in arp-scan's tab-separated fields: IP, MAC, vendor (IEEE OUI
registry), then RTT=... ms (arp-scan's --rtt field, always shown here). Another MAC answering for a host already seen
is printed again, its vendor field marked (DUP: n): an address conflict, or a proxy.

Targets: a.b.c.d/N, a.b.c.d:netmask, start-end (inclusive) or single addresses, several separated by spaces or
commas. The network and broadcast addresses of the interface's own subnet (up to /30) are skipped, whatever
network was typed: on a /23, 192.0.2.0/24 includes 192.0.2.255. Targets on another interface's subnet get a warning.

IPv6 (a /64 cannot be swept): one echo request to all nodes (ff02::1), and a Neighbor Solicitation for each address
given (a list, or a prefix of /112 or longer), --tries times, then what the kernel's IPv6 neighbour table knows; each
responder once, by MAC, with every address it answered for (link-local and global; the table's apart), its vendor,
and (DUP) when another MAC claimed one of them.`,
  options: OPTIONS,
  notes: `A progress line is drawn on stderr while the results go to a terminal (never with --json or into a pipe). Ctrl-C
stops the sweep and prints the summary of what was found.
Exit codes: 0 at least one host answered (with --limit N: N did), 1 none did (fewer than N), 2 usage or environment error, 130 interrupted (SIGINT), 143 stopped by SIGTERM (both after the summary).`,
  positionals: true,
};

/** `ersatz scan ...`: an arp-scan style sweep. */
export async function run(argv: string[]): Promise<ExitCode> {
  const args = parseSpec(SPEC, argv);
  if (args === null) return Exit.OK;
  const { values, positionals } = args;
  const become = privileges('scan', values);
  const tier = tierOption('scan', values.tier, ['raw', 'kernel'] as const);
  if ([values.rate, values.interval, values.bandwidth].filter((v) => v !== undefined).length > 1) {
    throw new UsageError(`scan: --rate, --interval and --bandwidth each set the pace: give one`);
  }
  const ratePps = values.interval !== undefined ? 1e6 / intervalUs(values.interval) : values.rate === undefined ? undefined : numberOption('scan', 'rate', values.rate, 0.001, 10_000_000, 0);
  const bandwidthBps = values.bandwidth === undefined ? undefined : bandwidth(values.bandwidth);
  if (values.tries !== undefined && values.retry !== undefined) throw new UsageError(`scan: --tries and --retry are one option: give one`);
  const tries = intOption('scan', 'tries', values.tries ?? values.retry, 1, 100, 2);
  const timeoutMs = intOption('scan', 'timeout', values.timeout, 1, 600_000, 500);
  const backoff = numberOption('scan', 'backoff', values.backoff, 0.01, 100, 1.5);
  const settleMs = intOption('scan', 'settle', values.settle, 0, 60_000, 10);
  if (values.seed !== undefined && !values.random) throw new UsageError(`scan: --seed orders a --random sweep: add --random`);
  const seed = values.seed === undefined ? undefined : intOption('scan', 'seed', values.seed, 0, 0xffff_ffff, 0);
  const limit = values.limit === undefined ? undefined : intOption('scan', 'limit', values.limit, 1, 2 ** 32, 1);
  const vlan = values.vlan === undefined ? undefined : intOption('scan', 'vlan', values.vlan, 0, 4095, 0);
  if (values.format !== undefined && (values.json || values.quiet)) throw new UsageError(`scan: --format is an output form of its own: give it without --json and -q`);
  const format = values.format === undefined ? null : compileFormat(values.format);
  const ouiFile = values.ouifile ?? (process.env.ERSATZ_OUI_FILE || undefined);
  const ours = ouiFile === undefined ? null : await readVendorFile(ouiFile);
  if (positionals.some(isIpv6Text)) return scanIpv6(positionals, values, become, { tries, timeoutMs, vendorOf: vendorLookup('scan', ours) });
  if (values.localnet && (positionals.length > 0 || values.file !== undefined)) throw new UsageError(`scan: --localnet makes the targets: give no others`);
  let typed: TargetSet | undefined; // the targets typed or in --file, read once for every interface

  const ifnames: readonly (string | undefined)[] = values.interface ?? [undefined];
  if (new Set(ifnames).size < ifnames.length) throw new UsageError(`scan: an interface named twice: give each -I once`);
  if (ifnames.length > 1 && values.pcap !== undefined) throw new UsageError(`scan: --pcap records one interface: give one -I, or run once per interface`);
  // Each interface's targets and link, all checked before anything is sent (arp-scan takes one -I; several run one
  // sweep after another here, each under its own header, with the interface named in every result).
  const plans: { info: InterfaceInfo; sweeps: { targets: TargetSet; source: Ipv4 | undefined }[] }[] = [];
  for (const ifname of ifnames) {
    const local = values.localnet ? await localNetworks(ifname) : null;
    const asked = local?.targets ?? (typed ??= await readTargets(positionals, values.file));
    // A sender given with -s (0.0.0.0 probes on a trunk, say) needs no address of ours on the interface.
    const info = await scanInterface(asked, local?.ifname ?? ifname, values.arpspa !== undefined);
    // Refused here, before the pipeline opens (and again by scan$): nothing is sent for a foreign sender address.
    const source = values.arpspa === undefined ? undefined : checkSender('scan', info, ipArgument('scan', 'source (-s)', values.arpspa), { allowUnspecified: true, spoofSender: values['spoof-sender'] });
    // Without -s, targets in another of the interface's subnets are a sweep of their own, from our address there.
    const [first, ...others] = source === undefined ? await bySubnet(asked, info) : [{ targets: asked, source }];
    const targets = hostsOnLink(first!.targets, info);
    await warnOtherSubnets(targets, info);
    // A sweep with nothing left to ask is left out, unless it is the only one (its header says 0 hosts).
    const sweeps = [{ targets, source: first!.source }, ...others].filter((w) => w.targets.size > 0);
    plans.push({ info, sweeps: sweeps.length > 0 ? sweeps : [{ targets, source: first!.source }] });
  }
  // The first workers boot while the vendor table loads.
  // Root goes once the last link is open: each later interface's sockets need it to open.
  const last = (i: number) => (i === plans.length - 1 ? { privileges: become } : {});
  // The kernel tier when asked, or (on Linux, with no option that shapes our own frames) for want of CAP_NET_RAW: known
  // beforehand from the process's capabilities, or learnt when the first link cannot open.
  const shaped = RAW_ONLY.filter((o) => values[o] !== undefined && values[o] !== false);
  if (tier === 'kernel' && shaped.length > 0) throw new UsageError(`scan: --${shaped[0]} shapes our own frames: the kernel tier sends none (leave it out, or --tier raw)`);
  let kernel = tier === 'kernel' || (shaped.length === 0 && kernelForWantOfRaw(tier));
  let opening = kernel ? null : openSession('scan', plans[0]!.info, { pcap: values.pcap, vlan, ...last(0) });
  opening?.catch(() => undefined); // awaited below
  // -q prints no vendor: the table is neither loaded nor asked (JSON always names the vendor).
  const vendor = values.quiet && !values.json ? () => null : vendorLookup('scan', ours);
  const interrupt = interruption();
  const output = new SweepOutput({ vendor, format, json: values.json, quiet: values.quiet, plain: values.plain, ignoredups: values.ignoredups, nameInterface: plans.length > 1 });
  try {
    let answered = 0;
    for (let i = 0; i < plans.length; i++) {
      const { info, sweeps } = plans[i]!;
      let session: Session | null = null;
      try {
        session = kernel ? null : await opening!;
        if (session !== null) tuneJitForSweep();
      } catch (err) {
        if (i > 0 || shaped.length > 0 || !fallsBackToKernel(err, tier)) throw err;
        kernel = true; // no CAP_NET_RAW: every interface's sweep goes through the kernel
      }
      try {
        for (const { targets, source } of sweeps) {
          const left = limit === undefined ? undefined : limit - answered;
          if (session !== null) {
            const sweep = { ratePps, bandwidthBps, tries, timeoutMs, backoff, settleMs, random: values.random, seed, source, spoofSender: values['spoof-sender'] };
            answered += await output.sweep(session.link, targets, sweep, left, interrupt);
          } else answered += await output.sweepKernel(info, targets, left, interrupt);
          if (interrupt.fired || (limit !== undefined && answered >= limit)) break;
        }
      } finally {
        await session?.close();
      }
      if (interrupt.fired) return interrupt.code;
      if (limit !== undefined && answered >= limit) break;
      if (i + 1 < plans.length && !kernel) opening = openSession('scan', plans[i + 1]!.info, { vlan, ...last(i + 1) });
    }
    return answered >= (limit ?? 1) ? Exit.OK : Exit.NO_REPLY;
  } finally {
    output.close();
    interrupt.dispose();
  }
}

/** `--interval`: arp-scan's -i, milliseconds or, with a `u` suffix, microseconds; returned in µs. Throws UsageError. */
function intervalUs(text: string): number {
  const us = suffixed(text, { '': 1000, u: 1 });
  // 0.1 µs to 1000 s: --rate's range (10 million to 0.001 requests/s).
  if (!(us >= 0.1 && us <= 1e9)) throw new UsageError(`scan: --interval takes milliseconds like 2, or microseconds like 500u, not ${JSON.stringify(text)}`);
  return us;
}

/** `--bandwidth`: bits per second, with arp-scan's K and M suffixes (and G). Throws UsageError. */
function bandwidth(text: string): number {
  const bps = suffixed(text, { '': 1, k: 1e3, m: 1e6, g: 1e9 });
  if (!(bps >= 1 && bps <= 1e11)) throw new UsageError(`scan: --bandwidth takes bits per second like 256000, 512K or 10M, not ${JSON.stringify(text)}`);
  return bps;
}

/** A number with an optional one-letter unit suffix (any case) from `units`, scaled by it; NaN when it is not one. */
function suffixed(text: string, units: Readonly<Record<string, number>>): number {
  const m = /^(\d+(?:\.\d+)?)([a-z]?)$/i.exec(text.trim());
  const scale = m === null ? undefined : units[m[2]!.toLowerCase()];
  return scale === undefined ? NaN : Number(m![1]) * scale;
}

/** The positional target specs plus those in `file` (`-`: stdin), as one set. Throws UsageError, AddressParseError. */
async function readTargets(specs: readonly string[], file: string | undefined): Promise<TargetSet> {
  const parts = [...specs];
  if (file !== undefined) {
    let content: string;
    try {
      content = file === '-' ? await text(process.stdin) : await readFile(file, 'utf8');
    } catch (err) {
      throw new UsageError(`scan: --file: cannot read ${JSON.stringify(file)}: ${(err as Error).message}`);
    }
    for (const line of content.split('\n')) parts.push(line.replace(/#.*/, ''));
  }
  const spec = parts.join(' ').trim();
  if (spec === '') {
    throw new UsageError(file === undefined ? `scan: no targets: give a network like 192.0.2.0/24, a range, or --file F` : `scan: --file ${JSON.stringify(file)} holds no targets`);
  }
  return parseTargets(spec, { wholeNetworks: true });
}

/**
 * arp-scan's --localnet: every IPv4 network on `ifname`, or on the default route's interface when none is named, as
 * whole networks (the network and broadcast addresses are dropped later, as for typed targets). Linux only (the
 * addresses come from rtnetlink). Throws UsageError, and the netlink errors (an unknown interface).
 */
async function localNetworks(ifname: string | undefined): Promise<{ targets: TargetSet; ifname: string }> {
  if (process.platform !== 'linux') throw new UsageError(`scan: --localnet reads the interface's networks through rtnetlink, on Linux only: give the networks to sweep`);
  const nl = await import('@ersatz/netlink');
  let lk: ReturnType<typeof nl.link>;
  try {
    lk = nl.link(ifname ?? nl.defaultRoute().ifindex);
  } catch (err) {
    if ((err as Error).name !== 'NoDefaultRouteError') throw err;
    throw new UsageError(`scan: --localnet takes the default route's interface, and there is no default route: name one with --interface IF`);
  }
  // A /32 of our own holds nothing to ask (a /32 peer holds the peer).
  const nets = nl.addresses(lk.index).filter((a) => a.peer !== undefined || a.prefixLen < 32).map(nl.linkPrefix);
  if (nets.length === 0) throw new UsageError(`scan: --localnet: ${lk.name} has no IPv4 network to sweep: give the targets`);
  return { targets: new TargetSet(nets.map((n) => ({ first: n.network, last: n.broadcast }))), ifname: lk.name };
}

/**
 * The targets split by the interface's other subnets (a second address on it: Linux, rtnetlink): those inside one
 * are asked from our address there, as the kernel would ask them (a host that answers only its own subnet,
 * arp_ignore=2, answers nothing else), less that subnet's network and broadcast addresses (up to /30); the rest,
 * `source` undefined, from the interface's chosen address.
 */
async function bySubnet(targets: TargetSet, info: InterfaceInfo): Promise<{ targets: TargetSet; source: Ipv4 | undefined }[]> {
  if (process.platform !== 'linux' || info.ip === Ipv4.UNSPECIFIED) return [{ targets, source: undefined }];
  const nl = await import('@ersatz/netlink');
  const own = info.prefixLen > 30 ? null : Cidr.of(info.ip, info.prefixLen);
  const groups: { targets: TargetSet; source: Ipv4 | undefined }[] = [];
  let rest = targets;
  for (const a of nl.addresses(info.ifindex)) {
    if (a.prefixLen > 30 || a.address === info.ip) continue;
    const net = nl.linkPrefix(a);
    if (own !== null && own.network === net.network && own.prefix === net.prefix) continue;
    const range = { first: net.network, last: net.broadcast };
    const inside = rest.within(range);
    if (inside.size === 0) continue;
    groups.push({ targets: inside.without([net.network, net.broadcast]), source: a.address });
    rest = rest.withoutRange(range);
  }
  return [{ targets: rest, source: undefined }, ...groups];
}

/**
 * The targets less the network and broadcast addresses of the interface's own subnet (up to /30), which no host
 * has. They come from the link's prefix, not the typed one: on a /23, `scan X.Y.1.0/24` probes X.Y.1.0 and X.Y.1.255.
 */
function hostsOnLink(targets: TargetSet, info: InterfaceInfo): TargetSet {
  if (info.prefixLen > 30 || info.ip === Ipv4.UNSPECIFIED) return targets;
  const subnet = Cidr.of(info.ip, info.prefixLen);
  return targets.without([subnet.network, subnet.broadcast]);
}

/**
 * Warns about targets on another interface's subnet: they are swept on `info`'s link anyway, where a multi-homed
 * host may answer for them through ARP flux. Linux only (the other interfaces' addresses come from rtnetlink).
 */
async function warnOtherSubnets(targets: TargetSet, info: InterfaceInfo): Promise<void> {
  if (process.platform !== 'linux') return;
  const nl = await import('@ersatz/netlink');
  for (const a of nl.addresses()) {
    if (a.ifindex === info.ifindex) continue;
    const net = nl.linkPrefix(a);
    if (!targets.ranges.some((r) => r.first <= net.broadcast && r.last >= net.network)) continue;
    const ifname = nl.link(a.ifindex).name;
    warn(`scan: targets in ${Ipv4.format(net.network)}/${a.prefixLen} belong to ${ifname}'s subnet but are swept on ${info.ifname}, where answers may come through ARP flux: scan them with --interface ${ifname}`);
  }
}

// Our own address is usually the first host of our subnet; the next ones are not.
const DISCOVERY_CANDIDATES = 4;

/**
 * The interface to sweep on: `ifname`, or the one whose subnet holds the targets (the route to the first host that
 * is not one of our own addresses; without a route on a link, an interface whose address's subnet holds it).
 * `unaddressed`: the interface may hold no IPv4 address (its `ip` is then 0.0.0.0). Throws UsageError when the route
 * goes through a gateway (ARP reaches only the local link) and no interface was named, and the discovery errors.
 */
async function scanInterface(targets: TargetSet, ifname: string | undefined, unaddressed: boolean): Promise<InterfaceInfo> {
  let lastErr: unknown;
  for (let i = 0; i < Math.min(targets.size, DISCOVERY_CANDIDATES); i++) {
    const target = targets.at(i);
    let info: InterfaceInfo | undefined;
    try {
      info = await discoverInterface({ ifname, target, unaddressed });
    } catch (err) {
      const e = err as { name?: string; reason?: string };
      // Our own address, or the subnet's network or broadcast address (whole networks are read in): try the next.
      if (e.name === 'UnresolvableTargetError' && (e.reason === 'local' || e.reason === 'broadcast')) {
        lastErr = err;
        continue;
      }
      if (e.name !== 'NoRouteError' || ifname !== undefined) throw err;
      lastErr = err;
    }
    if (info !== undefined && (ifname !== undefined || info.gateway === null)) return info;
    // Without -I, and no route on a link: an interface's subnet may hold the target all the same (an address added
    // with noprefixroute), and the sweep goes there.
    const holder = await subnetHolder(target);
    if (holder !== undefined) return discoverInterface({ ifname: holder, target, unaddressed });
    if (info === undefined) throw lastErr;
    throw new UsageError(
      `scan: ${Ipv4.format(target)} is not on a directly connected subnet (the route goes through ${Ipv4.format(info.gateway!)} on ${info.ifname}): ` +
        `ARP reaches only the local link; pass --interface IF to sweep on IF anyway`,
    );
  }
  throw lastErr;
}

/** The interface one of whose addresses' subnets holds `ip` (Linux: rtnetlink), if one does. */
async function subnetHolder(ip: Ipv4): Promise<string | undefined> {
  if (process.platform !== 'linux') return undefined;
  const nl = await import('@ersatz/netlink');
  // (A /32 of our own holds only itself, which discovery has already told apart as ours.)
  const a = nl.addresses().find((x) => nl.linkPrefix(x).contains(ip));
  return a === undefined ? undefined : nl.link(a.ifindex).name;
}

/** IPv6 targets (scan6.ts), with the options both families share as run() read them; the IPv4-only ones refused. */
async function scanIpv6(
  positionals: string[],
  values: NonNullable<ReturnType<typeof parseSpec<typeof OPTIONS>>>['values'],
  become: Privileges,
  shared: { tries: number; timeoutMs: number; vendorOf: (mac: Mac) => string | null },
): Promise<ExitCode> {
  const used = (['localnet', 'file', 'arpspa', 'vlan', 'tier', 'random', 'pcap', 'format', 'bandwidth', 'interval', 'limit'] as const).filter((k) => values[k] !== undefined && values[k] !== false);
  if (used.length > 0) throw new UsageError(`scan: --${used[0]} is for IPv4 (ARP) sweeps; an IPv6 scan takes -I, --rate, --tries, --timeout, --json, -q`);
  if (positionals.some((p) => !isIpv6Text(p))) throw new UsageError('scan: IPv4 and IPv6 targets in one run: scan each family on its own');
  if ((values.interface?.length ?? 0) > 1) throw new UsageError('scan: an IPv6 scan takes one -I');
  const { scan6 } = await import('./scan6.js');
  // Its own pace bound: one NS per address, paced by the transmit worker (default 1000/s).
  const ratePps = values.rate === undefined ? 1000 : numberOption('scan', 'rate', values.rate, 0.001, 1_000_000, 0);
  return scan6(positionals, { ifname: values.interface?.[0], json: values.json, quiet: values.quiet, ratePps, ...shared }, become);
}

/** --ouifile / ERSATZ_OUI_FILE. Throws VendorFileError (exit 2) when it cannot be read or has a bad line. */
async function readVendorFile(file: string): Promise<VendorFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new VendorFileError(file, 0, `cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return VendorFile.parse(text, file);
}
