// Every host of a range that answers ARP, listed as arp-scan lists them, over one open link. The `for await` form of
// scan$ (the observable is the same sweep, for RxJS users).
//   node examples/scan.mjs 192.0.2.0/24
import { discoverInterface, Ipv4, openLink, parseTargets, scan } from 'ersatz-arp';

const targets = parseTargets(process.argv[2] ?? '192.0.2.0/24');
// The route to the range's last host names the interface (its first may be our own address).
const link = await openLink(await discoverInterface({ target: targets.at(targets.size - 1) }));
try {
  for await (const e of scan(link, targets, { ratePps: 10_000, signal: AbortSignal.timeout(60_000) })) {
    if (e.type === 'host') console.log(`${Ipv4.format(e.ip)}\t${e.mac}`);
    else if (e.type === 'done') console.log(`${e.summary.answered} of ${e.summary.hosts} hosts answered`);
  }
} finally {
  await link.close();
}
