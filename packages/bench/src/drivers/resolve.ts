// ersatz side of the resolve scenario, run by the harness inside the lab's host namespace:
//
//   node dist/drivers/resolve.js --via resolve$|query$ --interface IF --first IP [--span N] [--count N]
//        [--concurrency C] [--warmup N] [--timeout MS] [--same-cpu] [--idle-poll]
//
// Rounds of C concurrent resolves (targets first + ((round × C + i) mod span)), each round waiting for all its
// answers, `count` resolves in all after `warmup` uncounted ones (the same rounds as baselines/resolve-loop.mjs).
// Each latency runs from just before subscribing to the answer's `next`, on process.hrtime: what the caller sees.
//   --via resolve$  the public API's resolve$(ip, { interface }) (route lookup per call; one shared pipeline)
//   --via query$    Resolver.query$ on a link opened once (openLink + createResolver): the pipeline alone; it also
//                   gives the RTT ersatz measured, from the request's departure (the transmit worker's clock just
//                   before sendmmsg) to the reply's capture timestamp. With --trace
//                   every stage stamps the hrtime it handled the request or reply at (@ersatz/ring's TraceHop), and
//                   each resolve's hops go out in hopsNs (hop name → one duration per resolve). With --same-cpu
//                   the link is opened with sameCpu (its threads and this one on one CPU); with --idle-poll, with
//                   idlePoll (idle CPUs poll instead of halting while it is open).
//   --via idle      opens a link, leaves it idle twice --idle-ms (default 10000) and reports the whole process's CPU
//                   time (every thread: getrusage) in each window as idleCpuPct and steadyCpuPct, percent of one CPU.
// Prints { latenciesNs, captureRttNs, lost, elapsedNs, main, hopsNs? } (main: query$'s PipelineStats.main looks, looked
// and events) or { idleCpuPct, steadyCpuPct }; exits 3 with { unavailable } when ersatz does not load.
import { parseArgs } from 'node:util';
import type { Observable } from 'rxjs';
import { setTimeout as sleep } from 'node:timers/promises';
import { TraceHop, createTrace } from '@ersatz/ring';
import { Ipv4 } from '@ersatz/wire';
import { loadApi, orUsage, report, whole } from './common.js';

const o = orUsage('resolve.js --via resolve$|query$ --interface IF --first IP [--span N] [--count N] [--concurrency C] [--warmup N] [--timeout MS] [--same-cpu] [--idle-poll]', () =>
  parseArgs({
    strict: true,
    options: {
      via: { type: 'string', default: 'resolve$' },
      interface: { type: 'string' },
      first: { type: 'string' },
      span: { type: 'string', default: '1' },
      count: { type: 'string', default: '1000' },
      concurrency: { type: 'string', default: '1' },
      warmup: { type: 'string', default: '0' },
      timeout: { type: 'string', default: '1000' },
      trace: { type: 'boolean', default: false },
      'same-cpu': { type: 'boolean', default: false },
      'idle-poll': { type: 'boolean', default: false },
      'idle-ms': { type: 'string', default: '10000' },
    },
  }).values,
);
if ((o.via !== 'resolve$' && o.via !== 'query$' && o.via !== 'idle') || !o.interface || !o.first) {
  process.stderr.write('--via resolve$|query$|idle, --interface and --first are required\n');
  process.exit(2);
}
const ifname = o.interface;
const first = Ipv4.parse(o.first);
const span = whole('span', o.span);
const count = whole('count', o.count);
const concurrency = whole('concurrency', o.concurrency);
const warmup = whole('warmup', o.warmup, 0);
const timeoutMs = whole('timeout', o.timeout);

const api = await loadApi();
if (o.via === 'idle') {
  const link = await api.openLink(await api.discoverInterface({ ifname, target: first }));
  const idleMs = whole('idle-ms', o['idle-ms']);
  // Startup work (V8 compiling and collecting in its helper threads) goes on for ~1 s after open: not idle.
  await sleep(2000);
  const cpuPct = async (): Promise<number> => {
    const before = process.cpuUsage();
    await sleep(idleMs);
    const used = process.cpuUsage(before);
    return ((used.user + used.system) / 1000 / idleMs) * 100;
  };
  // Two windows: the first still holds V8's post-start collections in four isolates (mprotect/madvise/munmap in
  // its helper threads), the second is the link's own steady cost.
  const idleCpuPct = await cpuPct();
  const steadyCpuPct = await cpuPct();
  await link.close();
  report({ idleCpuPct, steadyCpuPct });
  process.exit(0);
}
const trace = o.trace && o.via === 'query$' ? createTrace() : undefined;
const stamps = trace === undefined ? undefined : new BigInt64Array(trace);
const hopsNs: Record<string, number[]> = {};
/** One resolve's hops from the trace slots (see TraceHop), `t0` its subscribe time, `t9` its `next`. */
function recordHops(t0: bigint, t9: bigint): void {
  const s = (h: number): bigint => Atomics.load(stamps!, h);
  const H = TraceHop;
  const hops: [string, bigint, bigint][] = [
    ['subscribed → queued on main', t0, s(H.QUEUED)],
    ['queued → transmit awake', s(H.QUEUED), s(H.TX_AWAKE)],
    ['transmit awake → sendmmsg returned', s(H.TX_AWAKE), s(H.TX_SENT)],
    ['sendmmsg returned → reply kernel timestamp', s(H.TX_SENT), s(H.RX_KERNEL)],
    ['kernel timestamp → capture callback', s(H.RX_KERNEL), s(H.RX_CALLBACK)],
    ['capture callback → rx ring', s(H.RX_CALLBACK), s(H.RX_RING)],
    ['rx ring → decode reads it', s(H.RX_RING), s(H.DECODE_READ)],
    ['decode → events ring', s(H.DECODE_READ), s(H.EVENT_RING)],
    ['events ring → main thread reads it', s(H.EVENT_RING), s(H.MAIN_READ)],
    ['main read → subscriber next', s(H.MAIN_READ), t9],
    ['total', t0, t9],
  ];
  for (const [name, from, to] of hops) (hopsNs[name] ??= []).push(Number(to - from));
}
// One query, one try, waiting timeoutMs: a lost reply counts as lost rather than being hidden by a retry.
const query = { tries: 1, intervalMs: timeoutMs };
// query$ emits a result with its RTT; resolve$ emits the MAC, a string (mapping it to an object would add an operator
// per call to what is measured: the cap loop has none).
type Answer = string | { readonly rttNs: bigint | null };
let ask: (ip: Ipv4) => Observable<Answer>;
let close = async (): Promise<void> => {};
/** query$ only: how the main thread came by the answers (PipelineStats.main: looks, looked, events), read before close. */
let mainStats = async (): Promise<object> => ({});
if (o.via === 'resolve$') {
  // Made once, as the query options are: on Node 20, { ...query, interface } per call cost ~1 µs to build and as much
  // again to read (V8 gives each such object a map of its own), the caller's cost, not ersatz's (measured).
  const options = { ...query, interface: ifname };
  ask = (ip) => api.resolve$(ip, options);
} else {
  const info = await api.discoverInterface({ ifname, target: first });
  const link = await api.openLink(info, { ...(trace !== undefined && { trace }), sameCpu: o['same-cpu'], idlePoll: o['idle-poll'] });
  const resolver = api.createResolver(link);
  ask = (ip) => resolver.query$(ip, query);
  close = () => link.close();
  mainStats = async () => {
    const { looks, looked, events } = (await link.stats()).main;
    return { looks, looked, events };
  };
}

const latenciesNs: number[] = [];
const captureRttNs: number[] = [];
let lost = 0;

/** Resolves `targets` concurrently; resolves when every one has answered or failed. */
function round(targets: readonly Ipv4[], record: boolean): Promise<void> {
  return new Promise((done) => {
    let left = targets.length;
    const settle = (): void => {
      if (--left === 0) done();
    };
    for (const ip of targets) {
      const t0 = process.hrtime.bigint();
      ask(ip).subscribe({
        next: (a) => {
          if (!record) return;
          const t9 = process.hrtime.bigint();
          latenciesNs.push(Number(t9 - t0));
          if (stamps !== undefined) recordHops(t0, t9);
          if (typeof a !== 'string' && a.rttNs !== null) captureRttNs.push(Number(a.rttNs));
        },
        error: () => {
          if (record) lost++;
          settle();
        },
        complete: settle,
      });
    }
  });
}

const targetsOf = (r: number, n: number): Ipv4[] => Array.from({ length: n }, (_, i) => ((first + ((r * concurrency + i) % span)) >>> 0) as Ipv4);
let r = 0;
for (let done = 0; done < warmup; r++) {
  const n = Math.min(concurrency, warmup - done);
  await round(targetsOf(r, n), false);
  done += n;
}
// Each round starts in the microtask after the last one ended, so resolve$'s shared pipeline (closed on the next
// setImmediate when unused) stays open from one round to the next, as for any caller resolving in a loop.
const start = process.hrtime.bigint();
for (let done = 0; done < count; r++) {
  const n = Math.min(concurrency, count - done);
  await round(targetsOf(r, n), true);
  done += n;
}
const elapsedNs = Number(process.hrtime.bigint() - start);
const main = await mainStats();
await close();
report({ latenciesNs, captureRttNs, lost, elapsedNs, main, ...(stamps === undefined ? {} : { hopsNs }) });
