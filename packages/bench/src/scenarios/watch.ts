// The watch detector over a long capture (issue #16): 10 million ARP frames of a /16 LAN replayed through what
// `ersatz watch --replay` runs, the station database included (drivers/watch-replay.ts writes the capture and replays
// it). Memory must follow the stations, not the frames: the V8 heap after a full GC every million frames, with the
// growth read off the least-squares line through those readings (as the memory scenario does for sweeps), and the RSS
// (the capture is streamed, never held whole). No lab: nothing is sent.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { driver } from '../child.js';
import { Series } from '../measure.js';
import { trend } from '../stats.js';
import type { BenchContext, Measurement, Scenario } from '../types.js';

const FRAMES = 10_000_000;
const EVERY = 1_000_000;

interface ReplayResult {
  readonly samples: readonly { frames: number; heapUsedKiB: number; rssKiB: number }[];
  readonly frames: number;
  readonly events: number;
  readonly elapsedMs: number;
  readonly fileBytes: number;
}

async function run(ctx: BenchContext): Promise<Measurement[]> {
  const growth = new Series();
  const rate = new Series();
  const rss = new Series();
  const notes: string[] = [];
  for (let rep = 0; rep < ctx.reps; rep++) {
    const dir = mkdtempSync(join(tmpdir(), 'ersatz-bench-watch-'));
    try {
      const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', driver('watch-replay'), '--frames', String(FRAMES), '--every', String(EVERY), '--dir', dir], { timeout: 600_000, maxBuffer: 1 << 20 });
      const r = JSON.parse(stdout) as ReplayResult;
      const heap = trend(r.samples.map((s) => s.heapUsedKiB));
      growth.add(((heap.last - heap.first) / heap.first) * 100, r.samples.map((s) => s.heapUsedKiB / 1024));
      rate.add(r.frames / (r.elapsedMs / 1000));
      rss.add(trend(r.samples.map((s) => s.rssKiB)).last / 1024);
      notes.push(`heap (MiB) ${r.samples.map((s) => (s.heapUsedKiB / 1024).toFixed(1)).join(' ')}, ${r.events} events, capture ${(r.fileBytes / 2 ** 20).toFixed(0)} MiB`);
      ctx.log(`watch, rep ${rep + 1}/${ctx.reps}: ${notes.at(-1)}, ${(r.elapsedMs / 1000).toFixed(1)} s`);
    } catch (err) {
      const why = (err as Error).message.split('\n')[0]!;
      for (const x of [growth, rate, rss]) x.fail(why);
      ctx.log(`watch: ${why}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const notMeasured = growth.samples.length ? undefined : `not measured: ${growth.problems.join('; ')}`;
  return [
    {
      scenario: 'watch',
      what: `V8 heap growth over a ${FRAMES / 1e6} M-frame replay (fitted line, reading 1 → ${FRAMES / EVERY})`,
      unit: '%',
      better: 'lower',
      ersatz: growth.value,
      samples: growth.samples,
      raw: growth.raw,
      peers: [],
      target: { text: 'flat: < 10 %', pass: growth.samples.length ? growth.value < 10 : null },
      note: notMeasured ?? notes.join(' | '),
    },
    { scenario: 'watch', what: 'watch --replay: frames judged per second (detector and SQLite)', unit: 'frames/s', better: 'higher', ersatz: rate.value, samples: rate.samples, peers: [], ...(notMeasured && { note: notMeasured }) },
    {
      scenario: 'watch',
      what: 'watch --replay: RSS at the end (the capture is read a chunk at a time)',
      unit: 'MiB',
      better: 'lower',
      ersatz: rss.value,
      samples: rss.samples,
      peers: [],
      ...(notMeasured && { note: notMeasured }),
    },
  ];
}

export const scenario: Scenario = {
  name: 'watch',
  description: `the watch detector and station database over a ${FRAMES / 1e6} M-frame capture: memory flat, frames per second`,
  run,
};
