// The neighbour table over rtnetlink (@ersatz/netlink), in a lab namespace, checked against `ip -j neigh` and
// /proc/net/arp. Every netlink call runs in test/helpers/neigh-api.ts inside the namespace.
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { twoHostLab, type Host, type Lab } from '@ersatz/lab';
import type { ApiCall, ApiResult } from './helpers/neigh-api.js';
import { procArp as procArpOf } from './helpers/proc-arp.js';
import { stillNeighbours } from './helpers/still-neighbours.js';

const HELPER = fileURLToPath(new URL('./helpers/neigh-api.js', import.meta.url));

let lab: Lab;
let host: Host;
test.before(() => {
  let peer: Host;
  ({ lab, host, peer } = twoHostLab('nna'));
  // neighbours$ must see only the changes its test makes: a REACHABLE entry ageing, or the peer probing the host ~5 s
  // after the ping below, would be one more.
  stillNeighbours(lab, host, peer);
});
test.after.always(() => lab?.destroy());

async function api(list: ApiCall[]): Promise<ApiResult[]> {
  const r = await lab.exec(host.ns, ['node', HELPER, JSON.stringify(list)]);
  if (r.code !== 0) throw new Error(`neigh-api helper exited ${r.code ?? r.signal}: ${r.stderr}`);
  return r.stdout.trim().split('\n').map((line) => JSON.parse(line) as ApiResult);
}

interface IpNeigh { dst: string; dev: string; lladdr?: string; state?: string[]; proxy?: null; router?: null }
const ipNeigh = (...args: string[]) => JSON.parse(lab.sh(host.ns, ['ip', '-j', '-4', 'neigh', 'show', ...args])) as IpNeigh[];
const entryOf = (ip: string) => ipNeigh('to', ip);
const procArp = (ip: string): string[][] => procArpOf(lab, host.ns, ip);

test.serial('add, get, replace, delete: the kernel holds what was asked', async (t) => {
  const ip = '198.51.100.20';
  const [add, get] = await api([
    { op: 'add', ip, mac: '02:a5:80:ff:7f:c3', ifname: 'ez0' },
    { op: 'neighbour', ip, ifname: 'ez0' },
  ]);
  t.deepEqual(add, { ok: true, value: null });
  t.deepEqual(entryOf(ip), [{ dst: ip, dev: 'ez0', lladdr: '02:a5:80:ff:7f:c3', state: ['PERMANENT'] }]);
  t.deepEqual(procArp(ip), [[ip, '0x1', '0x6', '02:a5:80:ff:7f:c3', '*', 'ez0']]); // ATF_COM | ATF_PERM
  // ageMs (NDA_CACHEINFO's updated, in ms) counts from the add just made.
  const { ageMs, ...got } = (get as { value: { ageMs: number } }).value;
  t.deepEqual(got, { ip, mac: '02:a5:80:ff:7f:c3', ifindex: 2, ifname: 'ez0', state: 'permanent', flags: 0, flagsExt: 0, proxy: false, router: false });
  t.true(Number.isInteger(ageMs) && ageMs >= 0 && ageMs % 10 === 0 && ageMs < 60_000, String(ageMs));

  const [again, replace, reachable] = await api([
    { op: 'add', ip, mac: '02:00:5e:00:00:99', ifname: 'ez0' },
    { op: 'add', ip, mac: '02:00:5e:00:00:99', ifname: 'ez0', state: 'stale', replace: true },
    { op: 'add', ip: '198.51.100.21', mac: '02:00:5e:00:00:21', ifindex: 2, state: 'reachable' },
  ]);
  t.like(again, { ok: false, error: { name: 'NetlinkSystemError', code: 'EEXIST', errno: 17, operation: 'add neighbour 198.51.100.20 dev ez0' } });
  t.deepEqual(replace, { ok: true, value: null });
  t.deepEqual(entryOf(ip), [{ dst: ip, dev: 'ez0', lladdr: '02:00:5e:00:00:99', state: ['STALE'] }]);
  t.deepEqual(procArp(ip), [[ip, '0x1', '0x2', '02:00:5e:00:00:99', '*', 'ez0']]);
  t.deepEqual(reachable, { ok: true, value: null });
  t.deepEqual(entryOf('198.51.100.21')[0]?.state, ['REACHABLE']);

  const [del, gone, delAgain] = await api([
    { op: 'delete', ip, ifname: 'ez0' },
    { op: 'neighbour', ip, ifname: 'ez0' },
    { op: 'delete', ip, ifname: 'ez0' },
  ]);
  t.deepEqual(del, { ok: true, value: null });
  t.deepEqual(gone, { ok: true, value: null });
  t.like(delAgain, { ok: false, error: { name: 'NetlinkSystemError', code: 'ENOENT' } });
  t.deepEqual(entryOf(ip), []);
  t.deepEqual(procArp(ip), []);
});

test.serial('the dump equals ip -j neigh show nud all, kernel-made entries included', async (t) => {
  // A kernel-made entry too: ping the peer so the kernel resolves it by itself.
  lab.sh(host.ns, ['ping', '-c', '1', '-W', '2', '198.51.100.2']);
  await api([
    { op: 'add', ip: '198.51.100.30', mac: '02:00:5e:00:00:30', ifname: 'ez0' },
    { op: 'add', ip: '198.51.100.31', mac: '02:00:5e:00:00:31', ifname: 'ez0', state: 'stale' },
  ]);
  const [dump, onlyLo] = await api([{ op: 'neighbours' }, { op: 'neighbours', ifname: 'lo' }]);
  const theirs = ipNeigh('nud', 'all');
  t.true(theirs.some((n) => n.dst === '198.51.100.2' && n.lladdr !== undefined));
  const ours = (dump as { value: { ip: string; ifname: string; mac: string | null; state: string }[] }).value;
  const asIp = ours.map((e) => ({ dst: e.ip, dev: e.ifname, ...(e.mac !== null && { lladdr: e.mac }), state: [e.state.toUpperCase()] }));
  const sort = <T extends { dst: string }>(l: T[]) => [...l].sort((a, b) => a.dst.localeCompare(b.dst));
  t.deepEqual(sort(asIp), sort(theirs));
  t.deepEqual(onlyLo, { ok: true, value: [] });
});

test.serial('proxy entries: add, list like ip neigh show proxy, get, delete', async (t) => {
  const ip = '198.51.100.77';
  const [add, list, get, del] = await api([
    { op: 'add', ip, ifname: 'ez0', proxy: true },
    { op: 'neighbours', proxy: true },
    { op: 'neighbour', ip, ifname: 'ez0', proxy: true },
    { op: 'delete', ip, ifname: 'ez0', proxy: true },
  ]);
  t.deepEqual(add, { ok: true, value: null });
  const entry = { ip, mac: null, ifindex: 2, ifname: 'ez0', state: 'none', flags: 8, flagsExt: 0, proxy: true, router: false };
  t.deepEqual(list, { ok: true, value: [entry] });
  t.deepEqual(get, { ok: true, value: entry });
  t.deepEqual(del, { ok: true, value: null });
  t.deepEqual(ipNeigh('proxy'), []);
  // The proxy entry was never in the ordinary table.
  t.deepEqual(entryOf(ip), []);
});

test.serial('refusals: bad MACs and IPs before the kernel, unknown interfaces after', async (t) => {
  const bad = await api([
    { op: 'add', ip: '198.51.100.40', mac: 'ff:ff:ff:ff:ff:ff', ifname: 'ez0' },
    { op: 'add', ip: '198.51.100.40', mac: '01:00:5e:00:00:fb', ifname: 'ez0' },
    { op: 'add', ip: '198.51.100.40', mac: '00:00:00:00:00:00', ifname: 'ez0' },
    { op: 'add', ip: '224.0.0.251', mac: '02:00:5e:00:00:40', ifname: 'ez0' },
    { op: 'add', ip: '198.51.100.40', ifname: 'ez0' },
    { op: 'add', ip: '198.51.100.40', mac: '02:00:5e:00:00:40', ifname: 'nope0' },
    { op: 'add', ip: '198.51.100.40', mac: '02:00:5e:00:00:40', ifindex: 999 },
    { op: 'neighbour', ip: '198.51.100.40', ifindex: 999 },
    { op: 'delete', ip: '198.51.100.40', ifindex: 999 },
  ]);
  t.like(bad[0], { ok: false, error: { name: 'InvalidNeighbourError', field: 'mac', message: "MAC ff:ff:ff:ff:ff:ff is the broadcast address, not one station: give the neighbour's own MAC" } });
  t.like(bad[1], { ok: false, error: { name: 'InvalidNeighbourError', field: 'mac', value: '01:00:5e:00:00:fb' } });
  t.like(bad[2], { ok: false, error: { name: 'InvalidNeighbourError', field: 'mac', value: '00:00:00:00:00:00' } });
  t.like(bad[3], { ok: false, error: { name: 'InvalidNeighbourError', field: 'ip', value: '224.0.0.251' } });
  t.like(bad[4], { ok: false, error: { name: 'InvalidNeighbourError', field: 'mac', value: '(none)' } });
  for (const r of bad.slice(5)) t.like(r, { ok: false, error: { name: 'UnknownInterfaceError' } });
  t.deepEqual(entryOf('198.51.100.40'), []);
});

test.serial('batch: many changes in one sendto, refusals reported by position, both ACK modes', async (t) => {
  const [add, dupes, del] = await api([
    {
      op: 'batch', kind: 'add', first: '198.51.100.100', count: 100, ifname: 'ez0', chunk: 32,
      // 198.51.100.100 exists by then (refused: EEXIST); the replace of it succeeds.
      extra: [{ op: 'add', ip: '198.51.100.100', mac: '02:00:5e:00:01:00', ifname: 'ez0' }, { op: 'add', ip: '198.51.100.100', mac: '02:00:5e:00:01:00', ifname: 'ez0', replace: true }],
    },
    // Every one of these exists: a refusal per request, in 'errors' mode too (the kernel answers every failure).
    { op: 'batch', kind: 'add', first: '198.51.100.150', count: 10, ifname: 'ez0', ack: 'errors' },
    { op: 'batch', kind: 'del', first: '198.51.100.100', count: 100, ifname: 'ez0', ack: 'errors', extra: [{ op: 'del', ip: '198.51.100.100', ifname: 'ez0' }] },
  ]);
  t.like(add, { ok: true, value: { done: 101 } });
  t.deepEqual((add as { value: { failed: { index: number; code: string }[] } }).value.failed.map((f) => [f.index, f.code]), [[100, 'EEXIST']]);
  t.like(dupes, { ok: true, value: { done: 0 } });
  t.deepEqual((dupes as { value: { failed: { index: number }[] } }).value.failed.map((f) => f.index), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  t.like(del, { ok: true, value: { done: 100 } });
  t.like((del as { value: { failed: unknown[] } }).value.failed, [{ index: 100, code: 'ENOENT', message: 'delete neighbour 198.51.100.100 dev ez0: no such file or directory (ENOENT)' }]);
  // The deletes emptied the range again.
  const lastOctet = (n: IpNeigh) => Number(n.dst.split('.')[3]);
  t.deepEqual(ipNeigh('dev', 'ez0').filter((n) => lastOctet(n) >= 100 && lastOctet(n) < 200), []);
});

test.serial('batch: entries land with the right MACs (checked before deleting)', async (t) => {
  const [add] = await api([{ op: 'batch', kind: 'add', first: '198.51.100.200', count: 40, ifname: 'ez0' }]);
  t.like(add, { ok: true, value: { done: 40, failed: [] } });
  const seen = ipNeigh('dev', 'ez0').filter((n) => Number(n.dst.split('.')[3]) >= 200 && Number(n.dst.split('.')[3]) < 240);
  t.is(seen.length, 40);
  for (const n of seen) {
    const i = Number(n.dst.split('.')[3]) - 200;
    t.deepEqual([n.lladdr, n.state], [`02:00:00:00:00:${i.toString(16).padStart(2, '0')}`, ['PERMANENT']], n.dst);
  }
  const [del] = await api([{ op: 'batch', kind: 'del', first: '198.51.100.200', count: 40, ifname: 'ez0' }]);
  t.like(del, { ok: true, value: { done: 40, failed: [] } });
});

test.serial('neighbours$ sees new and deleted entries, and closes its socket on unsubscribe', async (t) => {
  const [watch] = await api([
    {
      op: 'watch', count: 3, timeoutMs: 10_000,
      during: [
        { op: 'add', ip: '198.51.100.60', mac: '02:00:5e:00:00:60', ifname: 'ez0' },
        { op: 'delete', ip: '198.51.100.60', ifname: 'ez0' },
      ],
    },
  ]);
  // The helper process exited by itself: no poll handle was left holding the event loop.
  t.true(watch?.ok, JSON.stringify(watch));
  const v = (watch as { value: { events: { type: string; entry: { ip: string; mac: string | null; state: string; ifname: string } }[]; sockets: { before: number; during: number; after: number } } }).value;
  t.deepEqual(
    v.events.map((e) => [e.type, e.entry.ip, e.entry.ifname, e.entry.mac, e.entry.state]),
    [
      ['new', '198.51.100.60', 'ez0', '02:00:5e:00:00:60', 'permanent'],
      // An administrative delete is announced as a FAILED entry, then its removal.
      ['new', '198.51.100.60', 'ez0', null, 'failed'],
      ['del', '198.51.100.60', 'ez0', null, 'failed'],
    ],
  );
  t.is(v.sockets.during, v.sockets.before + 1);
  t.is(v.sockets.after, v.sockets.before);
});
