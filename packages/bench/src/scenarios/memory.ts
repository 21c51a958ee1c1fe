// Memory over time (issue #7): 10 consecutive /16 sweeps through the API (openLink once, scan$ ten times) in one
// process inside a responderLab, its resident set read after each sweep and a full GC. A leak of even a few bytes
// per host shows as growth from one sweep to the next; the first sweep pays for everything allocated once (worker
// threads, rings, JIT code), so growth is measured from there: along the least-squares line through the ten readings
// (one reading moves by several % from sweep to sweep, with the allocator and how many hosts answered), from its value
// at sweep 1 to its value at sweep 10. The readings themselves, and the plain last-vs-first growth, are in the note.
import { responderLab } from '@ersatz/lab';
import { runDriver } from '../child.js';
import { Series } from '../measure.js';
import { trend } from '../stats.js';
import type { BenchContext, Measurement, Scenario } from '../types.js';

const CIDR = '10.77.0.0/16';
const SWEEPS = 10;

interface SweepsResult {
  readonly sweeps: readonly { hosts: number; answered: number; elapsedMs: number; rssKiB: number; heapUsedKiB: number }[];
}

async function run(ctx: BenchContext): Promise<Measurement[]> {
  const growth = new Series();
  const endpoints = new Series();
  const heapGrowth = new Series();
  const peak = new Series();
  const answered: string[] = [];
  const { lab, host } = responderLab('bmem', { cidr: CIDR });
  try {
    for (let rep = 0; rep < ctx.reps; rep++) {
      try {
        const { result, run } = await runDriver<SweepsResult>(lab, host.ns, 'sweeps', ['--interface', host.ifname, '--cidr', CIDR, '--sweeps', String(SWEEPS)], {
          timeoutMs: 600_000,
          nodeFlags: ['--expose-gc'],
        });
        const s = result.sweeps;
        const rss = trend(s.map((x) => x.rssKiB));
        const heap = trend(s.map((x) => x.heapUsedKiB));
        growth.add(((rss.last - rss.first) / rss.first) * 100, s.map((x) => x.rssKiB / 1024));
        endpoints.add(((s.at(-1)!.rssKiB - s[0]!.rssKiB) / s[0]!.rssKiB) * 100);
        heapGrowth.add(((heap.last - heap.first) / heap.first) * 100);
        if (Number.isFinite(run.peakRssKiB)) peak.add(run.peakRssKiB / 1024);
        answered.push(s.map((x) => `${x.answered}`).join(' '));
        ctx.log(`memory, rep ${rep + 1}/${ctx.reps}: RSS after each sweep (MiB): ${s.map((x) => (x.rssKiB / 1024).toFixed(0)).join(' ')}`);
      } catch (err) {
        const why = (err as Error).message.split('\n')[0]!;
        for (const x of [growth, endpoints, heapGrowth, peak]) x.fail(why);
        ctx.log(`memory: ${why}`);
      }
    }
  } finally {
    lab.destroy();
  }
  const notMeasured = growth.samples.length ? undefined : `ersatz not measured: ${growth.problems.join('; ')}`;
  return [
    {
      scenario: 'memory',
      what: `RSS growth, sweep 1 → ${SWEEPS} of /16 in one process (fitted line)`,
      unit: '%',
      better: 'lower',
      ersatz: growth.value,
      samples: growth.samples,
      raw: growth.raw,
      peers: [],
      target: { text: '< 10 % after the first sweep', pass: growth.samples.length ? growth.value < 10 : null },
      note:
        notMeasured ??
        `RSS after each sweep and a full GC (MiB): ${growth.raw.map((x) => x.toFixed(0)).join(' ')}; last vs first reading ` +
          `${endpoints.value.toFixed(1)} %; V8 heap used (same fit) ${heapGrowth.value.toFixed(1)} %; ` +
          `hosts answered per sweep: ${answered.join(' | ')}`,
    },
    {
      scenario: 'memory',
      what: `peak RSS, ${SWEEPS} × /16 sweeps in one process`,
      unit: 'MiB',
      better: 'lower',
      ersatz: peak.value,
      samples: peak.samples,
      peers: [],
      ...(notMeasured && { note: notMeasured }),
    },
  ];
}

export const scenario: Scenario = {
  name: 'memory',
  description: `RSS across ${SWEEPS} consecutive /16 sweeps through the API in one process`,
  run,
};
