// The resolve scenario's cold start: whole processes, spawn to exit, interleaved so a noisy moment hits all alike.
//
// - ersatz: `node dist/main.js --target IP`, the one-shot CLI.
// - The one-shot cap script (baselines/resolve-once.mjs): the smallest program doing the same in one thread.
// - The floor (baselines/three-threads.mjs): Node starting three threads that load nothing, which the design's capture,
//   decode and transmit threads cost before any of our code: the note says what ersatz adds to it.
// - `arping -f -c 1`.
// - Peak RSS of ersatz and the cap script from one more run each, with the preload (kept out of the timed runs: it is
//   an --import flag, which worker threads inherit; see runNode).
// - Where ersatz's time goes: TIMELINE_RUNS more runs with -v, whose timeline line gives the moments of the run in ms
//   since the process started, beside the moment the floor's three threads were all up (it prints that).
import type { Lab } from '@ersatz/lab';
import { baseline, check, ersatzCli, lastJson, runNode, runTool } from '../child.js';
import { attempt, judge, Series } from '../measure.js';
import { parseTimeline } from '../parse.js';
import type { PeerTools } from '../peers.js';
import { summarize } from '../stats.js';
import { fmt } from '../table.js';
import type { BenchContext, Measurement } from '../types.js';

const COLD_RUNS = 10;
const TIMELINE_RUNS = 3;
const FLOOR = 'Node + three idle threads';
// The moments `ersatz --target IP -v` marks, in the order they happen (packages/cli: verbose.ts's mark).
const MOMENTS = ['threads started', 'command loaded', 'interface found', 'link open', 'answer printed', 'link closed'] as const;

export interface Cold {
  readonly ersatz: Series;
  readonly once: Series;
  readonly floor: Series;
  readonly arping: Series;
  readonly ersatzRss: Series;
  readonly onceRss: Series;
  /** ms since the process started: each of ersatz's moments, and when the floor's three threads were all up. */
  readonly moments: ReadonlyMap<(typeof MOMENTS)[number], Series>;
  readonly floorUp: Series;
}

export function coldSeries(): Cold {
  return {
    ersatz: new Series(),
    once: new Series(),
    floor: new Series(),
    arping: new Series(),
    ersatzRss: new Series(),
    onceRss: new Series(),
    moments: new Map(MOMENTS.map((m) => [m, new Series()])),
    floorUp: new Series(),
  };
}

/** One rep: COLD_RUNS interleaved runs of each, targets from `targetAt(i)`, then the peak-RSS runs; medians into `cold`. */
export async function coldRuns(
  ctx: BenchContext,
  rep: number,
  lab: Lab,
  ns: string,
  ifname: string,
  arping: PeerTools['arping'],
  cold: Cold,
  targetAt: (i: number) => string,
): Promise<void> {
  let ersatz: ((target: string, peakRss: boolean, more?: readonly string[]) => ReturnType<typeof runNode>) | undefined;
  try {
    const cli = ersatzCli(ctx.root);
    ersatz = (target, peakRss, more = []) => runNode(lab, ns, cli, ['--target', target, '--interface', ifname, ...more], { peakRss });
  } catch (err) {
    cold.ersatz.fail((err as Error).message);
    cold.ersatzRss.fail((err as Error).message);
  }
  const walls: Record<'ersatz' | 'once' | 'floor' | 'arping' | 'ersatzRss' | 'onceRss', number[]> = { ersatz: [], once: [], floor: [], arping: [], ersatzRss: [], onceRss: [] };
  const floorUp: number[] = [];
  const once = (target: string, peakRss: boolean) => runNode(lab, ns, baseline('resolve-once.mjs'), ['--interface', ifname, '--target', target], { peakRss });
  for (let i = 0; i < COLD_RUNS; i++) {
    const target = targetAt(i);
    if (ersatz) await attempt(cold.ersatz, async () => walls.ersatz.push(check('ersatz --target', await ersatz(target, false)).wallMs));
    await attempt(cold.once, async () => walls.once.push(check('resolve-once.mjs', await once(target, false)).wallMs));
    await attempt(cold.floor, async () => {
      const r = check('three-threads.mjs', await runNode(lab, ns, baseline('three-threads.mjs'), [], { peakRss: false }));
      walls.floor.push(r.wallMs);
      floorUp.push(lastJson<{ threadsUpMs: number }>('three-threads.mjs', r).threadsUpMs);
    });
    if (typeof arping === 'string') {
      await attempt(cold.arping, async () => walls.arping.push(check('arping', await runTool(lab, ns, [arping, '-f', '-c', '1', '-w', '1', '-I', ifname, target])).wallMs));
    } else cold.arping.fail(arping.missing);
  }
  const target = targetAt(0);
  if (ersatz) await attempt(cold.ersatzRss, async () => walls.ersatzRss.push(check('ersatz --target', await ersatz(target, true)).peakRssKiB / 1024));
  await attempt(cold.onceRss, async () => walls.onceRss.push(check('resolve-once.mjs', await once(target, true)).peakRssKiB / 1024));
  const moments = new Map<string, number[]>(MOMENTS.map((m) => [m, []]));
  for (let i = 0; i < TIMELINE_RUNS && ersatz; i++) {
    // A failed run is told on the first moment's row (the others then have fewer samples).
    await attempt(cold.moments.get(MOMENTS[0])!, async () => {
      const { stderr } = check('ersatz --target -v', await ersatz!(targetAt(i), false, ['-v']));
      const timeline = parseTimeline(stderr);
      if (timeline === null) throw new Error(`ersatz -v printed no timeline: ${stderr.slice(-300)}`);
      for (const [what, ms] of timeline) moments.get(what)?.push(ms);
    });
  }
  const add = (series: Series, xs: readonly number[]): void => {
    const finite = xs.filter(Number.isFinite);
    if (finite.length) series.add(summarize(finite).median, finite);
  };
  for (const k of Object.keys(walls) as (keyof typeof walls)[]) add(cold[k], walls[k]);
  add(cold.floorUp, floorUp);
  for (const [what, series] of cold.moments) add(series, moments.get(what)!);
  const last = (s: Series): string => s.samples.at(-1)?.toFixed(0) ?? '—';
  ctx.log(
    `resolve: cold, rep ${rep + 1}: ersatz ${last(cold.ersatz)} ms, one-shot cap script ${last(cold.once)} ms, ${FLOOR} ${last(cold.floor)} ms; ` +
      `ersatz's link open at ${last(cold.moments.get('link open')!)} ms, the floor's threads up at ${last(cold.floorUp)} ms`,
  );
}

/** The cold-process row (target: ≤ 1.2× the cap script) and the cold CLI's peak RSS. */
export function coldRows(cold: Cold): Measurement[] {
  const notMeasured = cold.ersatz.samples.length ? undefined : `ersatz not measured: ${cold.ersatz.problems.join('; ') || 'no run'}`;
  return [
    {
      scenario: 'resolve',
      what: 'cold process: node dist/main.js --target IP',
      unit: 'ms',
      better: 'lower',
      ersatz: cold.ersatz.value,
      samples: cold.ersatz.samples,
      peers: [cold.once.peer('one-shot cap script'), cold.floor.peer(FLOOR), cold.arping.peer('arping -f -c 1')],
      target: { text: '≤ 1.2× one-shot cap script', pass: judge([cold.ersatz.value, cold.once.value], () => cold.ersatz.value <= 1.2 * cold.once.value) },
      note: [notMeasured, `median of ${COLD_RUNS} runs each, spawn to exit (ip netns exec included for all), without the peak-RSS preload`, floorNote(cold)].filter(Boolean).join('; '),
    },
    {
      scenario: 'resolve',
      what: 'peak RSS, cold CLI resolve',
      unit: 'MiB',
      better: 'lower',
      ersatz: cold.ersatzRss.value,
      samples: cold.ersatzRss.samples,
      peers: [cold.onceRss.peer('one-shot cap script')],
      note: 'VmHWM, one run per rep with the preload that reads it (ersatz’s workers load it too)',
    },
  ];
}

/**
 * The timeline rows: where a cold `ersatz --target IP` spends its time, ms since the process started (medians of the
 * reps' medians). The floor's threads-up stands beside `link open`: what ersatz's threads and start-up cost beyond it.
 */
export function timelineRows(cold: Cold): Measurement[] {
  return [...cold.moments].map(([what, series], i) => ({
    scenario: 'resolve',
    what: `cold timeline: ${what}`,
    unit: 'ms since start',
    better: 'lower',
    ersatz: series.value,
    samples: series.samples,
    peers: what === 'link open' ? [cold.floorUp.peer(`${FLOOR}: all three up`)] : [],
    // How the rows were measured, said once (on the first).
    note: [
      ...(i === 0 ? [`${TIMELINE_RUNS} runs of ersatz --target IP -v per rep, performance.now() at each moment (-v reads the pipeline's stats before closing)`] : []),
      ...series.problems,
    ].join('; '),
  }));
}

/** What ersatz adds to the floor, and where the floor stands against the cap script. */
function floorNote(cold: Cold): string | undefined {
  if (!cold.ersatz.samples.length || !cold.once.samples.length || !cold.floor.samples.length) return undefined;
  const [ersatz, once, floor] = [cold.ersatz.value, cold.once.value, cold.floor.value];
  return `the floor is ${(floor / once).toFixed(2)}× the cap script; ersatz adds ${fmt(ersatz - floor)} ms to it (${(ersatz / floor).toFixed(2)}× the floor)`;
}
