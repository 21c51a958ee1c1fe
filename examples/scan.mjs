// Every host of a range that answers ARP, listed as arp-scan lists them, over one open link.
//   node examples/scan.mjs 192.0.2.0/24
import { lastValueFrom, tap } from 'rxjs';
import { discoverInterface, Ipv4, openLink, parseTargets, scan$ } from 'ersatz-arp';

const targets = parseTargets(process.argv[2] ?? '192.0.2.0/24');
// The route to the range's last host names the interface (its first may be our own address).
const link = await openLink(await discoverInterface({ target: targets.at(targets.size - 1) }));
try {
  const show = (e) => e.type === 'host' && console.log(`${Ipv4.format(e.ip)}\t${e.mac}`);
  const last = await lastValueFrom(scan$(link, targets, { ratePps: 10_000 }).pipe(tap(show)));
  if (last.type === 'done') console.log(`${last.summary.answered} of ${last.summary.hosts} hosts answered`);
} finally {
  await link.close();
}
