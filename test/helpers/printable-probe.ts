// Runs inside a lab namespace (lab.exec): every kind of result and event the public API emits, from a real link and
// kernel peer, as the user would print it. Prints one JSON line: [{ what, json, inspected }] where `json` is
// JSON.stringify of the value and `inspected` is util.inspect of it (what console.log shows).
//   node printable-probe.js PEER_IP
import { inspect } from 'node:util';
import { catchError, EMPTY, lastValueFrom, take, timeout, toArray } from 'rxjs';
import { arping$, Cidr, claim$, createResolver, discoverInterface, Ipv4, neighbours, openLink, ping$, scan$ } from '@ersatz/api';

const peer = Ipv4.parse(process.argv[2]!);
const out: { what: string; json: string; inspected: string }[] = [];
const keep = (what: string, value: object): void => {
  out.push({ what, json: JSON.stringify(value), inspected: inspect(value, { depth: 4 }) });
};

const link = await openLink(await discoverInterface({ target: peer }), { icmp: true });
try {
  const resolver = createResolver(link, { cacheTtlMs: 60_000 });
  keep('ResolveResult', await lastValueFrom(resolver.query$(peer, { tries: 3, intervalMs: 500 })));
  keep('ResolveResult (cached)', await lastValueFrom(resolver.query$(peer)));
  for (const e of await lastValueFrom(scan$(link, [peer], { tries: 3, timeoutMs: 300 }).pipe(toArray()))) keep(`scan ${e.type}`, e);
  for (const e of await lastValueFrom(arping$(link, peer, { count: 1, intervalMs: 100, deadlineMs: 3000 }).pipe(toArray()))) keep(`arping ${e.type}`, e);
  for (const e of await lastValueFrom(ping$(link, peer, { count: 1, intervalMs: 100, deadlineMs: 3000 }).pipe(toArray()))) keep(`ping ${e.type}`, e);
  // Claiming the peer's address: our probe, then its kernel's answer as a conflict (bounded: 20 s at most).
  const claim = claim$(link, peer).pipe(
    take(2),
    timeout(20_000),
    catchError(() => EMPTY),
    toArray(),
  );
  for (const e of await lastValueFrom(claim)) keep(`claim ${e.type}`, e);
  const entry = neighbours({ to: Cidr.parse(`${Ipv4.format(peer)}/32`) })[0];
  if (entry) keep('NeighbourEntry', entry);
} finally {
  await link.close();
}
process.stdout.write(`${JSON.stringify(out)}\n`);
