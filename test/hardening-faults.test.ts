// Issue #8, worker faults. On virtual time first (FakeLink's fail()/recover() stand for a worker dying with frames in
// flight and the supervisor restarting it): a query re-sends when the link recovers and still ends by its deadline;
// a sweep gives every host that was waiting one more request. Then for real, in namespace labs: the capture, decode
// and transmit workers are killed in the middle of a resolve and of a /16 sweep; the supervisor restarts them, the
// answers still come, every query ends, and the incident shows in stats and as a warning. A worker that keeps dying
// is restarted with growing delays and the pipeline finally fails every query with one clear error.
import test from 'ava';
import { TestScheduler } from 'rxjs/testing';
import { Ipv4, Mac } from '@ersatz/wire';
import { createResolver, scan$, ResolveTimeoutError, type ResolveResult, type ScanEvent } from '@ersatz/resolve';
import { FakeLink } from '@ersatz/resolve/testing';
import { responderLab, twoHostLab } from '@ersatz/lab';
import { probe } from './helpers/hardening-run.js';

const US = { ip: Ipv4.parse('192.0.2.1'), mac: Mac.parse('02:00:00:00:00:0a') };
const PEER = { ip: Ipv4.parse('192.0.2.2'), mac: Mac.parse('02:00:00:00:00:0b') };

test('a query re-sends when the link recovers, instead of waiting for its next try', (t) => {
  const ts = new TestScheduler((a, e) => t.deepEqual(a, e));
  const link = new FakeLink({ scheduler: ts, ...US, hosts: [PEER] });
  let result: ResolveResult | undefined;
  ts.run(({ cold }) => {
    link.fail(); // the first request dies with the worker
    cold('400ms a').subscribe(() => link.recover());
    createResolver(link, { scheduler: ts })
      .query$(PEER.ip, { tries: 3, intervalMs: 1000 })
      .subscribe((r) => (result = r));
  });
  t.deepEqual(
    link.sent.map((s) => s.atMs),
    [0, 400],
  );
  t.like(result, { mac: PEER.mac, tries: 2, rttNs: 1_000_000n });
});

test('a query whose only try was lost still gets its answer from the re-send; the deadline still ends it', (t) => {
  const ts = new TestScheduler((a, e) => t.deepEqual(a, e));
  const answered = new FakeLink({ scheduler: ts, ...US, hosts: [PEER] });
  const silent = new FakeLink({ scheduler: ts, ...US, hosts: [] });
  const outcomes: string[] = [];
  ts.run(({ cold, expectObservable }) => {
    for (const link of [answered, silent]) {
      link.fail();
      cold('300ms a').subscribe(() => link.recover());
    }
    expectObservable(createResolver(answered, { scheduler: ts }).resolve$(PEER.ip, { tries: 1, intervalMs: 500 })).toBe('301ms (m|)', { m: PEER.mac });
    // Recovery does not extend a query's life: a silent host still times out at tries × interval.
    createResolver(silent, { scheduler: ts })
      .query$(PEER.ip, { tries: 1, intervalMs: 500 })
      .subscribe({ error: (e: unknown) => outcomes.push(`${(e as Error).name}@${ts.now()}:${(e as ResolveTimeoutError).tries}`) });
  });
  t.deepEqual(outcomes, ['ResolveTimeoutError@500:2']);
});

test('a recovery re-sends for queries still asking, not for one settling its answer, and nothing once all ended', (t) => {
  const ts = new TestScheduler((a, e) => t.deepEqual(a, e));
  const SILENT = Ipv4.parse('192.0.2.3');
  const link = new FakeLink({ scheduler: ts, ...US, hosts: [PEER] });
  ts.run(({ cold }) => {
    cold('100ms a 1899ms b').subscribe(() => link.recover());
    const resolver = createResolver(link, { scheduler: ts });
    resolver.query$(PEER.ip, { tries: 1, intervalMs: 1000, settleMs: 500 }).subscribe();
    resolver.query$(SILENT, { tries: 1, intervalMs: 1000 }).subscribe({ error: () => {} });
  });
  const sent = link.sent.map((s) => `${Ipv4.format(s.frame.arp.targetIp)}@${s.atMs}`);
  t.deepEqual(sent, ['192.0.2.2@0', '192.0.2.3@0', '192.0.2.3@100']);
});

test('a sweep gives every host still waiting at a recovery one more request, and finds the hosts whose frames were lost', (t) => {
  const ts = new TestScheduler((a, e) => t.deepEqual(a, e));
  const hosts = [10, 11, 12, 13].map((n) => ({ ip: Ipv4.parse(`192.0.2.${n}`), mac: Mac.parse(`02:00:00:00:00:${n}`) }));
  const link = new FakeLink({ scheduler: ts, ...US, hosts });
  const events: ScanEvent[] = [];
  ts.run(({ cold }) => {
    // Requests leave at 0, 10, 20 and 30 ms, handed to the link 10 ms ahead (at 0, 0, 10, 20 ms). The worker dies at
    // 15 ms and is back at 25 ms: the request for .13, handed over at 20 ms, dies with it.
    cold('15ms a 9ms b').subscribe((v) => (v === 'a' ? link.fail() : link.recover()));
    scan$(link, hosts.map((h) => h.ip), { scheduler: ts, ratePps: 100, tries: 1, timeoutMs: 100 }).subscribe((e) => events.push(e));
  });
  const found = events.flatMap((e) => (e.type === 'host' ? [Ipv4.format(e.ip)] : []));
  t.deepEqual(found.sort(), ['192.0.2.10', '192.0.2.11', '192.0.2.12', '192.0.2.13']);
  // At 25 ms only .13 was still waiting (.10 to .12 had answered): it alone got, and used, one more request (tries 1).
  t.deepEqual(
    link.sent.map((s) => Ipv4.format(s.frame.arp.targetIp)),
    ['192.0.2.10', '192.0.2.11', '192.0.2.12', '192.0.2.13', '192.0.2.13'],
  );
  t.like(events.at(-1), { type: 'done', summary: { hosts: 4, answered: 4, sent: 5 } });
});

interface Stats {
  restarts: Record<'capture' | 'decode' | 'transmit', number>;
  warnings: string[];
}

const STAGES = ['capture', 'decode', 'transmit'] as const;

test('a worker killed in the middle of 2000 concurrent resolves is restarted; every query ends, the answered ones right', async (t) => {
  // 10.77.0.0/17 answers (a kernel responder), 10.77.128.0/17 is silent: both kinds of query are in flight.
  const { lab, host, responders } = responderLab('hfrs', { cidr: '10.77.0.0/16', answers: ['10.77.0.0/17'] });
  t.teardown(() => lab.destroy());
  const silent = ['10.77.200.1', '10.77.200.2', '10.77.200.3'];
  for (const stage of STAGES) {
    const { result, leftOpen } = await probe<{ queries: number; answered: number; macs: string[]; errors: Record<string, number>; failed: string[]; resent: number; stats: Stats; warnings: string[] }>(
      lab,
      host.ns,
      'crash-resolve',
      // The answering queries end on their replies; their 30 s budget only bounds a hang, so that a loaded machine (a
      // worker restarted while another process holds a CPU) cannot fail them. The silent ones must time out: 3 s.
      { base: '10.77.1.0', count: 2000, silent, stage, query: { tries: 30, intervalMs: 1000 }, silentQuery: { tries: 3, intervalMs: 1000 } },
    );
    t.log(`${stage}: ${result.answered}/${result.queries} answered, ${result.resent} asked more than once, errors ${JSON.stringify(result.errors)}`);
    t.is(result.queries, 2003, stage);
    t.is(result.answered, 2000, `${stage}: ${result.failed.join(' ')}`);
    t.deepEqual(result.macs, [responders[0]!.mac], stage);
    t.deepEqual(result.errors, { ResolveTimeoutError: 3 }, stage);
    t.is(result.stats.restarts[stage], 1, stage);
    t.true(result.warnings.some((w) => w.startsWith(`${stage} worker died`)), `${stage}: ${result.warnings.join(' | ')}`);
    t.deepEqual(leftOpen, [], stage);
  }
});

test('a worker killed in the middle of a /16 sweep is restarted and the sweep still finds every host once', async (t) => {
  const { lab, host, responders } = responderLab('hfsc');
  t.teardown(() => lab.destroy());
  for (const stage of STAGES) {
    const { result } = await probe<{ summary: { hosts: number; answered: number; duplicates: number; sent: number }; distinct: number; dups: number; crashed: boolean; stats: Stats; warnings: string[] }>(
      lab,
      host.ns,
      'crash-scan',
      // One try per host: without the extra request a recovery grants, a host whose frame died would be missed.
      { cidr: '10.77.0.0/16', stage, afterHosts: 20_000, scan: { ratePps: 20_000, tries: 1, timeoutMs: 500 } },
    );
    t.log(`${stage}: ${result.summary.answered}/${result.summary.hosts} answered with ${result.summary.sent} requests; warnings ${JSON.stringify(result.warnings)}`);
    t.true(result.crashed, stage);
    t.like(result.summary, { hosts: 65534, answered: 65534, duplicates: 0 }, stage);
    t.is(result.distinct, 65534, stage);
    t.is(result.dups, 0, stage);
    t.is(result.stats.restarts[stage], 1, stage);
    t.true(result.warnings.some((w) => w.startsWith(`${stage} worker died`)), stage);
    void responders;
  }
});

test('a worker that keeps dying is restarted with growing delays, then every query fails with one clear error', async (t) => {
  const { lab, host } = twoHostLab('hflp');
  t.teardown(() => lab.destroy());
  const { result, leftOpen } = await probe<{ error: { name: string; message: string; stage: string; restarts: number }; ms: number; warnings: { ms: number; text: string }[]; stats: Stats }>(
    lab,
    host.ns,
    'crash-loop',
    { ip: '198.51.100.99', stage: 'decode', crashes: 6, query: { tries: 200, intervalMs: 100 } },
  );
  t.log(result.warnings.map((w) => `${w.ms} ms: ${w.text}`).join('\n'));
  const died = result.warnings.filter((w) => w.text.startsWith('decode worker died'));
  // Five restarts, each after a longer wait than the one before; the sixth death in 30 s ends it.
  t.deepEqual(
    died.map((w) => /restarting it(?: in (\d+) ms)?/.exec(w.text)?.[1] ?? '0'),
    ['0', '250', '500', '1000', '2000'],
  );
  t.like(result.error, { name: 'WorkerCrashLoopError', stage: 'decode', restarts: 6 });
  t.regex(result.error.message, /^decode worker died 6 times within 30 s \(last: [^)]+\); the pipeline stopped: run again/);
  t.true(result.ms < 200 * 100, 'the query ended with the pipeline, not at its own deadline');
  t.deepEqual(leftOpen, []);
});
