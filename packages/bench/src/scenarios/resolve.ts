// Resolve latency (issue #4): ersatz's resolve$ beside a plain single-thread cap loop and iputils arping, all inside
// one responderLab (a host and a kernel answering ARP for all of 198.51.100.0/24).
//
// - 1000 sequential resolves, targets cycling over 100 addresses, after 5000 uncounted ones: every latency runs from
//   the caller asking to the answer in the caller's hands (process.hrtime in ersatz's driver and in the cap loop;
//   arping's own clock_gettime around sendto/recvmsg, corrected as below). The warm-up is the same for ersatz and
//   the cap loop: V8 compiles hot code in tiers as it runs, in each of ersatz's four isolates, and rounds 1-50 of
//   100 concurrent resolves measured that (5-15 ms a round), not the pipeline (1.2 ms once warm; issue #12's note).
// - The same query$ loop on a link opened with sameCpu, and on one opened with idlePoll (see PipelineOptions).
// - The same at 10 and 100 concurrent targets (rounds that wait for all their answers), 10 000 counted resolves.
// - What a fresh process sees: the first 1000 query$ (sequential, and 100 concurrent) without warm-up, both tools.
// - Cold start: whole processes, spawn to exit (resolve-cold.ts).
// - Our C AF_PACKET peer's latency mode (one request at a time, polled for its reply): the physical floor.
// - Peak RSS of the ersatz resolve$ loop (the peak-rss preload) beside the cap loop's.
//
// arping's printed RTT carries +0.5 ms (a rounding slip in iputils, see parse.ts): we subtract 500 µs. The figure
// comes from a loop with nothing else on the link; a second loop runs under tcpdump to check the correction against
// the wire timestamps of the same requests and replies (a corrected RTT below the wire RTT would mean it is wrong).
import { responderLab, type Lab } from '@ersatz/lab';
import { check, baseline, lastJson, runDriver, runNode, runTool } from '../child.js';
import { startCapture, wireRtts } from '../capture.js';
import { NotMeasuredError } from '../error.js';
import { attempt, judge, Series } from '../measure.js';
import { ARPING_OFFSET_US, arpingRttsUs } from '../parse.js';
import { findPeers } from '../peers.js';
import { summarize } from '../stats.js';
import { fmt } from '../table.js';
import { coldRows, coldRuns, coldSeries, timelineRows } from './resolve-cold.js';
import type { BenchContext, Measurement, Scenario } from '../types.js';

const CIDR = '198.51.100.0/24';
const FIRST = 0xc6336402; // 198.51.100.2
const SPAN = 100;
const COUNT = 1000;
// Resolves counted at 10 and 100 concurrent targets (both tools): 1000 were 10 rounds at 100, ~12 ms, where one slow
// round moved the rate by a third between reps.
const CONCURRENT_COUNT = 10_000;
const countAt = (concurrency: number): number => (concurrency === 1 ? COUNT : CONCURRENT_COUNT);
const WARMUP = 5000;
/** The C peer needs no JIT warm-up: a few requests to fill caches. */
const C_WARMUP = 50;
const LEVELS = [1, 10, 100] as const;
const TIMEOUT_MS = 1000;
const IDLE_MS = 10_000;

const ip = (n: number): string => `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
const us = (ns: readonly number[]): number[] => ns.map((n) => n / 1000);
const targetsAt = (count: number): string[] => Array.from({ length: count }, (_, i) => ip(FIRST + (i % SPAN)));

interface LoopResult {
  readonly latenciesNs: number[];
  readonly captureRttNs?: number[];
  /** With --trace: hop name → one duration per resolve (see the driver). */
  readonly hopsNs?: Record<string, number[]>;
  readonly lost: number;
  readonly elapsedNs: number;
  /** query$ only: the link's PipelineStats.main counters for the whole run, warm-up included. */
  readonly main?: { readonly looks: number; readonly looked: number; readonly events: number };
}

/** Per concurrency level: latency figures (median, p99) and resolves per second, with the raw latencies. */
class LevelSeries {
  readonly median = new Series();
  readonly p99 = new Series();
  readonly rate = new Series();
  readonly rss = new Series();
  /** query$ only: % of the events the main thread caught by looking right after a send (PipelineStats.main.looked). */
  readonly looked = new Series();
  lost = 0;

  record(r: LoopResult, peakRssKiB: number): void {
    const s = summarize(us(r.latenciesNs));
    if (s.n === 0) throw new NotMeasuredError('resolve', `no resolve answered (${r.lost} lost)`);
    this.median.add(s.median, us(r.latenciesNs));
    this.p99.add(s.p99);
    this.rate.add((r.latenciesNs.length / r.elapsedNs) * 1e9);
    if (Number.isFinite(peakRssKiB)) this.rss.add(peakRssKiB / 1024);
    if (r.main && r.main.events > 0) this.looked.add((100 * r.main.looked) / r.main.events);
    this.lost += r.lost;
  }

  fail(why: string): void {
    for (const s of [this.median, this.p99, this.rate, this.rss]) s.fail(why);
  }
}

/** How one loop runs: uncounted resolves first (default WARMUP), then `count` (default COUNT) counted ones. */
interface LoopRun {
  readonly warmup?: number;
  readonly count?: number;
}

const loopArgs = (ifname: string, concurrency: number, { warmup = WARMUP, count = COUNT }: LoopRun = {}): string[] => [
  '--interface', ifname, '--first', ip(FIRST), '--span', String(SPAN), '--count', String(count),
  '--concurrency', String(concurrency), '--warmup', String(warmup), '--timeout', String(TIMEOUT_MS),
];

async function ersatzLoop(lab: Lab, ns: string, ifname: string, via: 'resolve$' | 'query$', concurrency: number, into: LevelSeries, captureRtt?: Series, loop: LoopRun = {}, flags: readonly string[] = []): Promise<void> {
  try {
    const { result, run } = await runDriver<LoopResult>(lab, ns, 'resolve', ['--via', via, ...loopArgs(ifname, concurrency, loop), ...flags], { timeoutMs: 180_000 });
    into.record(result, run.peakRssKiB);
    if (captureRtt && result.captureRttNs?.length) captureRtt.add(summarize(us(result.captureRttNs)).median);
  } catch (err) {
    into.fail((err as Error).message.split('\n')[0]!);
  }
}

/** Per hop of a traced query$ run: the median and p99 of each rep, in µs. */
type HopSeries = Map<string, { median: Series; p99: Series }>;

/** query$ again with every stage stamping its hrtime (a separate run, so the untraced figures stay clean). */
async function tracedLoop(lab: Lab, ns: string, ifname: string, hops: HopSeries): Promise<void> {
  try {
    const { result } = await runDriver<LoopResult>(lab, ns, 'resolve', ['--via', 'query$', '--trace', ...loopArgs(ifname, 1)], { timeoutMs: 180_000 });
    for (const [name, ns] of Object.entries(result.hopsNs ?? {})) {
      const s = summarize(us(ns));
      const h = hops.get(name) ?? { median: new Series(), p99: new Series() };
      hops.set(name, h);
      h.median.add(s.median, us(ns));
      h.p99.add(s.p99);
    }
  } catch (err) {
    const why = (err as Error).message.split('\n')[0]!;
    for (const h of hops.values()) h.median.fail(why);
  }
}

/** An open link left idle twice IDLE_MS (see the driver): the whole process's CPU, percent of one CPU, per window. */
async function idleLink(lab: Lab, ns: string, ifname: string, into: { first: Series; steady: Series }): Promise<void> {
  await attempt(into.first, async () => {
    const { result } = await runDriver<{ idleCpuPct: number; steadyCpuPct: number }>(lab, ns, 'resolve', ['--via', 'idle', '--interface', ifname, '--first', ip(FIRST), '--idle-ms', String(IDLE_MS)], { timeoutMs: 90_000 });
    into.first.add(result.idleCpuPct);
    into.steady.add(result.steadyCpuPct);
  });
}

async function capLoop(lab: Lab, ns: string, ifname: string, concurrency: number, into: LevelSeries, loop: LoopRun = {}): Promise<void> {
  try {
    const run = await runNode(lab, ns, baseline('resolve-loop.mjs'), loopArgs(ifname, concurrency, loop), { timeoutMs: 180_000 });
    into.record(lastJson<LoopResult>('resolve-loop.mjs', check('resolve-loop.mjs', run)), run.peakRssKiB);
  } catch (err) {
    into.fail((err as Error).message.split('\n')[0]!);
  }
}

/** Our C peer's latency mode: COUNT requests to one IP, one at a time, each polled for its reply (the floor). */
async function cLatency(lab: Lab, ns: string, ifname: string, bin: string, into: { median: Series; p99: Series }): Promise<void> {
  await attempt(into.median, async () => {
    const r = check('arp-peer', await runTool(lab, ns, [bin, 'latency', ifname, ip(FIRST), String(COUNT), String(C_WARMUP)], 60_000));
    const { latenciesNs, lost } = lastJson<{ latenciesNs: number[]; lost: number }>('arp-peer', r);
    if (lost > 0 || latenciesNs.length === 0) throw new Error(`arp-peer: ${lost} of ${COUNT} requests got no reply`);
    const s = summarize(us(latenciesNs));
    into.median.add(s.median, us(latenciesNs));
    into.p99.add(s.p99);
  });
}

/**
 * 1000 arping processes (`-f -c 1 -w 1`, one request each, as one resolve) in a shell loop in `ns`, twice: alone,
 * for the figure (`correctedUs`: the printed RTTs minus ARPING_OFFSET_US; `lost`: how many got no reply), then under
 * a tcpdump on the same interface, to check the correction against the wire (`checkedUs` and `wireUs`, one exchange
 * each). The figure is not taken under the capture: every frame is copied to tcpdump's ring inside arping's own
 * sendto, which made arping 13–16 % slower even without immediate mode (31 against 35–36 µs, measured).
 */
async function arpingLoop(lab: Lab, ns: string, ifname: string, arping: string): Promise<{ correctedUs: number[]; lost: number; checkedUs: number[]; wireUs: number[] }> {
  // `|| true`: an arping without reply exits 1; it is counted as lost below, not as the loop failing.
  const script = `for ip in ${targetsAt(COUNT).join(' ')}; do ${arping} -f -c 1 -w 1 -I ${ifname} $ip || true; done`;
  const alone = check('arping loop', await runTool(lab, ns, ['sh', '-c', script], 300_000));
  const correctedUs = arpingRttsUs(alone.stdout);
  const capture = await startCapture(lab, ns, ifname);
  const watched = await runTool(lab, ns, ['sh', '-c', script], 300_000);
  const frames = await capture.stop();
  check('arping loop under tcpdump', watched);
  return { correctedUs, lost: COUNT - correctedUs.length, checkedUs: arpingRttsUs(watched.stdout), wireUs: us(wireRtts(frames)) };
}

async function run(ctx: BenchContext): Promise<Measurement[]> {
  const peers = findPeers();
  const levels = new Map(LEVELS.map((c) => [c, { ersatz: new LevelSeries(), cap: new LevelSeries() }]));
  const query = new LevelSeries();
  const queryOneCpu = new LevelSeries();
  const queryIdlePoll = new LevelSeries();
  const queryOwnRtt = new Series();
  const hops: HopSeries = new Map();
  const idle = { first: new Series(), steady: new Series() };
  const arping = { median: new Series(), p99: new Series(), wire: new Series(), lost: 0, belowWire: 0, unpaired: false };
  const cPeer = { median: new Series(), p99: new Series() };
  const cold = coldSeries();
  const fresh: Fresh = { one: { ersatz: new LevelSeries(), cap: new LevelSeries() }, hundred: { ersatz: new LevelSeries(), cap: new LevelSeries() } };

  const { lab, host } = responderLab('bres', { cidr: CIDR });
  try {
    const { ns, ifname } = host;
    for (let rep = 0; rep < ctx.reps; rep++) {
      for (const c of LEVELS) {
        const l = levels.get(c)!;
        await ersatzLoop(lab, ns, ifname, 'resolve$', c, l.ersatz, undefined, { count: countAt(c) });
        await capLoop(lab, ns, ifname, c, l.cap, { count: countAt(c) });
        ctx.log(`resolve: ${c} concurrent, rep ${rep + 1}/${ctx.reps}: median ersatz ${l.ersatz.median.samples.at(-1)?.toFixed(1) ?? '—'} µs, cap loop ${l.cap.median.samples.at(-1)?.toFixed(1) ?? '—'} µs`);
      }
      await ersatzLoop(lab, ns, ifname, 'query$', 1, query, queryOwnRtt);
      await ersatzLoop(lab, ns, ifname, 'query$', 1, queryOneCpu, undefined, {}, ['--same-cpu']);
      await ersatzLoop(lab, ns, ifname, 'query$', 1, queryIdlePoll, undefined, {}, ['--idle-poll']);
      for (const [c, level] of [[1, fresh.one], [100, fresh.hundred]] as const) {
        await ersatzLoop(lab, ns, ifname, 'query$', c, level.ersatz, undefined, { warmup: 0 });
        await capLoop(lab, ns, ifname, c, level.cap, { warmup: 0 });
      }
      await tracedLoop(lab, ns, ifname, hops);
      await idleLink(lab, ns, ifname, idle);
      ctx.log(`resolve: traced query$ rep ${rep + 1}: total ${hops.get('total')?.median.samples.at(-1)?.toFixed(1) ?? '—'} µs; idle link ${idle.first.samples.at(-1)?.toFixed(2) ?? '—'} % CPU, then ${idle.steady.samples.at(-1)?.toFixed(2) ?? '—'} %`);

      if (typeof peers.arpPeer === 'string') await cLatency(lab, ns, ifname, peers.arpPeer, cPeer);
      else cPeer.median.fail(peers.arpPeer.missing);
      if (typeof peers.arping === 'string') {
        const a = await attempt(arping.median, () => arpingLoop(lab, ns, ifname, peers.arping as string));
        if (a && a.correctedUs.length) {
          const corrected = summarize(a.correctedUs);
          arping.median.add(corrected.median, a.correctedUs);
          arping.p99.add(corrected.p99);
          arping.lost += a.lost;
          if (a.wireUs.length) arping.wire.add(summarize(a.wireUs).median, a.wireUs);
          // Without loss the watched loop's i-th printed RTT and i-th wire RTT are one exchange: a corrected RTT below
          // its wire RTT would prove the correction wrong.
          if (a.wireUs.length === a.checkedUs.length) arping.belowWire += a.checkedUs.filter((c, i) => c < a.wireUs[i]!).length;
          else arping.unpaired = true;
          ctx.log(`resolve: arping rep ${rep + 1}: printed − ${ARPING_OFFSET_US} µs: median ${corrected.median.toFixed(1)} µs; wire ${arping.wire.samples.at(-1)?.toFixed(1) ?? '—'} µs`);
        } else if (a) {
          arping.median.fail(`arping: no reply in ${COUNT} tries`);
          arping.p99.fail(`arping: no reply in ${COUNT} tries`);
        }
      } else {
        arping.median.fail(peers.arping.missing);
        arping.p99.fail(peers.arping.missing);
      }

      await coldRuns(ctx, rep, lab, ns, ifname, peers.arping, cold, (i) => ip(FIRST + (i % SPAN)));
    }
  } finally {
    lab.destroy();
  }
  return [...rows(levels, query, queryOneCpu, queryIdlePoll, queryOwnRtt, arping, cPeer), ...coldRows(cold), ...timelineRows(cold), ...freshRows(fresh), ...hopRows(hops), idleRow(idle.first, 'first'), idleRow(idle.steady, 'then')];
}

/** The first resolves of a fresh process, before any warm-up, at 1 and 100 concurrent: ersatz's query$ and the cap loop. */
interface Fresh {
  readonly one: { readonly ersatz: LevelSeries; readonly cap: LevelSeries };
  readonly hundred: { readonly ersatz: LevelSeries; readonly cap: LevelSeries };
}

// What a short-lived process sees: V8 still compiling its hot code (in four isolates for ersatz, one for the cap
// loop). Shown without a target: the targets above are judged warm, as a long-lived caller runs.
function freshRows(fresh: Fresh): Measurement[] {
  const capName = 'single-thread cap loop, no warm-up';
  const p99 = (l: LevelSeries, who: string): string | undefined => (l.p99.samples.length ? `${who} p99 ${fmt(l.p99.value)} µs` : undefined);
  const notes = (...parts: (string | undefined)[]): string => parts.filter(Boolean).join('; ');
  const row = (level: Fresh['one'], figure: 'median' | 'rate', what: string, unit: string, better: 'lower' | 'higher'): Measurement => {
    const series = level.ersatz[figure];
    return {
      scenario: 'resolve',
      what,
      unit,
      better,
      ersatz: series.value,
      samples: series.samples,
      peers: [level.cap[figure].peer(capName)],
      note: notes(p99(level.ersatz, 'ersatz'), p99(level.cap, 'cap loop'), ...series.problems),
    };
  };
  return [
    row(fresh.one, 'median', `fresh process: first ${COUNT} sequential query$, no warm-up: median`, 'µs', 'lower'),
    row(fresh.hundred, 'rate', `fresh process: first ${COUNT} query$ at 100 concurrent, no warm-up`, 'resolves/s', 'higher'),
  ];
}

/** One row per hop of the traced query$ run, in pipeline order: median (the figure) and p99 (in the note). */
function hopRows(hops: HopSeries): Measurement[] {
  return [...hops].map(([name, h]) => ({
    scenario: 'resolve',
    what: `query$ hop: ${name}`,
    unit: 'µs',
    better: 'lower',
    ersatz: h.median.value,
    samples: h.median.samples,
    peers: [],
    note: `p99 ${fmt(h.p99.value)} µs (median of reps); stamps: process.hrtime in each thread, the reply's kernel timestamp mapped from realtime${h.median.problems.length ? `; ${h.median.problems.join('; ')}` : ''}`,
  }));
}

// The target is the link's own cost: the second window. The first, right after opening, also holds V8's
// post-start collections in four isolates; it is shown so that cost stays visible.
function idleRow(idle: Series, window: 'first' | 'then'): Measurement {
  const steady = window === 'then';
  return {
    scenario: 'resolve',
    what: `open link, idle: CPU of the whole process, ${steady ? 'the next' : 'first'} ${IDLE_MS / 1000} s${steady ? '' : ' (from 2 s after open)'}`,
    unit: '% of one CPU',
    better: 'lower',
    ersatz: idle.value,
    samples: idle.samples,
    peers: [],
    ...(steady ? { target: { text: '≤ 1 %', pass: judge([idle.value], () => idle.value <= 1) } } : {}),
    ...(idle.problems.length ? { note: idle.problems.join('; ') } : {}),
  };
}

function rows(
  levels: Map<number, { ersatz: LevelSeries; cap: LevelSeries }>,
  query: LevelSeries,
  queryOneCpu: LevelSeries,
  queryIdlePoll: LevelSeries,
  queryOwnRtt: Series,
  arping: { median: Series; p99: Series; wire: Series; lost: number; belowWire: number; unpaired: boolean },
  cPeer: { median: Series; p99: Series },
): Measurement[] {
  const one = levels.get(1)!;
  const e = one.ersatz;
  const why = (s: Series): string | undefined => (s.samples.length ? undefined : s.problems.join('; ') || 'not measured');
  const capName = 'single-thread cap loop';
  const arpingName = `arping (printed − ${ARPING_OFFSET_US} µs)`;
  const cName = 'C AF_PACKET peer';
  const arpingNote =
    arping.median.samples.length === 0
      ? undefined
      : `arping: timed with nothing else on the link; a second loop under tcpdump (host veth): wire RTT median ${fmt(arping.wire.value)} µs, ` +
        (arping.unpaired ? 'printed and wire RTTs could not be paired (loss)' : `${arping.belowWire} corrected RTTs below their wire RTT`) +
        (arping.lost ? `; ${arping.lost} without reply` : '');
  const lostNote = (l: LevelSeries, name: string): string => (l.lost ? `${name}: ${l.lost} resolves got no reply within ${TIMEOUT_MS} ms` : '');
  const notes = (...parts: (string | undefined)[]): string | undefined => parts.filter(Boolean).join('; ') || undefined;
  const spec = `${COUNT} resolves over ${SPAN} targets after ${WARMUP} uncounted (the same warm-up for the cap loop); one try each`;
  // #12's target for query$ on an open link.
  const asArping = (q: LevelSeries): Measurement['target'] => ({
    text: 'median ≤ arping, p99 ≤ 500 µs',
    pass: judge([q.median.value, q.p99.value, arping.median.value], () => q.median.value <= arping.median.value && q.p99.value <= 500),
  });

  // The query$ loop on a link opened with one option set, beside the default link (the row above it) and arping.
  const linkOption = (q: LevelSeries, option: 'sameCpu' | 'idlePoll', otherwise: string, what: string): Measurement => ({
    scenario: 'resolve',
    what: `${COUNT} sequential, query$ on a link opened with ${option}: median`,
    unit: 'µs',
    better: 'lower',
    ersatz: q.median.value,
    samples: q.median.samples,
    peers: [query.median.peer(`query$, ${otherwise} (above)`), arping.median.peer(arpingName), cPeer.median.peer(cName)],
    target: asArping(q),
    note: notes(
      why(q.median) && `not measured: ${why(q.median)}`,
      `openLink({ ${option}: true }): ${what}`,
      q.p99.samples.length ? `p99 ${fmt(q.p99.value)} µs` : undefined,
      lostNote(q, 'ersatz'),
    ),
  });

  const out: Measurement[] = [
    {
      scenario: 'resolve',
      what: `${COUNT} sequential resolves (resolve$): median`,
      unit: 'µs',
      better: 'lower',
      ersatz: e.median.value,
      samples: e.median.samples,
      raw: e.median.raw,
      peers: [one.cap.median.peer(capName), arping.median.peer(arpingName), cPeer.median.peer(cName)],
      target: { text: '≤ 1.5× query$ (below)', pass: judge([e.median.value, query.median.value], () => e.median.value <= 1.5 * query.median.value) },
      note: notes(why(e.median) && `ersatz not measured: ${why(e.median)}`, spec, arpingNote, lostNote(e, 'ersatz'), lostNote(one.cap, capName)),
      plot: { chart: 'latency', label: 'ersatz resolve$' },
    },
    {
      scenario: 'resolve',
      what: `${COUNT} sequential resolves (resolve$): p99`,
      unit: 'µs',
      better: 'lower',
      ersatz: e.p99.value,
      samples: e.p99.samples,
      peers: [one.cap.p99.peer(capName), arping.p99.peer(arpingName), cPeer.p99.peer(cName)],
    },
    {
      scenario: 'resolve',
      what: `${COUNT} sequential, Resolver.query$ on an open link: median`,
      unit: 'µs',
      better: 'lower',
      ersatz: query.median.value,
      samples: query.median.samples,
      raw: query.median.raw,
      peers: [one.cap.median.peer(capName), arping.median.peer(arpingName), cPeer.median.peer(cName)],
      target: asArping(query),
      note: notes(
        why(query.median) && `not measured: ${why(query.median)}`,
        'the pipeline without resolve$’s per-call route lookup',
        query.p99.samples.length ? `p99 ${fmt(query.p99.value)} µs` : undefined,
        queryOwnRtt.samples.length ? `ersatz's own RTT, departure to reply capture: median ${fmt(queryOwnRtt.value)} µs` : undefined,
        query.looked.samples.length ? `${fmt(query.looked.value)} % of the events caught by the main thread looking right after the send (PipelineStats.main.looked), the rest by waking it` : undefined,
        lostNote(query, 'ersatz'),
      ),
      plot: { chart: 'latency', label: 'ersatz Resolver.query$' },
    },
    linkOption(queryOneCpu, 'sameCpu', 'threads on any CPU', 'the three threads and the caller on one CPU, each hand-off a context switch instead of waking another vCPU'),
    linkOption(queryIdlePoll, 'idlePoll', 'idle CPUs halting', 'a 0 µs CPU latency request held while open, so idle CPUs poll instead of halting and a hand-off wakes no halted vCPU'),
  ];
  for (const c of LEVELS.filter((l) => l > 1)) {
    const l = levels.get(c)!;
    out.push({
      scenario: 'resolve',
      what: `${c} concurrent targets × ${countAt(c) / c} rounds: median`,
      unit: 'µs',
      better: 'lower',
      ersatz: l.ersatz.median.value,
      samples: l.ersatz.median.samples,
      peers: [l.cap.median.peer(capName)],
      ...(c === 100 && {
        target: { text: 'resolves/s ≥ the cap loop’s', pass: judge([l.ersatz.rate.value, l.cap.rate.value], () => l.ersatz.rate.value >= l.cap.rate.value) },
      }),
      note: notes(
        why(l.ersatz.median) && `ersatz not measured: ${why(l.ersatz.median)}`,
        l.ersatz.p99.samples.length ? `ersatz p99 ${fmt(l.ersatz.p99.value)} µs, ${fmt(l.ersatz.rate.value)} resolves/s` : undefined,
        l.cap.p99.samples.length ? `cap loop p99 ${fmt(l.cap.p99.value)} µs, ${fmt(l.cap.rate.value)} resolves/s` : undefined,
        lostNote(l.ersatz, 'ersatz'),
        lostNote(l.cap, capName),
      ),
    });
  }
  out.push(
    {
      scenario: 'resolve',
      what: `peak RSS, ${COUNT} sequential resolves (resolve$)`,
      unit: 'MiB',
      better: 'lower',
      ersatz: e.rss.value,
      samples: e.rss.samples,
      peers: [one.cap.rss.peer(capName)],
      note: 'VmHWM of the whole process (all threads), read at exit',
    },
  );
  return out;
}

export const scenario: Scenario = {
  name: 'resolve',
  description: `resolve latency in a namespace lab: ${COUNT} sequential and at 10/100 concurrent targets, cold start, peak RSS; vs a single-thread cap loop and arping`,
  run,
};
