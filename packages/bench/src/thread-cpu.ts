// CPU time by thread of the process this runs in (Linux /proc): where a sweep's CPU goes, pipeline stage by stage.
// The stages' threads carry their names (announceLoaded in @ersatz/ring); the main thread is the one whose id is the
// process's; the rest are Node's and V8's helpers (the optimising compiler, the garbage collector's parallel tasks,
// libuv's pool).
import { readdirSync, readFileSync } from 'node:fs';
import { stageThreads } from '@ersatz/pipeline/prestart';
import { osThreadName } from '@ersatz/ring';

/** One thread: its name and its CPU time so far (ns). */
export interface ThreadCpu {
  readonly tid: number;
  readonly name: string;
  readonly ns: number;
}

export const CPU_GROUPS = ['main', 'capture', 'decode', 'transmit', 'other'] as const;
export type CpuGroup = (typeof CPU_GROUPS)[number];

// A stage's thread by the name its OS thread carries.
const STAGE_BY_NAME = new Map(Object.entries(stageThreads()).map(([stage, t]) => [osThreadName(t.name), stage as CpuGroup]));

/** The first field of /proc/…/schedstat: time spent on a CPU, in ns (exact, unlike the stat file's clock ticks). */
export function parseSchedstat(text: string): number {
  const m = /^(\d+)\s+\d+\s+\d+\s*$/.exec(text);
  const ns = Number(m?.[1]);
  if (!m || !Number.isSafeInteger(ns)) throw new Error(`schedstat: expected "<ns> <ns> <count>", got ${JSON.stringify(text.slice(0, 60))}`);
  return ns;
}

/** This process's threads now; a thread that ends while they are read is left out. */
export function readThreadCpu(): ThreadCpu[] {
  const out: ThreadCpu[] = [];
  for (const entry of readdirSync('/proc/self/task')) {
    try {
      const name = readFileSync(`/proc/self/task/${entry}/comm`, 'utf8').trim();
      out.push({ tid: Number(entry), name, ns: parseSchedstat(readFileSync(`/proc/self/task/${entry}/schedstat`, 'utf8')) });
    } catch {
      // It ended between the listing and the read.
    }
  }
  return out;
}

/**
 * CPU ms each group spent between two readings: a thread's `after` minus its `before` (0 for a thread that started
 * in between). A thread that ended in between is not counted.
 */
export function cpuByGroup(before: readonly ThreadCpu[], after: readonly ThreadCpu[], mainTid: number): Record<CpuGroup, number> {
  const start = new Map(before.map((t) => [t.tid, t.ns]));
  const ms = { main: 0, capture: 0, decode: 0, transmit: 0, other: 0 };
  for (const t of after) {
    const group: CpuGroup = t.tid === mainTid ? 'main' : (STAGE_BY_NAME.get(t.name) ?? 'other');
    ms[group] += (t.ns - (start.get(t.tid) ?? 0)) / 1e6;
  }
  return ms;
}
