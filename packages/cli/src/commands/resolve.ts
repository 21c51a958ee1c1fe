import { firstValueFrom, takeUntil } from 'rxjs';
import { Ipv4 } from '@ersatz/wire';
import { discoverInterface, injectNeighbour, kernelResolve, openLink, type InterfaceInfo, type Link } from '@ersatz/api';
import { CONFLICT_CAUSES, createResolver } from '@ersatz/resolve';
import { hostArgument, intOption, isIpv6Text, parseSpec } from '../options.js';
import type { CommandSpec, Options } from '../spec.js';
import { Exit, UsageError, type ExitCode } from '../exit.js';
import { interruption } from '../interrupt.js';
import { warn, warnIncidents } from '../warn.js';
import { mark, trace, traceOpen, traceStats, traceTimeline } from '../verbose.js';
import { fallsBackToKernel, giveUpRoot, kernelForWantOfRaw, privileges, PRIVILEGE_OPTIONS, tierOption } from '../privileges.js';
import { Cap } from '@ersatz/os/caps';

/** The CLI's settle window: see --settle in HELP. */
const SETTLE_MS = 10;
const ONE_SHOT_BUFFER_BYTES = 1 << 20;
const TIERS = ['raw', 'kernel', 'cache'] as const;

const OPTIONS = {
  target: {
    type: 'string',
    arg: 'IP',
    help: 'the IPv4 address to resolve, or a host name (system resolver, IPv4; default: the default gateway); an IPv6 address (fe80::1%IF for a link-local one) is resolved by Neighbor Discovery',
  },
  interface: { type: 'string', short: 'I', arg: 'IF', complete: 'interface', help: 'send on IF (default: the interface the route to the target uses)' },
  timeout: { type: 'string', arg: 'MS', help: "wait MS for each try's reply (default 1000)" },
  tries: { type: 'string', arg: 'N', help: 'ask up to N times (default 3)' },
  settle: {
    type: 'string',
    arg: 'MS',
    help:
      `after the first reply, listen MS more for other MACs claiming the IP (default ${SETTLE_MS}; 0: answer at once and detect no ` +
      `conflict). Replies of hosts on one LAN arrive well within a millisecond of each other, so ${SETTLE_MS} ms catches a duplicate ` +
      'address or a spoofer at little cost on a one-shot',
  },
  first: {
    type: 'boolean',
    short: 'f',
    default: false,
    help:
      'take the first answer even when other MACs claim the IP in the settle window: the warning still names them, but the exit code ' +
      'is 0 and --inject stores the first (one host answering from two NICs, Linux\'s default "ARP flux", is benign)',
  },
  'accept-source-mismatch': {
    type: 'boolean',
    default: false,
    help: 'believe a reply whose Ethernet source differs from its ARP sender MAC (a MAC-NAT wireless bridge or repeater rewrites the source; so can a spoofer)',
  },
  json: {
    type: 'boolean',
    default: false,
    help: 'print {"ip","mac","interface","rttMs","tier"} (and "nextHop" when it differs from ip, "conflicts" with the other MACs when several answered, "state" for the kernel and cache tiers, whose rttMs is null)',
  },
  inject: { type: 'boolean', default: false, help: "store the answer in the kernel's ARP cache as a PERMANENT entry (needs CAP_NET_ADMIN)" },
  tier: {
    type: 'string',
    arg: 'TIER',
    complete: TIERS,
    help:
      'how to ask: raw (our own ARP frames; needs CAP_NET_RAW), kernel (the kernel asks, for any user: one datagram to the ' +
      "discard port, then its neighbour entry's next change), cache (what its table holds now). Default: raw, or kernel " +
      'when CAP_NET_RAW is missing (Linux); the output names the tier, and for kernel and cache the entry\'s state',
  },
  ...PRIVILEGE_OPTIONS,
} as const satisfies Options;

export const SPEC: CommandSpec<typeof OPTIONS> = {
  name: 'resolve',
  usage: `ersatz [--target IP] [--interface IF] [--timeout MS] [--tries N] [--settle MS] [--first]
              [--accept-source-mismatch] [--json] [--inject] [--tier raw|kernel|cache]`,
  about: `Asks "who has IP?" with a real ARP request on the wire and prints the MAC from the matching reply.
Without --target it resolves the default gateway. A target off the local subnet resolves the next hop
(the gateway the kernel would use), as any host must.`,
  options: OPTIONS,
  notes: `Output: "IP is at MAC on IF (RTT ms)". RTT is measured between the capture timestamps of the request and the reply.
What answers: a reply from IP to our address and MAC (unicast or broadcast), or a request from IP naming our
address (RFC 826; Linux's reachability probes). Never: gratuitous ARP, frames addressed to another host, and
(without --accept-source-mismatch) frames whose Ethernet source differs from the ARP sender. A timeout says how
many frames from IP were ignored, and why. When several MACs answer, the first is printed, a warning line names
them all (arpwatch's "flip flop"), nothing is injected, and the exit code is 1 (0 with --first).
Exit codes: 0 resolved, 1 no reply after the last try or an address conflict, 2 usage or environment error (bad
argument, unknown interface, no default route, missing CAP_NET_RAW/CAP_NET_ADMIN, the interface went down or
away), 130 interrupted (SIGINT), 143 stopped by SIGTERM.`,
  positionals: true,
};

/** `ersatz [--target IP] ...`: resolve one IP (default: the default gateway) to its MAC. */
export async function run(argv: string[]): Promise<ExitCode> {
  const args = parseSpec(SPEC, argv);
  if (args === null) return Exit.OK;
  const { values, positionals } = args;
  const become = privileges('resolve', values);
  if (positionals.length > 1 || (positionals.length === 1 && values.target !== undefined)) {
    throw new UsageError(`resolve: unexpected argument ${JSON.stringify(positionals.at(-1))}: run 'ersatz --help'`);
  }
  // `ersatz resolve 192.0.2.1` reads as naturally as `ersatz --target 192.0.2.1`.
  const targetText = values.target ?? positionals[0];
  const tries = intOption('resolve', 'tries', values.tries, 1, 100, 3);
  const intervalMs = intOption('resolve', 'timeout', values.timeout, 1, 600_000, 1000);
  const settleMs = intOption('resolve', 'settle', values.settle, 0, 60_000, SETTLE_MS);
  if (isIpv6Text(targetText)) {
    for (const o of ['tier', 'accept-source-mismatch'] as const) {
      if (values[o] !== undefined && values[o] !== false) throw new UsageError(`resolve: --${o} is for IPv4 (ARP) so far, not for ${targetText}`);
    }
    const { resolve6 } = await import('./ipv6.js');
    return resolve6(targetText, { ifname: values.interface, tries, intervalMs, settleMs, first: values.first, json: values.json, inject: values.inject }, become);
  }
  const target = targetText === undefined ? undefined : (await hostArgument('resolve', 'target', targetText)).ip;

  const tier = tierOption('resolve', values.tier, TIERS);
  if (tier !== undefined && tier !== 'raw' && values.inject) {
    throw new UsageError(`resolve: --inject stores an answer of our own frames; --tier ${tier} answers from the kernel's table, where it is already`);
  }

  const info = await discoverInterface({ ifname: values.interface, target });
  mark('interface found');
  if (tier === 'kernel' || tier === 'cache') return askKernel(tier, info, target, values.json);
  if (!values.inject && kernelForWantOfRaw(tier)) {
    trace('resolve', () => 'no CAP_NET_RAW: asking the kernel');
    return askKernel('kernel', info, target, values.json);
  }
  // One query: a small capture buffer holds its replies many times over, and without a ring (whose set-up and
  // tear-down each wait out an RCU grace period in the kernel) the link opens and closes sooner (cold start).
  const startedMs = performance.now();
  let link: Link;
  try {
    link = await openLink(info, { captureBufferBytes: ONE_SHOT_BUFFER_BYTES, captureRing: false });
  } catch (err) {
    // No raw frames for this user: the kernel resolves for anyone (not for --inject, which needs privileges anyway).
    if (values.inject || !fallsBackToKernel(err, tier)) throw err;
    trace('resolve', () => `no CAP_NET_RAW (${(err as Error).message}): asking the kernel`);
    return askKernel('kernel', info, target, values.json);
  }
  mark('link open');
  traceOpen('resolve', info, performance.now() - startedMs);
  const incidents = warnIncidents(link);
  const interrupt = interruption();
  try {
    // The sockets are open; --inject still needs CAP_NET_ADMIN for its store at the end, and keeps only that.
    await giveUpRoot('resolve', become, values.inject ? [Cap.NET_ADMIN] : []);
    // Ctrl-C (or SIGTERM) ends the query (its timers and retransmissions with it) and still closes the workers below.
    const rules = { acceptSourceMismatch: values['accept-source-mismatch'] };
    const query$ = createResolver(link).query$(info.target, { tries, intervalMs, settleMs, ...rules }).pipe(takeUntil(interrupt.stop$));
    const result = await firstValueFrom(query$, { defaultValue: null });
    if (result === null) return interrupt.code;
    trace('resolve', () => `${result.tries} request(s), answer from ${result.reply?.ethSrc ?? '?'}${result.conflicts.length > 0 ? `, also claimed by ${result.conflicts.join(', ')}` : ''}`);
    const contested = result.conflicts.length > 0;
    const believed = !contested || values.first;
    // A contested answer is not believed enough to be stored: the kernel would then send to whichever host it names.
    if (values.inject && believed) await injectNeighbour({ ip: result.ip, mac: result.mac, ifname: info.ifname });
    const { ip, nextHop } = asked(target, info);
    const rttMs = result.rttNs === null ? null : Number(result.rttNs) / 1e6;
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({ ip, mac: result.mac, interface: info.ifname, rttMs, ...(nextHop && { nextHop }), ...(contested && { conflicts: result.conflicts }), tier: 'raw' })}\n`,
      );
    } else {
      const via = nextHop ? ` via ${nextHop}` : '';
      const rtt = rttMs === null ? '' : ` (${rttMs.toFixed(3)} ms)`;
      const stored = values.inject && believed ? ', stored in the kernel ARP cache' : '';
      process.stdout.write(`${ip}${via} is at ${result.mac} on ${info.ifname}${rtt}${stored}\n`);
    }
    mark('answer printed');
    if (contested) {
      // arpwatch's "flip flop": every claimant, first answer first.
      const all = [result.mac, ...result.conflicts].join(' and ');
      warn(`address conflict: ${Ipv4.format(info.target)} answered from ${all} within ${settleMs} ms: ${CONFLICT_CAUSES}${values.first ? '; took the first (--first)' : `; --first takes the first${values.inject ? '; not injected' : ''}`}`);
      if (!values.first) return Exit.NO_REPLY;
    }
    return Exit.OK;
  } finally {
    interrupt.dispose();
    incidents.unsubscribe();
    await traceStats('resolve', link);
    await link.close();
    mark('link closed');
    traceTimeline('resolve');
  }
}

/** The kernel and cache tiers: the kernel's answer for info.target, printed as the raw tier's, with its tier and state. */
async function askKernel(tier: 'kernel' | 'cache', info: InterfaceInfo, target: Ipv4 | undefined, json: boolean): Promise<ExitCode> {
  const interrupt = interruption();
  const aborted = new AbortController();
  const stop = interrupt.stop$.subscribe(() => aborted.abort());
  try {
    const a = await kernelResolve(info, { tier, signal: aborted.signal });
    const { ip, nextHop } = asked(target, info);
    if (a === null) {
      const why = tier === 'cache' ? `the kernel's table holds no MAC for ${Ipv4.format(info.target)} on ${info.ifname} (--tier kernel asks for one)` : `the kernel's own requests for ${Ipv4.format(info.target)} on ${info.ifname} went unanswered (its entry is FAILED)`;
      process.stderr.write(`ersatz: no ARP reply from ${ip}: ${why}\n`);
      return Exit.NO_REPLY;
    }
    if (json) process.stdout.write(`${JSON.stringify({ ip, mac: a.mac, interface: a.ifname, rttMs: null, ...(nextHop && { nextHop }), tier, state: a.state, ...(tier === 'cache' && a.ageMs !== undefined && { ageMs: a.ageMs }) })}\n`);
    else {
      // The table's answer says how old it is; the kernel tier's has just been made.
      const age = tier === 'cache' && a.ageMs !== undefined ? `, changed ${(a.ageMs / 1000).toFixed(1)} s ago` : '';
      process.stdout.write(`${ip}${nextHop ? ` via ${nextHop}` : ''} is at ${a.mac} on ${a.ifname} (${tier}: ${a.state}${age})\n`);
    }
    return Exit.OK;
  } catch (err) {
    if (aborted.signal.aborted) return interrupt.code;
    throw err;
  } finally {
    stop.unsubscribe();
    interrupt.dispose();
  }
}

/** The address asked about as typed (the default gateway without one), and the next hop when ARP asks another. */
function asked(target: Ipv4 | undefined, info: InterfaceInfo): { readonly ip: string; readonly nextHop: string | undefined } {
  const ip = target ?? info.target;
  return { ip: Ipv4.format(ip), nextHop: ip === info.target ? undefined : Ipv4.format(info.target) };
}
