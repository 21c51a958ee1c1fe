// ICMP echo in frames of our own, to the next hop's MAC found with ARP first (here: 3 requests).
//   node examples/ping.mjs 192.0.2.1
import { lastValueFrom, tap } from 'rxjs';
import { discoverInterface, Ipv4, openLink, ping$ } from 'ersatz-arp';

const target = Ipv4.parse(process.argv[2] ?? '192.0.2.1');
const link = await openLink(await discoverInterface({ target }), { icmp: true });
try {
  const show = (e) => e.type === 'reply' && console.log(`reply from ${Ipv4.format(e.ip)}: icmp_seq=${e.seq} ttl=${e.ttl}`);
  const last = await lastValueFrom(ping$(link, target, { count: 3, intervalMs: 200 }).pipe(tap(show)));
  if (last.type === 'done') console.log(`${last.summary.transmitted} transmitted, ${last.summary.received} received`);
} finally {
  await link.close();
}
