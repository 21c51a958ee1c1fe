// ersatz side of the memory scenario, run by the harness inside the lab's host namespace (with --expose-gc):
//
//   node --expose-gc dist/drivers/sweeps.js --interface IF --cidr CIDR [--sweeps N] [--rate PPS] [--tries N]
//        [--timeout MS]
//
// N consecutive scan$ sweeps of CIDR over one link opened once (openLink), as a long-lived process would run them.
// During each sweep: the CPU time of the whole process and of each thread (main, the three stages, the rest); after
// it: a full GC, then the process's resident set and V8 heap. Prints { sweeps: [{ hosts, sent, answered, elapsedMs,
// cpuMs, cpuByThreadMs, rssKiB, heapUsedKiB, externalKiB }] }; exits 3 with { unavailable } when ersatz does not load.
import { parseArgs } from 'node:util';
import { filter, lastValueFrom, map } from 'rxjs';
import { Cidr, parseTargets } from '@ersatz/wire';
import { scan$, type ScanSummary } from '@ersatz/resolve';
import { cpuByGroup, readThreadCpu } from '../thread-cpu.js';
import { loadApi, orUsage, report, whole } from './common.js';

const o = orUsage('sweeps.js --interface IF --cidr CIDR [--sweeps N] [--rate PPS] [--tries N] [--timeout MS]', () =>
  parseArgs({
    strict: true,
    options: {
      interface: { type: 'string' },
      cidr: { type: 'string' },
      sweeps: { type: 'string', default: '10' },
      rate: { type: 'string', default: '1000000' },
      tries: { type: 'string', default: '1' },
      timeout: { type: 'string', default: '500' },
    },
  }).values,
);
if (!o.interface || !o.cidr) {
  process.stderr.write('--interface and --cidr are required\n');
  process.exit(2);
}
const cidr = Cidr.parse(o.cidr);
const targets = parseTargets(o.cidr);
const sweeps = whole('sweeps', o.sweeps);
const ratePps = whole('rate', o.rate);
const tries = whole('tries', o.tries);
const timeoutMs = whole('timeout', o.timeout);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  process.stderr.write('run with node --expose-gc: memory is read after a full collection\n');
  process.exit(2);
}

const api = await loadApi();
// The route to the last host names the interface (the first host is often our own address).
const info = await api.discoverInterface({ ifname: o.interface, target: cidr.lastHost });
const link = await api.openLink(info);
const kib = (bytes: number): number => Math.round(bytes / 1024);
const out = [];
try {
  for (let i = 0; i < sweeps; i++) {
    const threadsBefore = readThreadCpu();
    const cpuBefore = process.cpuUsage();
    const summary: ScanSummary = await lastValueFrom(
      scan$(link, targets, { ratePps, tries, timeoutMs }).pipe(
        filter((e) => e.type === 'done'),
        map((e) => e.summary),
      ),
    );
    const cpu = process.cpuUsage(cpuBefore);
    const cpuByThreadMs = cpuByGroup(threadsBefore, readThreadCpu(), process.pid);
    gc();
    const m = process.memoryUsage();
    const cpuMs = (cpu.user + cpu.system) / 1000;
    out.push({ ...summary, cpuMs, cpuByThreadMs, rssKiB: kib(m.rss), heapUsedKiB: kib(m.heapUsed), externalKiB: kib(m.external) });
    process.stderr.write(`sweep ${i + 1}/${sweeps}: ${summary.answered}/${summary.hosts} in ${summary.elapsedMs.toFixed(0)} ms, rss ${kib(m.rss)} KiB\n`);
  }
} finally {
  await link.close();
}
report({ sweeps: out });
