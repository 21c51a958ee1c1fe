// Runs inside a lab namespace (lab.exec): exercises the programmatic API against the real pipeline and prints
// one JSON line with what happened. Modes:
//   concurrent IP N TRIES INTERVAL  N concurrent resolve$ of IP; reports answers/errors and the requests we sent
//   unsubscribe IP AFTER_MS         subscribes with many tries, unsubscribes after AFTER_MS, waits, counts requests
//   api IP                          the top-level resolve() promise API
//   tier IP TIER                    the top-level resolve() with { tier }
//   two IP IP2                      resolve() of two IPs behind two interfaces at once (one pipeline each)
//   reroute IP OFFLINK VIA          resolve() of OFFLINK, then again after adding a route to it via VIA, then after
//                                   deleting that route, while a resolve$ of IP keeps the session (and its route cache) live
import { execFileSync } from 'node:child_process';
import { catchError, lastValueFrom, map, merge, of, toArray } from 'rxjs';
import { ArpOp, Ipv4 } from '@ersatz/wire';
import { createResolver, discoverInterface, openLink, resolve, resolve$, type Link } from '@ersatz/api';

const [mode, ipText, ...rest] = process.argv.slice(2);
const ip = Ipv4.parse(ipText!);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until the first `n` frames queued on `link` have left and everything captured until then has reached arp$
 * (events, each polled every 10 ms; at most 30 s, a hang guard only).
 */
async function heardAll(link: Link, n: number): Promise<void> {
  for (let i = 0; i < 3000 && link.departures() < n; i++) await sleep(10);
  const left = link.now();
  for (let i = 0; i < 3000 && link.heardUntilNs() < left; i++) await sleep(10);
}

async function main(): Promise<unknown> {
  if (mode === 'api') {
    const t = process.hrtime.bigint();
    const mac = await resolve(ip, { tries: 2, intervalMs: 500 });
    return { mac, ms: Number(process.hrtime.bigint() - t) / 1e6 };
  }
  if (mode === 'tier') {
    // The top-level resolve() in another tier: its MAC, or the error's name and code.
    const tier = rest[0] as 'raw' | 'kernel' | 'cache';
    return resolve(ip, { tier }).then(
      (mac) => ({ mac }),
      (e: Error & { code?: string }) => ({ error: e.name, code: e.code }),
    );
  }
  if (mode === 'two') {
    const macs = await Promise.all([resolve(ip, { tries: 2, intervalMs: 500 }), resolve(Ipv4.parse(rest[0]!), { tries: 2, intervalMs: 500 })]);
    return { macs };
  }
  if (mode === 'reroute') {
    const [offLink, via] = rest as [string, string];
    const held = resolve$(ip, { tries: 100, intervalMs: 100 }).subscribe({ error: () => {} });
    const once = () => resolve(offLink, { tries: 1, intervalMs: 300 }).catch((e: Error) => e.name);
    try {
      const before = [await once(), await once()];
      execFileSync('ip', ['route', 'add', `${offLink}/32`, 'via', via]);
      const rerouted = await once();
      execFileSync('ip', ['route', 'del', `${offLink}/32`]);
      const restored = await once();
      return { before, rerouted, restored };
    } finally {
      held.unsubscribe();
    }
  }
  const info = await discoverInterface({ target: ip });
  const link = await openLink(info, { outgoing: true });
  // Our own requests as the capture saw them leave (captured on request): the count the kernel peer received too.
  const requests: bigint[] = [];
  const sub = link.arp$.subscribe((o) => {
    if (o.arp.operation === ArpOp.Request && o.ethSrc === link.mac && o.arp.targetIp === ip) requests.push(o.tsNs);
  });
  try {
    const resolver = createResolver(link);
    if (mode === 'concurrent') {
      const [n, tries, interval] = rest.map(Number) as [number, number, number];
      const one = () =>
        resolver.resolve$(ip, { tries, intervalMs: interval }).pipe(
          map((mac) => ({ mac })),
          catchError((e: Error) => of({ error: e.name })),
        );
      const results = await lastValueFrom(merge(...Array.from({ length: n }, one)).pipe(toArray()));
      await sleep(200);
      return { results, requests: requests.length, pending: resolver.pendingCount };
    }
    if (mode === 'unsubscribe') {
      const after = Number(rest[0]);
      // Counted as the resolver queues them: a request queued just before the unsubscribe is captured leaving after it.
      let queued = 0;
      const send = link.send.bind(link);
      link.send = (frame, notBeforeNs) => (queued++, send(frame, notBeforeNs));
      const s = resolver.resolve$(ip, { tries: 50, intervalMs: 100 }).subscribe({ error: () => {} });
      await sleep(after);
      s.unsubscribe();
      const atUnsubscribe = queued;
      await sleep(1000); // ten intervals, for a retransmission that must not come
      await heardAll(link, queued);
      return { atUnsubscribe, queuedAfter: queued, onWire: requests.length, pending: resolver.pendingCount };
    }
    throw new Error(`unknown mode ${mode}`);
  } finally {
    sub.unsubscribe();
    await link.close();
  }
}

main().then(
  (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
  (e: Error) => {
    process.stdout.write(`${JSON.stringify({ fatal: `${e.name}: ${e.message}` })}\n`);
    process.exitCode = 1;
  },
);
