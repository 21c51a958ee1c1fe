import { firstValueFrom, fromEvent, takeUntil } from 'rxjs';
import { Ipv4 } from '@ersatz/wire';
import { discoverInterface, openLink, injectNeighbour } from '@ersatz/api';
import { createResolver } from '@ersatz/resolve';
import { parseOptions } from '../index.js';
import { Exit, UsageError, type ExitCode } from '../exit.js';
import { intOption, ipArgument } from '../options.js';

const HELP = `usage: ersatz [--target IP] [--interface IF] [--timeout MS] [--tries N] [--json] [--inject]

Asks "who has IP?" with a real ARP request on the wire and prints the MAC from the matching reply.
Without --target it resolves the default gateway. A target off the local subnet resolves the next hop
(the gateway the kernel would use), as any host must.

  -t, --target IP       the IPv4 address to resolve (default: the default gateway)
  -i, --interface IF    send on IF (default: the interface the route to the target uses)
      --timeout MS      wait MS for each try's reply (default 1000)
      --tries N         ask up to N times (default 3)
      --json            print {"ip","mac","interface","rttMs"} (and "nextHop" when it differs from ip)
      --inject          store the answer in the kernel's ARP cache as a PERMANENT entry (needs CAP_NET_ADMIN)
  -h, --help            this text

Output: "IP is at MAC on IF (RTT ms)". RTT is measured between the capture timestamps of the request and the reply.
Exit codes: 0 resolved, 1 no reply after the last try, 2 usage or environment error (bad argument, unknown
interface, no default route, missing CAP_NET_RAW/CAP_NET_ADMIN), 130 interrupted.`;

/** `ersatz [--target IP] ...`: resolve one IP (default: the default gateway) to its MAC. */
export async function run(argv: string[]): Promise<ExitCode> {
  const { values, positionals } = parseOptions('resolve', argv, {
    allowPositionals: true,
    options: {
      target: { type: 'string', short: 't' },
      interface: { type: 'string', short: 'i' },
      timeout: { type: 'string' },
      tries: { type: 'string' },
      json: { type: 'boolean', default: false },
      inject: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return Exit.OK;
  }
  if (positionals.length > 1 || (positionals.length === 1 && values.target !== undefined)) {
    throw new UsageError(`resolve: unexpected argument ${JSON.stringify(positionals.at(-1))}: run 'ersatz --help'`);
  }
  // `ersatz resolve 192.0.2.1` reads as naturally as `ersatz --target 192.0.2.1`.
  const targetText = values.target ?? positionals[0];
  const target = targetText === undefined ? undefined : ipArgument('resolve', 'target', targetText);
  const tries = intOption('resolve', 'tries', values.tries, 1, 100, 3);
  const intervalMs = intOption('resolve', 'timeout', values.timeout, 1, 600_000, 1000);

  const info = await discoverInterface({ ifname: values.interface, target });
  const link = await openLink(info);
  try {
    // Ctrl-C ends the query (its timers and retransmissions with it) and still closes the workers below.
    const query$ = createResolver(link).query$(info.target, { tries, intervalMs }).pipe(takeUntil(fromEvent(process, 'SIGINT')));
    const result = await firstValueFrom(query$, { defaultValue: null });
    if (result === null) return Exit.INTERRUPTED;
    if (values.inject) await injectNeighbour({ ip: result.ip, mac: result.mac, ifname: info.ifname });
    const ip = target ?? info.target;
    const rttMs = result.rttNs === null ? null : Number(result.rttNs) / 1e6;
    const nextHop = ip === info.target ? undefined : Ipv4.format(info.target);
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ ip: Ipv4.format(ip), mac: result.mac, interface: info.ifname, rttMs, ...(nextHop && { nextHop }) })}\n`);
    } else {
      const via = nextHop ? ` via ${nextHop}` : '';
      const rtt = rttMs === null ? '' : ` (${rttMs.toFixed(3)} ms)`;
      process.stdout.write(`${Ipv4.format(ip)}${via} is at ${result.mac} on ${info.ifname}${rtt}${values.inject ? ', stored in the kernel ARP cache' : ''}\n`);
    }
    return Exit.OK;
  } finally {
    await link.close();
  }
}
