// The resolve scenario's cold start: whole processes, spawn to exit, interleaved so a noisy moment hits all alike.
//
// - ersatz: `node dist/main.js --target IP`, the one-shot CLI.
// - The one-shot cap script (baselines/resolve-once.mjs): the smallest program doing the same in one thread.
// - The floor (baselines/three-threads.mjs): Node starting three threads that load nothing, which the design's capture,
//   decode and transmit threads cost before any of our code: the note says what ersatz adds to it.
// - `arping -f -c 1`.
// - Peak RSS of ersatz and the cap script from one more run each, with the preload (kept out of the timed runs: it is
//   an --import flag, which worker threads inherit; see runNode).
import type { Lab } from '@ersatz/lab';
import { baseline, check, ersatzCli, runNode, runTool } from '../child.js';
import { attempt, judge, Series } from '../measure.js';
import type { PeerTools } from '../peers.js';
import { summarize } from '../stats.js';
import { fmt } from '../table.js';
import type { BenchContext, Measurement } from '../types.js';

const COLD_RUNS = 10;
const FLOOR = 'Node + three idle threads';

export interface Cold {
  readonly ersatz: Series;
  readonly once: Series;
  readonly floor: Series;
  readonly arping: Series;
  readonly ersatzRss: Series;
  readonly onceRss: Series;
}

export function coldSeries(): Cold {
  return { ersatz: new Series(), once: new Series(), floor: new Series(), arping: new Series(), ersatzRss: new Series(), onceRss: new Series() };
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
  let ersatz: ((target: string, peakRss: boolean) => ReturnType<typeof runNode>) | undefined;
  try {
    const cli = ersatzCli(ctx.root);
    ersatz = (target, peakRss) => runNode(lab, ns, cli, ['--target', target, '--interface', ifname], { peakRss });
  } catch (err) {
    cold.ersatz.fail((err as Error).message);
    cold.ersatzRss.fail((err as Error).message);
  }
  const walls: Record<keyof Cold, number[]> = { ersatz: [], once: [], floor: [], arping: [], ersatzRss: [], onceRss: [] };
  const once = (target: string, peakRss: boolean) => runNode(lab, ns, baseline('resolve-once.mjs'), ['--interface', ifname, '--target', target], { peakRss });
  for (let i = 0; i < COLD_RUNS; i++) {
    const target = targetAt(i);
    if (ersatz) await attempt(cold.ersatz, async () => walls.ersatz.push(check('ersatz --target', await ersatz(target, false)).wallMs));
    await attempt(cold.once, async () => walls.once.push(check('resolve-once.mjs', await once(target, false)).wallMs));
    await attempt(cold.floor, async () => walls.floor.push(check('three-threads.mjs', await runNode(lab, ns, baseline('three-threads.mjs'), [], { peakRss: false })).wallMs));
    if (typeof arping === 'string') {
      await attempt(cold.arping, async () => walls.arping.push(check('arping', await runTool(lab, ns, [arping, '-f', '-c', '1', '-w', '1', '-I', ifname, target])).wallMs));
    } else cold.arping.fail(arping.missing);
  }
  const target = targetAt(0);
  if (ersatz) await attempt(cold.ersatzRss, async () => walls.ersatzRss.push(check('ersatz --target', await ersatz(target, true)).peakRssKiB / 1024));
  await attempt(cold.onceRss, async () => walls.onceRss.push(check('resolve-once.mjs', await once(target, true)).peakRssKiB / 1024));
  for (const k of Object.keys(walls) as (keyof Cold)[]) {
    const xs = walls[k].filter(Number.isFinite);
    if (xs.length) cold[k].add(summarize(xs).median, xs);
  }
  const last = (s: Series): string => s.samples.at(-1)?.toFixed(0) ?? '—';
  ctx.log(`resolve: cold, rep ${rep + 1}: ersatz ${last(cold.ersatz)} ms, one-shot cap script ${last(cold.once)} ms, ${FLOOR} ${last(cold.floor)} ms`);
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

/** What ersatz adds to the floor, and where the floor stands against the cap script. */
function floorNote(cold: Cold): string | undefined {
  if (!cold.ersatz.samples.length || !cold.once.samples.length || !cold.floor.samples.length) return undefined;
  const [ersatz, once, floor] = [cold.ersatz.value, cold.once.value, cold.floor.value];
  return `the floor is ${(floor / once).toFixed(2)}× the cap script; ersatz adds ${fmt(ersatz - floor)} ms to it (${(ersatz / floor).toFixed(2)}× the floor)`;
}
