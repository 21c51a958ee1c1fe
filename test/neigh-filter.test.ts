// `ersatz neigh show [PREFIX] --state ..` and `ersatz neigh flush` end to end, side by side with iproute2: the same
// table is read (or flushed) by ersatz and by `ip neigh`, and what each printed (or left behind) must be equal.
// The host holds one entry in each of the nine NUD states; its neighbour timers are stretched to an hour so the
// kernel moves none of them while a comparison runs.
import test from 'ava';
import { isDeepStrictEqual } from 'node:util';
import { twoHostLab, type Host, type Lab, type RunResult } from '@ersatz/lab';
import { MAIN } from './helpers/cmd-run.js';
import { stillNeighbours } from './helpers/still-neighbours.js';

let lab: Lab;
let host: Host;
let peer: Host;
test.before(() => {
  ({ lab, host, peer } = twoHostLab('nflt'));
  // A second link in the host namespace: flush -I ez0 must leave its entries alone.
  lab.veth({ ns: host.ns, ifname: 'ez2' }, { ns: host.ns, ifname: 'ez3' });
  // The peer knows the host already, so its ping reply sends no ARP request that could move the host's DELAY entry.
  stillNeighbours(lab, host, peer, ['ez2']);
});
test.after.always(() => lab?.destroy());

const neigh = (args: string[]): Promise<RunResult> => lab.exec(host.ns, ['node', MAIN, 'neigh', ...args]);
const ipNeigh = (args: string[]): string => lab.sh(host.ns, ['ip', '-4', ...args]);

interface IpNeigh { dst: string; dev: string; lladdr?: string; state?: string[] }
interface OurEntry { ip: string; mac: string | null; ifname: string; state: string }
const byDst = (a: IpNeigh, b: IpNeigh) => `${a.dev} ${a.dst}`.localeCompare(`${b.dev} ${b.dst}`);
/** Ours in `ip -j`'s shape: ip leaves out `state` for NUD_NONE and `lladdr` when there is none. */
const asIp = (e: OurEntry): IpNeigh => ({ dst: e.ip, dev: e.ifname, ...(e.mac !== null && { lladdr: e.mac }), ...(e.state !== 'none' && { state: [e.state.toUpperCase()] }) });
const table = (): IpNeigh[] => (JSON.parse(ipNeigh(['-j', 'neigh', 'show', 'nud', 'all'])) as IpNeigh[]).sort(byDst);
/**
 * The entries but the FAILED one, which the kernel's garbage collector may take at any pass while the machine holds
 * 128 entries or more (other files' labs count: see still-neighbours.ts).
 */
const lasting = (l: IpNeigh[]): IpNeigh[] => l.filter((e) => e.state?.[0] !== 'FAILED');

const P = '198.51.100';
/** One entry per NUD state on ez0 (DELAY is the peer's, reached the kernel's way), and a stale one on ez2. */
function populate(): void {
  for (const dev of ['ez0', 'ez2']) for (const nud of ['all', 'noarp']) ipNeigh(['neigh', 'flush', 'dev', dev, 'nud', nud]);
  const add = (ip: string, nud: string, mac?: string, dev = 'ez0') => ipNeigh(['neigh', 'replace', ip, ...(mac ? ['lladdr', mac] : []), 'dev', dev, 'nud', nud]);
  add(`${P}.10`, 'permanent', '02:00:5e:00:00:10');
  add(`${P}.11`, 'reachable', '02:00:5e:00:00:11');
  add(`${P}.12`, 'stale', '02:00:5e:00:00:12');
  add(`${P}.13`, 'noarp', '02:00:5e:00:00:13');
  add(`${P}.15`, 'probe', '02:00:5e:00:00:15');
  add(`${P}.16`, 'failed');
  add(`${P}.17`, 'incomplete');
  add(`${P}.18`, 'none');
  add('203.0.113.9', 'stale', '02:00:5e:00:00:99', 'ez2');
  // STALE, then a packet: the kernel moves the entry to DELAY and (with the stretched timer) keeps it there.
  add(peer.ip, 'stale', peer.mac);
  lab.sh(host.ns, ['ping', '-c', '1', '-W', '2', peer.ip]);
}

test.serial('the lab holds an entry in every NUD state', (t) => {
  populate();
  const states = new Set(table().map((e) => e.state?.[0] ?? 'NONE'));
  t.deepEqual([...states].sort(), ['DELAY', 'FAILED', 'INCOMPLETE', 'NOARP', 'NONE', 'PERMANENT', 'PROBE', 'REACHABLE', 'STALE']);
});

// [ersatz show arguments, the same query for ip neigh show]
const SHOW_CASES: ReadonlyArray<readonly [string[], string[]]> = [
  [[], []],
  [['--state', 'all'], ['nud', 'all']],
  ...['incomplete', 'reachable', 'stale', 'delay', 'probe', 'failed', 'noarp', 'permanent', 'none'].map((s): readonly [string[], string[]] => [['--state', s], ['nud', s]]),
  [['--state', 'reachable,stale'], ['nud', 'reachable', 'nud', 'stale']],
  [['--state', 'failed', '--state', 'NOARP'], ['nud', 'failed', 'nud', 'noarp']],
  [[`${P}.16/31`], ['to', `${P}.16/31`]],
  [['to', `${P}.12`], ['to', `${P}.12`]],
  [[`${P}.0/24`, '--state', 'all', '-I', 'ez0'], ['to', `${P}.0/24`, 'nud', 'all', 'dev', 'ez0']],
  [['-I', 'ez2'], ['dev', 'ez2']],
  [['192.0.2.0/24', '--state', 'all'], ['to', '192.0.2.0/24', 'nud', 'all']],
];

test.serial('show with an address, a prefix and every state filter lists what ip neigh show lists', async (t) => {
  t.timeout(240_000, '34 cold starts of ersatz'); // ~16 s idle, ~50 s with another process using a CPU
  populate();
  for (const [ours, theirs] of SHOW_CASES) {
    // A case runs again on a rebuilt table when the table moved while it ran (the collector took the FAILED entry).
    for (let attempt = 1; ; attempt++) {
      const before = table();
      const json = await neigh(['show', '--json', ...ours]);
      const text = await neigh(['show', ...ours]);
      t.is(json.code, 0, json.stderr);
      // Given `dev IF`, ip leaves the device out of each entry; ersatz always names it.
      const dev = theirs[theirs.indexOf('dev') + 1];
      const onDev = theirs.includes('dev') ? ` dev ${dev}` : '';
      const want = (JSON.parse(ipNeigh(['-j', 'neigh', 'show', ...theirs])) as IpNeigh[]).map((e) => (dev && onDev ? { ...e, dev } : e)).sort(byDst);
      const ipText = ipNeigh(['neigh', 'show', ...theirs]);
      const after = table();
      if (attempt < 3 && !isDeepStrictEqual(after, before)) {
        populate();
        continue;
      }
      // The table is the one populate() built: every case compares nine states, not an empty table.
      t.is(after.length, 10, ours.join(' '));
      t.deepEqual((JSON.parse(json.stdout) as OurEntry[]).map(asIp).sort(byDst), want, ours.join(' '));
      // (ip ends its lines with a space)
      const lines = (s: string) => s.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '').sort();
      t.deepEqual(lines(text.stdout.replaceAll(onDev, '')), lines(ipText), ours.join(' '));
      break;
    }
  }
});

// [ersatz flush arguments, the same flush for ip neigh flush]
const FLUSH_CASES: ReadonlyArray<readonly [string[], string[]]> = [
  [['-I', 'ez0'], ['dev', 'ez0']],
  [['-I', 'ez0', '--state', 'all'], ['dev', 'ez0', 'nud', 'all']],
  [['-I', 'ez0', '--state', 'noarp'], ['dev', 'ez0', 'nud', 'noarp']],
  [['-I', 'ez0', '--state', 'permanent,stale'], ['dev', 'ez0', 'nud', 'permanent', 'nud', 'stale']],
  [[`${P}.16/30`, '-I', 'ez0'], ['to', `${P}.16/30`, 'dev', 'ez0']],
  [[`${P}.10`, '-I', 'ez0', '--state', 'all'], ['to', `${P}.10`, 'dev', 'ez0', 'nud', 'all']],
];

test.serial('flush deletes what ip neigh flush deletes, from the same table', async (t) => {
  t.timeout(240_000, '6 flushes, each on a freshly built table');
  for (const [ours, theirs] of FLUSH_CASES) {
    // A case whose two tables differ in the FAILED entry alone runs again (the collector may have taken it from one).
    for (let attempt = 1; ; attempt++) {
      populate();
      const before = table();
      const r = await neigh(['flush', ...ours]);
      t.like(r, { code: 0, stdout: '', stderr: '' }, ours.join(' '));
      const afterOurs = table();
      populate();
      t.deepEqual(lasting(table()).map((e) => e.dst), lasting(before).map((e) => e.dst));
      ipNeigh(['neigh', 'flush', ...theirs]);
      const afterIp = table();
      if (attempt < 3 && !isDeepStrictEqual(afterOurs, afterIp) && isDeepStrictEqual(lasting(afterOurs), lasting(afterIp))) continue;
      t.deepEqual(afterOurs, afterIp, ours.join(' '));
      t.true(afterOurs.length < before.length, `${ours.join(' ')} deleted something`);
      t.true(afterOurs.some((e) => e.dev === 'ez2'), 'ez2 untouched');
      break;
    }
  }
});

test.serial('flush and show refuse bad filters with one line and exit 2, deleting nothing', async (t) => {
  populate();
  const before = table();
  const cases: [string[], RegExp][] = [
    [['flush', `${P}.0/24`], /^ersatz: neigh flush: --interface IF is required/],
    [['flush', '-I', 'ez0', '--state', 'stale,bogus'], /^ersatz: neigh: state "bogus" is not a neighbour state: choose from incomplete, reachable, stale, delay, probe, failed, noarp, permanent, none or all/],
    [['show', '--state', ''], /^ersatz: neigh: state "" is not a neighbour state/],
    [['flush', '-I', 'ez0', `${P}.0/33`], /^ersatz: neigh flush: .*prefix 33 is over 32/],
    [['flush', '-I', 'ez0', '-6', `${P}.0/24`], /^ersatz: neigh flush: 198\.51\.100\.0\/24 is not IPv6, and -6 is the IPv6 table/],
    [['show', '-6', `${P}.1`], /^ersatz: neigh show: 198\.51\.100\.1 is not IPv6, and -6 is the IPv6 table/],
    [['show', `${P}.1`, `${P}.2`], /^ersatz: neigh show: unexpected "198\.51\.100\.2"/],
    [['flush', '-I', 'nope0'], /^ersatz: neigh: no interface "nope0"/],
  ];
  for (const [args, pattern] of cases) {
    const r = await neigh(args);
    t.is(r.code, 2, args.join(' '));
    t.is(r.stdout, '');
    t.regex(r.stderr, pattern);
    t.is(r.stderr.split('\n').length, 2, r.stderr);
  }
  t.deepEqual(lasting(table()), lasting(before));
});
