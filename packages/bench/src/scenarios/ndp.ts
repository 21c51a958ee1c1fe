// IPv6 resolve (issue #17) beside IPv4 and ndisc6, in one dual-stack two-host lab:
// - warm: sequential resolves on one open link, IPv6 (solicit$) and IPv4 (query$) interleaved one by one
//   (drivers/ndp.ts), medians and p99;
// - cold: the whole one-shot process, `ersatz resolve ADDR6` beside `ndisc6 -1 -q ADDR6 IF` (Debian's ndisc6) and
//   `ersatz resolve IPV4`, spawn to exit, interleaved, median of 10.
import { twoHostLab } from '@ersatz/lab';
import { check, ersatzCli, runDriver, runNode, runTool } from '../child.js';
import { attempt, Series } from '../measure.js';
import { findExecutable } from '../peers.js';
import { summarize } from '../stats.js';
import type { BenchContext, Measurement, Scenario } from '../types.js';

const HOST6 = '2001:db8:77::1';
const PEER6 = '2001:db8:77::2';
const COUNT = 1000;
const WARMUP = 2000;
const COLD_RUNS = 10;

async function run(ctx: BenchContext): Promise<Measurement[]> {
  const warm = { v6: new Series(), v4: new Series(), v6p99: new Series(), v4p99: new Series() };
  const cold = { v6: new Series(), v4: new Series(), ndisc6: new Series() };
  const ndisc6 = findExecutable('ndisc6');
  const { lab, host, peer } = twoHostLab('bnd');
  try {
    for (const [ns, ifname, ip] of [[host.ns, host.ifname, HOST6], [peer.ns, peer.ifname, PEER6]] as const) lab.sh(ns, ['ip', 'addr', 'add', `${ip}/64`, 'dev', ifname, 'nodad']);
    const cli = ersatzCli(ctx.root);
    for (let rep = 0; rep < ctx.reps; rep++) {
      const r = await attempt(warm.v6, async () =>
        (await runDriver<{ v4Ns: number[]; v6Ns: number[]; lost: number }>(lab, host.ns, 'ndp', ['--interface', host.ifname, '--target4', peer.ip, '--target6', PEER6, '--source6', HOST6, '--count', String(COUNT), '--warmup', String(WARMUP)], { timeoutMs: 300_000 })).result,
      );
      if (r) {
        const [s6, s4] = [summarize(r.v6Ns.map((n) => n / 1000)), summarize(r.v4Ns.map((n) => n / 1000))];
        warm.v6.add(s6.median, r.v6Ns.map((n) => n / 1000));
        warm.v4.add(s4.median, r.v4Ns.map((n) => n / 1000));
        warm.v6p99.add(s6.p99);
        warm.v4p99.add(s4.p99);
        ctx.log(`ndp, rep ${rep + 1}/${ctx.reps}: median IPv6 ${s6.median.toFixed(1)} µs, IPv4 ${s4.median.toFixed(1)} µs, lost ${r.lost}`);
      }
    }
    for (let i = 0; i < COLD_RUNS; i++) {
      await attempt(cold.v6, async () => cold.v6.add(check('ersatz resolve IPv6', await runNode(lab, host.ns, cli, ['resolve', PEER6], { peakRss: false })).wallMs));
      await attempt(cold.v4, async () => cold.v4.add(check('ersatz resolve IPv4', await runNode(lab, host.ns, cli, ['resolve', peer.ip], { peakRss: false })).wallMs));
      if (ndisc6 !== null) await attempt(cold.ndisc6, async () => cold.ndisc6.add(check('ndisc6', await runTool(lab, host.ns, [ndisc6, '-1', '-q', PEER6, host.ifname])).wallMs));
    }
  } finally {
    lab.destroy();
  }
  if (ndisc6 === null) cold.ndisc6.fail('ndisc6 not installed (apt-get install ndisc6)');
  return [
    {
      scenario: 'ndp',
      what: `${COUNT} sequential IPv6 resolves (solicit$) on an open link, median`,
      unit: 'µs',
      better: 'lower',
      ersatz: warm.v6.value,
      samples: warm.v6.samples,
      raw: warm.v6.raw,
      peers: [warm.v4.peer('IPv4 query$, interleaved')],
      note: `p99: IPv6 ${warm.v6p99.value.toFixed(0)} µs, IPv4 ${warm.v4p99.value.toFixed(0)} µs; after ${WARMUP} uncounted of each`,
    },
    {
      scenario: 'ndp',
      what: `cold one-shot IPv6 resolve (median of ${COLD_RUNS}, spawn to exit)`,
      unit: 'ms',
      better: 'lower',
      ersatz: cold.v6.value,
      samples: cold.v6.samples,
      peers: [cold.ndisc6.peer('ndisc6 -1 -q'), cold.v4.peer('ersatz resolve IPv4')],
    },
  ];
}

export const scenario: Scenario = {
  name: 'ndp',
  description: 'IPv6 Neighbor Discovery resolve, warm beside IPv4 and cold beside ndisc6, in a dual-stack lab',
  run,
};
