// Running the hardening helpers inside lab namespaces: the attacker (hardening-attacker.js) in the peer's, the probe
// (hardening-probe.js) in the host's, and reading back the one JSON line each prints.
import type { ChildProcess } from 'node:child_process';
import { START_HANG_MS, type Lab, type RunResult } from '@ersatz/lab';
import { fileURLToPath } from 'node:url';

const ATTACKER = fileURLToPath(new URL('./hardening-attacker.js', import.meta.url));
export const PROBE = fileURLToPath(new URL('./hardening-probe.js', import.meta.url));

export interface AttackerRun {
  /** Resolves when the attacker is done: frames it sent, frames the socket refused, how long it ran. */
  readonly done: Promise<{ sent: number; failed: number; ms: number }>;
  /** Whether it is still sending. */
  readonly running: boolean;
  /** Frames sent so far (to the last 10 000). */
  readonly sent: number;
  /** Ends it early (SIGTERM: it still reports) and returns what `done` does. */
  stop(): Promise<{ sent: number; failed: number; ms: number }>;
}

/**
 * For an attacker that must keep sending while a test's queries run: it sends until the test calls stop(), never
 * for a fixed time the test could outlast on a loaded machine; this bound (under ava's 120 s timeout) only ends it if
 * the test dies first.
 */
export const UNTIL_STOPPED_MS = 110_000;

/**
 * Starts the attacker in `ns` (`repeat` or `flood`, see hardening-attacker.ts) and resolves once it is sending.
 * Rejects when it exits first or does not start within 10 s. The lab kills it on destroy.
 */
export async function startAttacker(lab: Lab, ns: string, mode: 'repeat' | 'flood', args: object): Promise<AttackerRun> {
  const child = lab.start(ns, ['node', ATTACKER, mode, JSON.stringify(args)]);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`attacker not started after ${START_HANG_MS / 1000} s: ${out}${err}`)), START_HANG_MS);
    const check = () => {
      if (out.includes('started\n')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`attacker exited (${code}) before it started: ${out}${err}`));
    });
  });
  let running = true;
  const done = exited.then((code) => {
    running = false;
    const line = out.split('\n').find((l) => l.startsWith('{'));
    if (code !== 0 || line === undefined) throw new Error(`attacker failed (${code}): ${out}${err}`);
    return JSON.parse(line) as { sent: number; failed: number; ms: number };
  });
  return {
    done,
    get running() {
      return running;
    },
    get sent() {
      const m = /sent (\d+)\n(?![\s\S]*sent \d+\n)/.exec(out);
      return m ? Number(m[1]) : 0;
    },
    stop() {
      if (running) child.kill('SIGTERM');
      return done;
    },
  };
}

export interface ProbeRun<T> {
  readonly result: T;
  /** What process.getActiveResourcesInfo() still listed once the probe had closed everything, stdio excluded. */
  readonly leftOpen: string[];
  readonly raw: RunResult;
}

const STDIO = new Set(['PipeWrap', 'TTYWrap', 'FSReqCallback']);

/**
 * Runs `node hardening-probe.js MODE ARGS` in `ns` (the 40 s kill is a watchdog against a hang, not a timing
 * assertion). Returns its result line; throws with its output when it printed none.
 */
export async function probe<T>(lab: Lab, ns: string, mode: string, args: object, argvPrefix: readonly string[] = []): Promise<ProbeRun<T>> {
  const raw = await lab.exec(ns, [...argvPrefix, 'node', PROBE, mode, JSON.stringify(args)], { timeoutMs: 40_000 });
  return parseProbe<T>(mode, raw);
}

/**
 * Starts the probe with `gate: true` and resolves once its link is open (it printed `ready`); `go()` lets it run
 * its scenario (SIGUSR2) and resolves with its result.
 */
export async function startGatedProbe<T>(lab: Lab, ns: string, mode: string, args: object): Promise<{ go(): Promise<ProbeRun<T>> }> {
  const child = lab.start(ns, ['node', PROBE, mode, JSON.stringify({ ...args, gate: true })]);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const watchdog = setTimeout(() => child.kill('SIGKILL'), 40_000);
  const closed = new Promise<RunResult>((resolve) =>
    child.once('close', (code, signal) => {
      clearTimeout(watchdog);
      resolve({ code, signal, stdout, stderr });
    }),
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', () => stdout.includes('ready\n') && resolve());
    void closed.then((r) => reject(new Error(`probe ${mode} exited before it was ready: ${r.stdout}${r.stderr}`)));
  });
  return {
    async go() {
      child.kill('SIGUSR2');
      return parseProbe<T>(mode, await closed);
    },
  };
}

function parseProbe<T>(mode: string, raw: RunResult): ProbeRun<T> {
  const lines = raw.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const result = lines.find((l) => !('activeAfterClose' in l));
  if (result === undefined || 'fatal' in result) throw new Error(`probe ${mode} gave no result (exit ${raw.code ?? raw.signal}):\n${raw.stdout}\n${raw.stderr}`);
  const after = lines.find((l) => 'activeAfterClose' in l)?.['activeAfterClose'] as string[] | undefined;
  return { result: result as T, leftOpen: (after ?? ['(no report)']).filter((h) => !STDIO.has(h)), raw };
}

/** A started child's output so far, its end, and a way to wait for a line. */
export interface Watched {
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves with the exit code and signal (the lab kills the child on destroy). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once `re` matches stdout (or stderr); rejects when the child exits first or `timeoutMs` passes. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
}

export function watch(child: ChildProcess): Watched {
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  const poke = () => {
    for (const w of [...waiters]) w();
  };
  child.stdout!.setEncoding('utf8').on('data', (s: string) => ((out += s), poke()));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => ((err += s), poke()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  return {
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(re, timeoutMs = 15_000) {
      return new Promise<void>((resolve, reject) => {
        const done = (f: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          f();
        };
        const check = () => {
          if (re.test(out) || re.test(err)) done(resolve);
        };
        const timer = setTimeout(() => done(() => reject(new Error(`no ${re} within ${timeoutMs} ms:\n${out}\n${err}`))), timeoutMs);
        waiters.add(check);
        void exited.then(({ code, signal }) => done(() => (re.test(out) || re.test(err) ? resolve() : reject(new Error(`exited (${code ?? signal}) before ${re}:\n${out}\n${err}`)))));
        check();
      });
    },
  };
}
