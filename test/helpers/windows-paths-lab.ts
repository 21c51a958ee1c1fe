// Runs test/helpers/windows-paths-probe.js inside a lab namespace and reads back what it printed.
import type { Lab } from '@ersatz/lab';

const PROBE = new URL('./windows-paths-probe.js', import.meta.url).pathname;
/** Handles an exited probe may still hold without keeping anything alive: its stdio pipes. */
const STDIO = new Set(['PipeWrap', 'TTYWrap', 'FSReqCallback']);

export interface ProbeRun<T> {
  readonly result: T;
  /** What process.getActiveResourcesInfo() still listed after close(), stdio excluded: [] when nothing leaked. */
  readonly leftOpen: string[];
  readonly code: number | null;
  readonly stderr: string;
}

/**
 * Runs the probe in `ns`, `argvPrefix` (e.g. setpriv) in front of node. The 30 s kill is a watchdog against a hang,
 * not a timing assertion. Throws with the probe's output when it printed no result.
 */
export async function runProbe<T>(lab: Lab, ns: string, scenario: string, args: object, argvPrefix: string[] = []): Promise<ProbeRun<T>> {
  const r = await lab.exec(ns, [...argvPrefix, 'node', PROBE, scenario, JSON.stringify(args)], { timeoutMs: 30_000 });
  const lines = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const result = lines.find((l) => !('activeAfterClose' in l));
  if (!result || 'fatal' in result) throw new Error(`probe ${scenario} gave no result (exit ${r.code ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  const after = lines.find((l) => 'activeAfterClose' in l)?.['activeAfterClose'] as string[] | undefined;
  return { result: result as T, leftOpen: (after ?? ['(no report)']).filter((h) => !STDIO.has(h)), code: r.code, stderr: r.stderr };
}
