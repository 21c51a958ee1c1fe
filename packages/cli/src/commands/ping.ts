import { lastValueFrom, tap } from 'rxjs';
import { Ipv4 } from '@ersatz/wire';
import { discoverInterface } from '@ersatz/api';
import { ping$, type PingEvent, type PingSummary } from '@ersatz/resolve';
import { hostArgument, intOption, numberOption, parseSpec } from '../options.js';
import type { CommandSpec, Options } from '../spec.js';
import { Exit, UsageError, type ExitCode } from '../exit.js';
import { LineWriter } from '../line-writer.js';
import { fixed3, openSession, rttJson } from '../session.js';
import { interruption } from '../interrupt.js';
import { privileges, PRIVILEGE_OPTIONS, rawOnly } from '../privileges.js';

const OPTIONS = {
  count: {
    type: 'string',
    short: 'c',
    arg: 'COUNT',
    help: 'stop when replies + errors reach COUNT; without -w, after COUNT requests and a last wait (default: until Ctrl-C)',
  },
  interval: { type: 'string', short: 'i', arg: 'INTERVAL', help: 'seconds between requests (default 1)' },
  deadline: { type: 'string', short: 'w', arg: 'DEADLINE', help: 'stop after DEADLINE seconds, whatever is outstanding, or at the first ICMP error' },
  timeout: { type: 'string', short: 'W', arg: 'TIMEOUT', help: 'after the last request, seconds to wait when no reply came at all (default 10)' },
  size: {
    type: 'string',
    short: 's',
    arg: 'SIZE',
    help: "echo data bytes (default 56; at most the interface's MTU - 28, 1472 on a 1500-byte link: one unfragmented frame)",
  },
  ttl: { type: 'string', short: 't', arg: 'TTL', help: 'IPv4 time to live (default 64)' },
  interface: { type: 'string', short: 'I', arg: 'IF', complete: 'interface', help: 'send on IF (default: the interface the route to TARGET uses)' },
  quiet: { type: 'boolean', short: 'q', default: false, help: 'print only the summary' },
  json: {
    type: 'boolean',
    default: false,
    help:
      'print JSON Lines: {"type":"reply","seq","ip","ttl","bytes","rttMs","dup"} per reply,\n' +
      '{"type":"error","seq","from","error","icmpType","code"} per ICMP error,\n' +
      '{"type":"redirect","seq","from","redirect","code","gateway"} per redirect, then\n' +
      '{"type":"summary","summary":{..., "errors"}}',
  },
  pcap: { type: 'string', arg: 'OUT', complete: 'file', help: 'write every frame sent and received (ARP and ICMP) to OUT, a pcap file tcpdump -r reads' },
  ...PRIVILEGE_OPTIONS,
} as const satisfies Options;

export const SPEC: CommandSpec<typeof OPTIONS> = {
  name: 'ping',
  usage: `ersatz ping TARGET [-c COUNT] [-i INTERVAL] [-w DEADLINE] [-W TIMEOUT] [-s SIZE] [-t TTL] [-I IF] [-q]
                   [--json] [--pcap OUT]`,
  about: `TARGET is an IPv4 address or a host name (looked up with the system resolver, IPv4 only).

Sends ICMP echo requests built by ersatz in raw Ethernet frames, addressed to the next hop's MAC (the target on
the local link, else the gateway the kernel would use), which ersatz resolves first with its own ARP query (3 tries
1 s apart, which -w cuts short and -W does not: it waits after the last request). Replies are matched by
identifier and sequence number; so are ICMP errors, by the request they quote: Destination Unreachable, Time
Exceeded and Parameter Problem print "From ROUTER icmp_seq=N <what>" at once (iputils' wording) and count as
"+N errors"; a Redirect prints "From ROUTER: icmp_seq=N Redirect ...(New nexthop: GW)" and counts nothing. Output
and statistics follow iputils ping, but for one thing: RTTs come from capture timestamps, not from the echo's
data, so they are shown for any --size (iputils needs 16 data bytes for them). Times are in seconds and may be
fractional.`,
  options: OPTIONS,
  notes: `Exit codes (as iputils ping): 0 a reply came (with -c and -w: COUNT replies came by the deadline), 1 no reply (ICMP
errors alone are no reply; or the next hop did not answer ARP), 2 usage or environment error. Ctrl-C prints the
summary and exits with the same status, as iputils ping does; SIGTERM prints it and exits 143 (iputils ping does not
catch it).`,
  positionals: true,
};

/** `ersatz ping TARGET ...`: ICMP echo over our own frames, to the next hop's ARP-resolved MAC. */
export async function run(argv: string[]): Promise<ExitCode> {
  const args = parseSpec(SPEC, argv, 1);
  if (args === null) return Exit.OK;
  const { values, positionals } = args;
  const become = privileges('ping', values);
  const { ip: target, name } = await hostArgument('ping', 'TARGET', positionals[0]);
  const shown = name ?? Ipv4.format(target); // iputils names the target as it was typed
  const count = values.count === undefined ? undefined : intOption('ping', 'count', values.count, 1, 2 ** 31 - 1, 1);
  const intervalMs = numberOption('ping', 'interval', values.interval, 0.001, 3600, 1) * 1000;
  const deadlineMs = numberOption('ping', 'deadline', values.deadline, 0, (2 ** 31 - 1) / 1000, 0) * 1000; // one timer's longest wait
  const timeoutMs = numberOption('ping', 'timeout', values.timeout, 0.001, 3600, 10) * 1000;
  const payloadBytes = intOption('ping', 'size', values.size, 0, MAX_MTU - IP_ICMP_HEADERS, 56);
  const ttl = intOption('ping', 'ttl', values.ttl, 1, 255, 64);

  const info = await discoverInterface({ ifname: values.interface, target });
  const mtu = await linkMtu(info.ifindex);
  if (payloadBytes > mtu - IP_ICMP_HEADERS) {
    throw new UsageError(`ping: --size ${payloadBytes} does not fit one unfragmented frame on ${info.ifname}: its MTU ${mtu} holds at most ${mtu - IP_ICMP_HEADERS} data bytes`);
  }
  const out = new LineWriter();
  const interrupt = interruption();
  const session = await openSession('ping', info, { icmp: true, pcap: values.pcap, privileges: become }).catch((err: unknown) => {
    throw rawOnly('ping', err);
  });
  try {
    // iputils names the source and interface when -I chose the interface.
    const from = values.interface === undefined ? '' : ` from ${Ipv4.format(info.ip)} ${info.ifname}:`;
    if (!values.json) out.line(`PING ${shown} (${Ipv4.format(target)})${from} ${payloadBytes}(${payloadBytes + 28}) bytes of data.`);
    let summary: PingSummary | undefined;
    // iputils' "time": from the first request to the last (not to the end of the wait after it).
    let firstSentMs: number | undefined;
    let lastSentMs = 0;
    const run$ = ping$(session.link, target, { count, intervalMs, deadlineMs, timeoutMs, payloadBytes, mtu, ttl, nextHop: info.target, stop$: interrupt.stop$ });
    const ran = lastValueFrom(
      run$.pipe(
        tap((e) => {
          if (e.type === 'sent') {
            lastSentMs = performance.now();
            firstSentMs ??= lastSentMs;
          } else if (e.type === 'reply') {
            const rttMs = Number(e.rttNs) / 1e6;
            if (values.json) out.line(JSON.stringify({ type: 'reply', seq: e.seq, ip: Ipv4.format(e.ip), ttl: e.ttl, bytes: e.bytes, rttMs, dup: e.dup }));
            else if (!values.quiet) out.line(`${e.bytes} bytes from ${Ipv4.format(e.ip)}: icmp_seq=${e.seq} ttl=${e.ttl} time=${pingTime(rttMs)} ms${e.dup ? ' (DUP!)' : ''}`);
          } else if (e.type === 'error') {
            if (values.json) out.line(JSON.stringify({ type: 'error', seq: e.seq, from: Ipv4.format(e.from), error: errorText(e), icmpType: e.icmpType, code: e.code }));
            else if (!values.quiet) out.line(`From ${Ipv4.format(e.from)} icmp_seq=${e.seq} ${errorText(e)}`);
          } else if (e.type === 'redirect') {
            const gateway = Ipv4.format(e.gateway);
            if (values.json) out.line(JSON.stringify({ type: 'redirect', seq: e.seq, from: Ipv4.format(e.from), redirect: redirectText(e), code: e.code, gateway }));
            else if (!values.quiet) out.line(`From ${Ipv4.format(e.from)}: icmp_seq=${e.seq} ${redirectText(e)}(New nexthop: ${gateway})`);
          } else if (e.type === 'done') summary = e.summary;
        }),
      ),
      { defaultValue: undefined },
    );
    await ran.catch((err: unknown) => {
      // The next hop never answered ARP, so no request went out: said on stderr (iputils' kernel would say
      // "Destination Host Unreachable" per request), then the statistics of nothing sent, and exit 1.
      if ((err as { name?: string }).name !== 'ResolveTimeoutError') throw err;
      const e = err as { tries: number; elapsedMs: number };
      process.stderr.write(`ersatz: ping: the next hop ${Ipv4.format(info.target)} did not answer ARP (${e.tries} ${e.tries === 1 ? 'try' : 'tries'}, ${e.elapsedMs} ms): check that it is up and on the link\n`);
      summary = { transmitted: 0, received: 0, duplicates: 0, errors: 0, lossPercent: 0, rtt: null, elapsedMs: 0, exitCode: 1 };
    });
    if (summary === undefined) return Exit.SOFTWARE; // ping$ always ends with a summary when it completes
    const s = summary;
    if (values.json) {
      out.line(JSON.stringify({ type: 'summary', summary: { ip: Ipv4.format(target), nextHop: Ipv4.format(info.target), transmitted: s.transmitted, received: s.received, duplicates: s.duplicates, errors: s.errors, lossPercent: s.lossPercent, elapsedMs: s.elapsedMs, rtt: rttJson(s.rtt), interrupted: interrupt.fired } }));
    } else {
      out.line('');
      out.line(`--- ${shown} ping statistics ---`);
      const parts = [`${s.transmitted} packets transmitted`, `${s.received} received`];
      if (s.duplicates > 0) parts.push(`+${s.duplicates} duplicates`);
      if (s.errors > 0) parts.push(`+${s.errors} errors`);
      // Loss and time only when something was sent, as iputils.
      const sentMs = firstSentMs === undefined ? 0 : lastSentMs - firstSentMs;
      if (s.transmitted > 0) parts.push(`${Number(s.lossPercent.toPrecision(6))}% packet loss`, `time ${Math.round(sentMs)}ms`);
      out.line(parts.join(', '));
      // iputils ends the statistics with a line of its own, empty when no reply gave RTTs.
      out.line(s.rtt === null ? '' : `rtt min/avg/max/mdev = ${fixed3(s.rtt.minMs)}/${fixed3(s.rtt.avgMs)}/${fixed3(s.rtt.maxMs)}/${fixed3(s.rtt.stddevMs)} ms`);
    }
    // iputils ping: Ctrl-C ends the run with the statistics and its usual status (0 after replies, else 1); SIGTERM
    // is not caught there, so it is 143, as for every command here (after the statistics, which iputils skips).
    return interrupt.fired && interrupt.code === Exit.TERMINATED ? Exit.TERMINATED : s.exitCode;
  } finally {
    out.flush();
    interrupt.dispose();
    await session.close();
  }
}

// iputils ping's time=: three significant digits or so (0.046, 1.23, 12.3, 123).
function pingTime(ms: number): string {
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toFixed(3);
}

// IPv4 header 20 + ICMP header 8; the largest MTU the 16-bit total length allows.
const IP_ICMP_HEADERS = 28;
const MAX_MTU = 0xffff;

/** The interface's MTU from rtnetlink; 1500 (Ethernet's) where none is known (Windows, a link reporting 0). */
async function linkMtu(ifindex: number): Promise<number> {
  if (process.platform !== 'linux') return 1500;
  const mtu = (await import('@ersatz/netlink')).link(ifindex).mtu;
  return mtu > 0 ? mtu : 1500;
}

// iputils ping's words for each code (pr_icmph), so scripts that read ping's output read ours.
const UNREACHABLE = [
  'Destination Net Unreachable',
  'Destination Host Unreachable',
  'Destination Protocol Unreachable',
  'Destination Port Unreachable',
  'Frag needed and DF set', // + the MTU, below
  'Source Route Failed',
  'Destination Net Unknown',
  'Destination Host Unknown',
  'Source Host Isolated',
  'Destination Net Prohibited',
  'Destination Host Prohibited',
  'Destination Net Unreachable for Type of Service',
  'Destination Host Unreachable for Type of Service',
  'Packet filtered',
  'Precedence Violation',
  'Precedence Cutoff',
];
const TIME_EXCEEDED = ['Time to live exceeded', 'Frag reassembly time exceeded'];
const REDIRECT = ['Redirect Network', 'Redirect Host', 'Redirect Type of Service and Network', 'Redirect Type of Service and Host'];
const FRAG_NEEDED = 4;
type PingErrorEvent = Extract<PingEvent, { type: 'error' }>;
type PingRedirectEvent = Extract<PingEvent, { type: 'redirect' }>;

function errorText(e: PingErrorEvent): string {
  if (e.icmpType === 3) {
    if (e.code === FRAG_NEEDED) return `Frag needed and DF set (mtu = ${e.info & 0xffff})`;
    return UNREACHABLE[e.code] ?? `Dest Unreachable, Bad Code: ${e.code}`;
  }
  if (e.icmpType === 11) return TIME_EXCEEDED[e.code] ?? `Time exceeded, Bad Code: ${e.code}`;
  return `Parameter problem: pointer = ${e.info >>> 24}`;
}

function redirectText(e: PingRedirectEvent): string {
  return REDIRECT[e.code] ?? `Redirect, Bad Code: ${e.code}`;
}
