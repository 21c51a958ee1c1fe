import { lastValueFrom, tap } from 'rxjs';
import { ArpOp, Ipv4, type Mac } from '@ersatz/wire';
import { discoverInterface, type InterfaceInfo } from '@ersatz/api';
import { arping$, arpingSource, type ArpingMode, type ArpingSummary } from '@ersatz/resolve';
import { hostArgument, intOption, ipArgument, isIpv6Text, numberOption, parseSpec } from '../options.js';
import type { CommandSpec, Options } from '../spec.js';
import { Exit, UsageError, type ExitCode } from '../exit.js';
import { ownAddressInterface } from '../own-address.js';
import { LineWriter } from '../line-writer.js';
import { fixed3, openSession, rttJson } from '../session.js';
import { interruption } from '../interrupt.js';
import { privileges, PRIVILEGE_OPTIONS, rawOnly } from '../privileges.js';

const OPTIONS = {
  count: { type: 'string', short: 'c', arg: 'COUNT', help: 'send COUNT probes, then wait one more interval (default: until Ctrl-C or the deadline)' },
  deadline: { type: 'string', short: 'w', arg: 'DEADLINE', help: 'stop after DEADLINE seconds; with -c, stop as soon as COUNT replies came' },
  interval: { type: 'string', short: 'i', arg: 'INTERVAL', help: 'seconds between probes (default 1)' },
  first: { type: 'boolean', short: 'f', default: false, help: 'stop at the first reply' },
  broadcast: { type: 'boolean', short: 'b', default: false, help: 'keep broadcasting (default: unicast to the MAC learned from the first reply)' },
  dad: {
    type: 'boolean',
    short: 'D',
    default: false,
    help:
      'duplicate address detection as iputils does it (requests from sender IP 0.0.0.0, COUNT of them INTERVAL apart): stop at the ' +
      "first reply. Not RFC 5227's full probe (random timing, 3 probes, zero target MAC, announcements after): that is 'ersatz claim'",
  },
  unsolicited: {
    type: 'boolean',
    short: 'U',
    default: false,
    help: "unsolicited ARP: announce TARGET (one of our addresses) with a gratuitous request, sender IP = target IP: RFC 5227's ARP Announcement",
  },
  advert: { type: 'boolean', short: 'A', default: false, help: "like -U, with a gratuitous reply (RFC 5227 allows it; its Announcement is -U's request form)" },
  source: {
    type: 'string',
    short: 's',
    arg: 'SRC',
    help:
      "sender IP of the probes, one of the interface's addresses or 0.0.0.0 for -D (default: the interface's address; 0.0.0.0 for -D; " +
      "TARGET for -U/-A, which must then be the interface's)",
  },
  'spoof-sender': {
    type: 'boolean',
    default: false,
    help:
      "send even when the sender address (-s, or TARGET for -U/-A) is not the interface's.\n" +
      "DANGEROUS: neighbours then send that address's traffic (a gateway's: the whole LAN's) to us.\n" +
      'For labs of your own only. Without it such a run sends nothing and exits 2, as iputils does.',
  },
  interface: { type: 'string', short: 'I', arg: 'IF', complete: 'interface', help: 'send on IF (default: the interface the route to TARGET uses, or the one holding TARGET)' },
  quiet: { type: 'boolean', short: 'q', default: false, help: 'print nothing' },
  json: {
    type: 'boolean',
    default: false,
    help: 'print JSON Lines: {"type":"reply","ip","mac","rttMs","operation","broadcast"} per reply, then {"type":"summary","summary":{...}}',
  },
  pcap: { type: 'string', arg: 'OUT', complete: 'file', help: 'write every frame sent and received to OUT, a pcap file tcpdump -r reads' },
  ...PRIVILEGE_OPTIONS,
} as const satisfies Options;

export const SPEC: CommandSpec<typeof OPTIONS> = {
  name: 'arping',
  usage: `ersatz arping TARGET [-c COUNT] [-w DEADLINE] [-i INTERVAL] [-f] [-b] [-D | -U | -A] [-s SRC] [-I IF] [-q]
                     [--json] [--pcap OUT]`,
  about: `Pings TARGET with ARP requests on the local link, as iputils arping does, and prints each reply with its
round-trip time, then the counts and min/avg/max/std-dev. Times are in seconds and may be fractional. TARGET is an
IPv4 address or a host name (looked up with the system resolver, IPv4 only).`,
  options: OPTIONS,
  notes: `Exit codes (as iputils arping): 0 a reply came (-D: the address is free; -U/-A: always; -w with -c: COUNT replies
came), 1 no reply (-D: the address is taken), 2 usage or environment error. Ctrl-C prints the summary and exits
with the same status, as iputils arping does.`,
  positionals: true,
};

/** `ersatz arping TARGET ...`: iputils arping over our own frames. */
export async function run(argv: string[]): Promise<ExitCode> {
  const args = parseSpec(SPEC, argv, 1);
  if (args === null) return Exit.OK;
  const { values, positionals } = args;
  const become = privileges('arping', values);
  const modes = (['dad', 'unsolicited', 'advert'] as const).filter((m) => values[m]);
  if (modes.length > 1) throw new UsageError(`arping: -D, -U and -A exclude each other: pick one`);
  const mode: ArpingMode = modes[0] ?? 'request';
  const count = values.count === undefined ? undefined : intOption('arping', 'count', values.count, 1, 2 ** 31 - 1, 1);
  const deadlineMs = numberOption('arping', 'deadline', values.deadline, 0, (2 ** 31 - 1) / 1000, 0) * 1000; // one timer's longest wait
  const intervalMs = numberOption('arping', 'interval', values.interval, 0.001, 3600, 1) * 1000;
  if (isIpv6Text(positionals[0])) {
    if (mode !== 'dad' && mode !== 'unsolicited') throw new UsageError(`arping: for IPv6, -D (duplicate address detection) and -U (unsolicited advertisement) are done; to ask, run 'ersatz resolve ${positionals[0]}'`);
    const ipv4Only = (['source', 'spoof-sender', 'broadcast', 'first', 'deadline', 'pcap'] as const).find((k) => values[k] !== undefined && values[k] !== false);
    if (ipv4Only !== undefined) throw new UsageError(`arping: --${ipv4Only} is for IPv4 (ARP) so far; with IPv6, -D and -U take -I, -c, -i, -q and --json`);
    const { arping6 } = await import('./ipv6.js');
    return arping6(mode, positionals[0], { ifname: values.interface, count: count ?? 1, intervalMs, quiet: values.quiet, json: values.json }, become);
  }
  const { ip: target } = await hostArgument('arping', 'TARGET', positionals[0]);
  const source = values.source === undefined ? undefined : ipArgument('arping', 'source (-s)', values.source);

  let info: InterfaceInfo;
  try {
    info = await interfaceFor(target, values.interface, mode === 'dad');
  } catch (err) {
    // iputils: a loopback or NOARP interface "is not ARPable"; -D then exits 0 on purpose, so scripts go on.
    const reason = (err as { name?: string; reason?: string }).name === 'NoLinkLayerError' ? (err as { reason?: string }).reason : undefined;
    if (reason !== 'loopback' && reason !== 'noarp') throw err;
    // iputils' line on stdout; with --json, stdout carries JSON lines only, so ersatz's own error line goes to stderr.
    if (values.json) process.stderr.write(`ersatz: ${(err as Error).message}\n`);
    else if (!values.quiet) process.stdout.write(`Interface "${(err as { ifname: string }).ifname}" is not ARPable\n`);
    return mode === 'dad' ? Exit.OK : Exit.USAGE;
  }
  const options = { mode, spoofSender: values['spoof-sender'], ...(source === undefined ? {} : { source }) };
  // Refused here, before the pipeline opens, and again by arping$ itself: nothing is sent for a foreign address.
  const spa = arpingSource(info, target, options);
  const out = new LineWriter();
  const interrupt = interruption();
  const session = await openSession('arping', info, { pcap: values.pcap, privileges: become }).catch((err: unknown) => {
    throw rawOnly('arping', err);
  });
  try {
    const link = session.link;
    const human = !values.json && !values.quiet;
    if (human) out.line(`ARPING ${Ipv4.format(target)} from ${Ipv4.format(spa)} ${link.ifname}`);
    let summary: ArpingSummary | undefined;
    const run$ = arping$(link, target, {
      ...options,
      count,
      deadlineMs,
      intervalMs,
      broadcastOnly: values.broadcast,
      quitOnReply: values.first,
      stop$: interrupt.stop$,
    });
    await lastValueFrom(
      run$.pipe(
        tap((e) => {
          if (e.type === 'reply') {
            const rttMs = Number(e.rttNs) / 1e6;
            const operation = e.operation === ArpOp.Reply ? 'reply' : 'request';
            if (values.json) out.line(JSON.stringify({ type: 'reply', ip: Ipv4.format(e.ip), mac: e.mac, rttMs, operation, broadcast: e.broadcast }));
            else if (human) {
              // iputils names the reply's target when it is not our sender IP / our MAC.
              const a = e.reply.arp;
              const forIp = a.targetIp !== spa ? `for ${Ipv4.format(a.targetIp)} ` : '';
              const forMac = a.targetMac !== link.mac ? `${forIp === '' ? 'for ' : ''}[${upper(a.targetMac)}]` : '';
              out.line(`${e.broadcast ? 'Broadcast' : 'Unicast'} ${operation} from ${Ipv4.format(e.ip)} [${upper(e.mac)}] ${forIp}${forMac} ${fixed3(rttMs)}ms`);
            }
          } else if (e.type === 'done') summary = e.summary;
        }),
      ),
      { defaultValue: undefined },
    );
    if (summary === undefined) return Exit.SOFTWARE; // arping$ always ends with a summary when it completes
    const s = summary;
    if (values.json) {
      out.line(
        JSON.stringify({
          type: 'summary',
          summary: {
            ip: Ipv4.format(target),
            source: Ipv4.format(spa),
            interface: link.ifname,
            mode,
            sent: s.sent,
            broadcasts: s.broadcasts,
            received: s.received,
            broadcastReplies: s.broadcastReplies,
            requestReplies: s.requestReplies,
            rtt: rttJson(s.rtt),
            dad: s.dad,
            elapsedMs: s.elapsedMs,
            interrupted: interrupt.fired,
          },
        }),
      );
    } else if (human) {
      out.line(`Sent ${s.sent} probes (${s.broadcasts} broadcast(s))`);
      const detail = [s.requestReplies > 0 ? `${s.requestReplies} request(s)` : '', s.broadcastReplies > 0 ? `${s.broadcastReplies} broadcast(s)` : ''].filter((d) => d !== '');
      out.line(`Received ${s.received} response(s)${detail.length > 0 ? ` (${detail.join(', ')})` : ''}`);
      // iputils returns before the RTT line in -D, -U and -A modes.
      if (s.rtt !== null && mode === 'request') out.line(`rtt min/avg/max/std-dev = ${fixed3(s.rtt.minMs)}/${fixed3(s.rtt.avgMs)}/${fixed3(s.rtt.maxMs)}/${fixed3(s.rtt.stddevMs)} ms`);
    }
    // iputils arping: Ctrl-C ends the run with the summary and its usual status (0 after replies; -D 0 when free).
    return s.exitCode;
  } finally {
    out.flush();
    interrupt.dispose();
    await session.close();
  }
}

// iputils prints hardware addresses in upper case.
function upper(mac: Mac): string {
  return mac.toUpperCase();
}

/**
 * The interface to arp on for `target`: the one the route to it uses (or `ifname`). A target that is one of our own
 * addresses (what -U and -A announce) has no route out, so on Linux it is the interface holding that address, or
 * `ifname` with its address in the target's subnet. Throws the discovery errors (UnresolvableTargetError when
 * neither way finds one).
 */
async function interfaceFor(target: Ipv4, ifname: string | undefined, unaddressed: boolean): Promise<InterfaceInfo> {
  try {
    return await discoverInterface({ ifname, target, unaddressed });
  } catch (err) {
    return await ownAddressInterface(err, target, ifname);
  }
}
