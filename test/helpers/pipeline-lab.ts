// Runs a probe (default test/helpers/pipeline-probe.js) inside a lab namespace and reads back what it printed.
import { readFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import type { ExecutionContext } from 'ava';
import type { Host, Lab } from '@ersatz/lab';
import { fileURLToPath } from 'node:url';

export const PROBE = fileURLToPath(new URL('./pipeline-probe.js', import.meta.url));
/** A Transmitter closed in the job that queued its frames (see the probe). */
export const TRANSMIT_CLOSE_PROBE = fileURLToPath(new URL('./transmit-close-probe.js', import.meta.url));
/** The probe that drives the pipeline on the code paths Windows uses. */
export const WINDOWS_PATHS_PROBE = fileURLToPath(new URL('./windows-paths-probe.js', import.meta.url));

/**
 * What an exited probe may still hold without keeping anything alive: its stdio pipes, and one-shot file requests
 * (CloseReq: the ESM loader closes each module's file after reading it, which a probe that fails at once reports
 * before it is done).
 */
const STDIO = new Set(['PipeWrap', 'TTYWrap', 'FSReqCallback', 'CloseReq']);

export interface ProbeRun<T> {
  /** The scenario's JSON line. */
  readonly result: T;
  /** What process.getActiveResourcesInfo() still listed after close(), stdio excluded: [] when nothing leaked. */
  readonly leftOpen: string[];
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

/**
 * Runs the probe in `ns` with `argvPrefix` in front of node (e.g. setpriv). The probe never calls process.exit, so
 * it only ends once the pipeline let go of everything; the 30 s kill is a watchdog against a hang, not a timing
 * assertion. Throws with the probe's output when it printed no result.
 */
export async function runProbe<T>(lab: Lab, ns: string, scenario: string, args: object, argvPrefix: string[] = [], probe = PROBE): Promise<ProbeRun<T>> {
  const r = await lab.exec(ns, [...argvPrefix, 'node', probe, scenario, JSON.stringify(args)], { timeoutMs: 30_000 });
  const lines = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const result = lines.find((l) => !('activeAfterClose' in l));
  if (!result || 'fatal' in result) {
    throw new Error(`probe ${scenario} gave no result (exit ${r.code ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  }
  const after = lines.find((l) => 'activeAfterClose' in l)?.['activeAfterClose'] as string[] | undefined;
  return { result: result as T, leftOpen: (after ?? ['(no report)']).filter((h) => !STDIO.has(h)), code: r.code, signal: r.signal, stderr: r.stderr };
}

/** The probe's view of a two-host lab: where to send from and whom to ask. */
export const endpoints = (host: Host, peer: Host) => ({ ifname: host.ifname, hostMac: host.mac, hostIp: host.ip, peerIp: peer.ip });

/** The probe ended on its own (no process.exit) and nothing but stdio was left open after close(). */
export function closedCleanly(t: ExecutionContext, run: ProbeRun<unknown>): void {
  t.is(run.code, 0, run.stderr);
  t.deepEqual(run.leftOpen, [], 'handles left open after close()');
}

/** The CPU latency the kernel keeps to now, µs: the smallest request any process holds on the device (an s32). */
export function cpuLatencyUs(): number {
  return new Int32Array(Uint8Array.from(readFileSync('/dev/cpu_dma_latency')).buffer)[0]!;
}

/**
 * Waits for a probe started with Lab.start (the `listen` scenario) to print "ready": from then on it captures.
 * `stdout()` is what it printed so far; `exited` its exit code. Rejects if it exits before it is ready.
 */
export async function probeReady(child: ChildProcess): Promise<{ stdout: () => string; exited: Promise<number | null> }> {
  let out = '';
  child.stdout!.setEncoding('utf8');
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (s: string) => {
      out += s;
      if (out.includes('ready\n')) resolve();
    });
    void exited.then((code) => reject(new Error(`probe exited (${code}) before it was ready: ${out}`)));
  });
  return { stdout: () => out, exited };
}
