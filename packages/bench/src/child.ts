// Running what the scenarios measure (ersatz, its peers, the baselines) inside a lab namespace, timed from spawn to
// exit, with the peak RSS of Node processes read by the peak-rss preload.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lab, RunResult } from '@ersatz/lab';
import { NotMeasuredError, ToolError } from './error.js';

export interface ToolRun extends RunResult {
  /** Spawn to exit, ms (`ip netns exec` included: the same few ms for every tool). */
  readonly wallMs: number;
}

export interface NodeRun extends ToolRun {
  /** Peak resident set of the Node process, KiB (NaN when it died before its exit handlers ran). */
  readonly peakRssKiB: number;
}

const PROBE = new URL('./probe/peak-rss.js', import.meta.url).href;

/** Runs `argv` in `ns` and times it. Never throws for a non-zero exit (see `check`). */
export async function runTool(lab: Lab, ns: string, argv: readonly string[], timeoutMs = 120_000): Promise<ToolRun> {
  const t0 = performance.now();
  const r = await lab.exec(ns, argv, { timeoutMs });
  return { ...r, wallMs: performance.now() - t0 };
}

/**
 * Runs `node [nodeFlags] script args` in `ns` with the peak-RSS preload (unless `peakRss: false`: then peakRssKiB is
 * NaN). Never throws for a non-zero exit. The preload is a `--import` flag, which worker threads inherit: each of
 * ersatz's three workers then starts the ESM loader and loads it too (~120 ms of a cold start measured here), so
 * time cold starts without it.
 */
export async function runNode(
  lab: Lab,
  ns: string,
  script: string,
  args: readonly string[],
  opts: { timeoutMs?: number; nodeFlags?: readonly string[]; peakRss?: boolean } = {},
): Promise<NodeRun> {
  const dir = mkdtempSync(join(tmpdir(), 'ersatz-bench-'));
  const file = join(dir, 'rss');
  try {
    const t0 = performance.now();
    const probe = opts.peakRss === false ? [] : ['--import', PROBE];
    const r = await lab.exec(ns, [process.execPath, ...(opts.nodeFlags ?? []), ...probe, script, ...args], {
      timeoutMs: opts.timeoutMs ?? 120_000,
      env: { ...process.env, ERSATZ_BENCH_RSS_FILE: file },
    });
    const wallMs = performance.now() - t0;
    let peakRssKiB = Number.NaN;
    try {
      peakRssKiB = Number(readFileSync(file, 'utf8').trim().split('\n').at(-1));
    } catch {
      // no file: the process was killed before its exit handlers ran
    }
    return { ...r, wallMs, peakRssKiB };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Returns `r` when it exited 0; throws ToolError naming `tool` otherwise. */
export function check<T extends RunResult>(tool: string, r: T): T {
  if (r.code !== 0) throw new ToolError(tool, r.code, r.signal, r.stderr);
  return r;
}

/** The last line of `stdout` that parses as a JSON object; throws ToolError naming `tool` when there is none. */
export function lastJson<T>(tool: string, r: RunResult): T {
  const lines = r.stdout.trim().split('\n').reverse();
  for (const line of lines) {
    if (!line.startsWith('{')) continue;
    try {
      return JSON.parse(line) as T;
    } catch {
      // not JSON after all: keep looking
    }
  }
  throw new ToolError(tool, r.code, r.signal, `${r.stderr}\nno JSON object on stdout: ${r.stdout.slice(-200)}`);
}

/** The path of a single-thread baseline script (packages/bench/baselines/NAME). */
export function baseline(name: string): string {
  return fileURLToPath(new URL(`../baselines/${name}`, import.meta.url));
}

/** The path of an ersatz driver (dist/drivers/NAME.js). */
export function driver(name: string): string {
  return fileURLToPath(new URL(`./drivers/${name}.js`, import.meta.url));
}

/** The ersatz CLI (`dist/main.js` under the repository root). Throws NotMeasuredError when it has not been built. */
export function ersatzCli(root: string): string {
  const path = join(root, 'dist', 'main.js');
  if (!existsSync(path)) throw new NotMeasuredError('ersatz', 'dist/main.js is missing: run npm run build');
  return path;
}

/**
 * Runs an ersatz driver in `ns` and returns its JSON line and the run. Throws NotMeasuredError when the driver
 * could not load ersatz (exit 3), ToolError when it failed otherwise.
 */
export async function runDriver<T>(lab: Lab, ns: string, name: string, args: readonly string[], opts: { timeoutMs?: number; nodeFlags?: readonly string[] } = {}): Promise<{ result: T; run: NodeRun }> {
  const run = await runNode(lab, ns, driver(name), args, opts);
  if (run.code === 3) throw new NotMeasuredError('ersatz', lastJson<{ unavailable: string }>(`ersatz ${name} driver`, run).unavailable);
  return { result: lastJson<T>(`ersatz ${name} driver`, check(`ersatz ${name} driver`, run)), run };
}
