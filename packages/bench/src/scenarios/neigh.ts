// The kernel's neighbour table, 10,000 entries at a time: ersatz's batched rtnetlink (many RTM_NEWNEIGH/DELNEIGH
// per sendto) against `ip -batch` of the same adds and deletes, and against ersatz's ioctl path (one SIOCSARP /
// SIOCDARP per entry, as `arp -s`). Everything runs inside a lab namespace: netlink and ioctl act on the namespace
// of the calling process, so the measuring code is a child process started there.
//
// This file is also that child's entry point: `node neigh.js --neigh-bench-child N REPS` prints one JSON object.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ipv4, Mac } from '@ersatz/wire';
import type { BenchContext, Measurement, PeerFigure, Scenario } from '../types.js';

const ENTRIES = 10_000;
const IFNAME = 'ez0';
// 198.18.0.0/15 is set aside for benchmarks (RFC 2544): 10,000 addresses from 198.18.0.1 upward.
const FIRST = 0xc6120001;
const CHILD_FLAG = '--neigh-bench-child';

type Method = 'netlink' | 'netlink-errors' | 'ioctl' | 'ip-batch';
type Op = 'add' | 'del';
type Samples = Record<Method, Record<Op, number[]>>;

const LABEL: Record<Method, string> = {
  netlink: 'ersatz netlink, batched (1024 per sendto, ACK each)',
  'netlink-errors': 'ersatz netlink, batched (1024 per sendto, ACK only refusals + last)',
  ioctl: 'ersatz ioctl (SIOCSARP/SIOCDARP per entry)',
  'ip-batch': 'ip -batch (iproute2, one request per line)',
};

// ---------------------------------------------------------------------------------------------------------------
// Child side: inside the namespace.

const ipAt = (i: number) => ((FIRST + i) >>> 0) as Ipv4;
const macAt = (i: number) => Mac.fromBytes(Uint8Array.of(2, 0, 0x5e, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff));

async function child(n: number, reps: number): Promise<Samples> {
  const { neighbourBatch, neighbours } = await import('@ersatz/netlink');
  const { arpSet, arpDelete } = await import('@ersatz/ioctl');
  const dir = mkdtempSync(join(tmpdir(), 'ersatz-neigh-bench-'));
  try {
    const addFile = join(dir, 'add');
    const delFile = join(dir, 'del');
    writeFileSync(addFile, Array.from({ length: n }, (_, i) => `neigh add ${Ipv4.format(ipAt(i))} lladdr ${macAt(i)} dev ${IFNAME} nud permanent\n`).join(''));
    writeFileSync(delFile, Array.from({ length: n }, (_, i) => `neigh del ${Ipv4.format(ipAt(i))} dev ${IFNAME}\n`).join(''));
    const adds = Array.from({ length: n }, (_, i) => ({ op: 'add' as const, ip: ipAt(i), mac: macAt(i), ifname: IFNAME }));
    const dels = Array.from({ length: n }, (_, i) => ({ op: 'del' as const, ip: ipAt(i), ifname: IFNAME }));

    const run: Record<Method, Record<Op, () => void>> = {
      netlink: { add: () => batch(adds, 'each'), del: () => batch(dels, 'each') },
      'netlink-errors': { add: () => batch(adds, 'errors'), del: () => batch(dels, 'errors') },
      ioctl: {
        add: () => {
          for (const a of adds) arpSet({ ip: a.ip, mac: a.mac, ifname: IFNAME, permanent: true });
        },
        del: () => {
          for (const d of dels) arpDelete(d.ip, IFNAME);
        },
      },
      'ip-batch': { add: () => ipBatch(addFile), del: () => ipBatch(delFile) },
    };
    function batch(changes: Parameters<typeof neighbourBatch>[0], ack: 'each' | 'errors'): void {
      const r = neighbourBatch(changes, { chunk: 1024, ack });
      if (r.failed.length) throw new Error(`neighbourBatch: ${r.failed.length} refused, first: ${r.failed[0]!.error.message}`);
    }
    /** How many of the benchmark's entries the table holds, each with the MAC it should have. */
    function present(): number {
      const want = new Map(adds.map((a) => [a.ip, a.mac]));
      return neighbours({ ifname: IFNAME }).filter((e) => want.get(e.ip) === e.mac && e.state === 'permanent').length;
    }

    const samples = Object.fromEntries((Object.keys(LABEL) as Method[]).map((m) => [m, { add: [], del: [] }])) as unknown as Samples;
    // One untimed round first: the table's hash grows to size once, and every code path is warm.
    for (const method of Object.keys(LABEL) as Method[]) {
      run[method].add();
      run[method].del();
    }
    for (let rep = 0; rep < reps; rep++) {
      // Interleaved, so a noisy moment hits every method alike.
      for (const method of Object.keys(LABEL) as Method[]) {
        for (const op of ['add', 'del'] as const) {
          const t0 = process.hrtime.bigint();
          run[method][op]();
          const s = Number(process.hrtime.bigint() - t0) / 1e9;
          // Outside the clock: the kernel really holds (or no longer holds) all n entries.
          const have = present();
          if (have !== (op === 'add' ? n : 0)) throw new Error(`${method} ${op}: the table holds ${have} of the ${n} entries afterwards`);
          samples[method][op].push(n / s);
        }
      }
    }
    return samples;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function ipBatch(file: string): void {
  const r = spawnSync('ip', ['-batch', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip -batch ${file} exited ${r.status ?? r.signal}: ${r.stderr.trim().split('\n')[0]}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Parent side: the harness.

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const fmt = (n: number) => `${Math.round(n).toLocaleString('en')}/s`;

export const scenario: Scenario = {
  name: 'neigh',
  description: `${ENTRIES.toLocaleString('en')} neighbour entries added and deleted: batched rtnetlink vs ip -batch vs one ioctl per entry`,
  async run(ctx: BenchContext): Promise<Measurement[]> {
    const { Lab } = await import('@ersatz/lab');
    const lab = new Lab('nbe');
    let samples: Samples;
    try {
      const host = lab.namespace('h');
      const peer = lab.namespace('p');
      lab.veth({ ns: host, ifname: IFNAME, mac: '02:00:5e:10:00:01' }, { ns: peer, ifname: 'ez1', mac: '02:00:5e:10:00:02' });
      lab.sh(host, ['ip', 'addr', 'add', '198.18.0.0/15', 'dev', IFNAME]);
      ctx.log(`neigh: ${ENTRIES} entries × ${ctx.reps} rep(s), 4 methods, in namespace ${host}`);
      const r = await lab.exec(host, [process.execPath, fileURLToPath(import.meta.url), CHILD_FLAG, String(ENTRIES), String(ctx.reps)], { timeoutMs: 600_000 });
      if (r.code !== 0) throw new Error(`neigh bench child exited ${r.code ?? r.signal}: ${r.stderr.trim()}`);
      samples = JSON.parse(r.stdout) as Samples;
    } finally {
      lab.destroy();
    }
    const rows: Measurement[] = [];
    for (const op of ['add', 'del'] as const) {
      const m = (method: Method) => median(samples[method][op]);
      for (const method of Object.keys(LABEL) as Method[]) ctx.log(`neigh: ${op} ${LABEL[method]}: ${fmt(m(method))}`);
      const peers: PeerFigure[] = (['ip-batch', 'ioctl', 'netlink-errors'] as const).map((p) => ({ name: LABEL[p], value: m(p), samples: samples[p][op] }));
      rows.push({
        scenario: 'neigh',
        what: `${op === 'add' ? 'add' : 'delete'} ${ENTRIES.toLocaleString('en')} permanent entries, ${LABEL.netlink}`,
        unit: 'entries/s',
        better: 'higher',
        ersatz: m('netlink'),
        samples: samples.netlink[op],
        peers,
        target: { text: 'netlink ≥ ip -batch', pass: m('netlink') >= m('ip-batch') },
        note:
          `netlink/ip -batch ${(m('netlink') / m('ip-batch')).toFixed(1)}x, netlink/ioctl ${(m('netlink') / m('ioctl')).toFixed(1)}x; ` +
          'each figure includes opening the socket (ip -batch: starting the process); after every timed run the table is ' +
          'dumped to check that all entries are there (or gone)',
      });
    }
    return rows;
  },
};

if (process.argv[2] === CHILD_FLAG) {
  const n = Number(process.argv[3] ?? ENTRIES);
  const reps = Number(process.argv[4] ?? 1);
  process.stdout.write(`${JSON.stringify(await child(n, reps))}\n`);
}
