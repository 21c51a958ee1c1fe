// IPv6 beside IPv4 (issue #17): on one link opened once (with ND), `count` sequential resolves of an IPv6 address
// (solicit$) and of an IPv4 one (Resolver.query$), interleaved one by one so both see the same machine, after
// `warmup` uncounted of each. Each latency runs from just before subscribing to the answer's `next`.
//
//   node dist/drivers/ndp.js --interface IF --target4 IP --target6 ADDR --source6 ADDR [--count N] [--warmup N]
//
// Prints { v4Ns: [...], v6Ns: [...], lost }.
import { parseArgs } from 'node:util';
import { firstValueFrom } from 'rxjs';
import { Ipv4, Ipv6 } from '@ersatz/wire';
import { solicit$ } from '@ersatz/resolve';
import { loadApi, orUsage, report, whole } from './common.js';

const o = orUsage('ndp.js --interface IF --target4 IP --target6 ADDR --source6 ADDR [--count N] [--warmup N]', () =>
  parseArgs({
    strict: true,
    options: { interface: { type: 'string' }, target4: { type: 'string' }, target6: { type: 'string' }, source6: { type: 'string' }, count: { type: 'string', default: '1000' }, warmup: { type: 'string', default: '2000' } },
  }).values,
);
if (!o.interface || !o.target4 || !o.target6 || !o.source6) {
  process.stderr.write('--interface, --target4, --target6 and --source6 are required\n');
  process.exit(2);
}
const api = await loadApi();
const target4 = Ipv4.parse(o.target4);
const target6 = Ipv6.parse(o.target6);
const source = Ipv6.parse(o.source6);
const link = await api.openLink(await api.discoverInterface({ ifname: o.interface, target: target4 }), { ndp: true });
const resolver = api.createResolver(link);
const once = { tries: 1, intervalMs: 1000 };
let lost = 0;
async function timed(ask: () => Promise<unknown>): Promise<number | null> {
  const t0 = process.hrtime.bigint();
  try {
    await ask();
    return Number(process.hrtime.bigint() - t0);
  } catch {
    lost++;
    return null;
  }
}
const v4 = (): Promise<unknown> => firstValueFrom(resolver.query$(target4, once));
const v6 = (): Promise<unknown> => firstValueFrom(solicit$(link, target6, { source, ...once }));
const v4Ns: number[] = [];
const v6Ns: number[] = [];
const warmup = whole('warmup', o.warmup, 0);
const count = whole('count', o.count);
for (let i = 0; i < warmup; i++) {
  await timed(v4);
  await timed(v6);
}
lost = 0;
for (let i = 0; i < count; i++) {
  const a = await timed(v4);
  const b = await timed(v6);
  if (a !== null) v4Ns.push(a);
  if (b !== null) v6Ns.push(b);
}
await link.close();
report({ v4Ns, v6Ns, lost });
