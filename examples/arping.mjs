// iputils arping: probes once a second, one line per reply, a summary at the end (here: 3 probes).
//   node examples/arping.mjs 192.0.2.1
import { lastValueFrom, tap } from 'rxjs';
import { arping$, discoverInterface, Ipv4, openLink } from 'ersatz-arp';

const target = Ipv4.parse(process.argv[2] ?? '192.0.2.1');
const link = await openLink(await discoverInterface({ target }));
try {
  const ms = (ns) => (Number(ns) / 1e6).toFixed(3);
  const show = (e) => e.type === 'reply' && console.log(`reply from ${Ipv4.format(e.ip)} [${e.mac}] ${ms(e.rttNs)} ms`);
  const last = await lastValueFrom(arping$(link, target, { count: 3, intervalMs: 200 }).pipe(tap(show)));
  if (last.type === 'done') console.log(`sent ${last.summary.sent}, received ${last.summary.received}`);
} finally {
  await link.close();
}
