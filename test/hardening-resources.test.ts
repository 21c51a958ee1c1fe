// Issue #8, resources. One process runs 10 sweeps (each on a link it opens and closes) and 10 000 resolves through
// the top-level API against kernel responders: afterwards it holds exactly what it held after the first of each (open
// descriptors, threads, timers and other handles, process listeners), and ends by itself once done. And Ctrl-C in the
// middle of a sweep prints what was found with the summary, exits 130, and leaves no process behind.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { responderLab } from '@ersatz/lab';
import { jsonLines, startErsatz, show } from './helpers/cmd-run.js';
import { probe, watch } from './helpers/hardening-run.js';

interface Snapshot {
  fds: number;
  threads: number;
  listeners: number;
  resources: Record<string, number>;
}

test('10 sweeps and 10 000 resolves in one process: no growth in descriptors, threads, timers, handles or listeners', async (t) => {
  const { lab, host } = responderLab('hres');
  t.teardown(() => lab.destroy());
  const { result, leftOpen } = await probe<{ warm: Snapshot; end: Snapshot; answered: number; resolved: number; threadNames: string[] }>(lab, host.ns, 'resources', {
    cidr: '10.77.2.0/24',
    base: '10.77.10.0',
    sweeps: 10,
    resolves: 10_000,
    concurrency: 100,
    scan: { ratePps: 10_000, tries: 3, timeoutMs: 200 },
    query: { tries: 3, intervalMs: 500 },
  });
  t.log(`after warm-up ${JSON.stringify(result.warm)}; at the end ${JSON.stringify(result.end)}`);
  t.is(result.answered, 10 * 254);
  t.is(result.resolved, 10_000);
  t.deepEqual(result.end, result.warm);
  t.deepEqual(leftOpen, [], 'and once closed, nothing keeps the process alive');
  // While a link is open, its stages' threads carry their names (top -H, ps -L, perf, the bench's CPU by thread).
  t.deepEqual(result.threadNames.filter((n) => n.startsWith('ersatz-')).sort(), ['ersatz-capture', 'ersatz-decode', 'ersatz-transmit']);
});

test('SIGINT in the middle of a sweep: the hosts found so far, the summary, exit 130, nothing left running', async (t) => {
  const { lab, host } = responderLab('hint');
  t.teardown(() => lab.destroy());
  const child = startErsatz(lab, host.ns, ['scan', '10.77.0.0/16', '--rate', '2000', '--json']);
  const run = watch(child);
  await run.waitFor(/(\{"type":"host","ip":[^\n]*\n){100}/);
  child.kill('SIGINT');
  const { code, signal } = await run.exited;
  const r = { code, signal, stdout: run.stdout(), stderr: run.stderr() };
  t.is(code, 130, show(r).slice(-2000));
  t.is(signal, null, 'it ended by itself, not by the signal');
  t.is(r.stderr, '');
  const lines = jsonLines(r.stdout);
  const { summary } = lines.pop() as { summary: { hosts: number; answered: number; interrupted: boolean } };
  t.true(summary.interrupted);
  t.is(summary.answered, lines.length);
  t.true(lines.length >= 100 && lines.length < 65534, `${lines.length} hosts`);
  // `ip netns pids` only reads /proc: safe to run from outside the lab's namespaces.
  t.is(execFileSync('ip', ['netns', 'pids', host.ns], { encoding: 'utf8' }).trim(), '', 'no process left in the namespace');
});
