// Issue #16: every rule of `ersatz watch`'s detector, through `ersatz watch --replay` on a capture built here frame by
// frame (a LAN's incident, with its own clock), and the station database it leaves. Reads files only: nothing is sent.
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PcapWriter } from '@ersatz/pcap';
import { ArpOp, Ipv4, Mac, emitArpFrame } from '@ersatz/wire';
import { MAIN, jsonLines } from './helpers/cmd-run.js';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'ez-watch-replay-'));
test.after.always(() => rmSync(work, { recursive: true, force: true }));

const GW = { ip: '192.0.2.1', mac: '02:00:00:00:00:01' };
const A = { ip: '192.0.2.10', mac: '02:00:00:00:00:0a' };
const B = { ip: '192.0.2.20', mac: '02:00:00:00:00:0b' };
const B2 = '02:00:00:00:00:bb'; // B's new NIC
const FORGER = { ip: '192.0.2.66', mac: '02:00:00:00:00:66' };
const FLOODER = '02:00:00:00:00:ff';
const C = { ip: '192.0.2.30', mac: '02:00:00:00:00:0c' };
const C2 = '02:00:00:00:00:cc'; // a second host configured with C's address
const T0 = 1_700_000_000_000; // ms since the epoch

type Frame = { atMs: number; op: 'request' | 'reply'; mac: string; ip: string; target: string; dst?: string };

function frame(f: Frame): Uint8Array {
  const buf = new Uint8Array(60);
  const op = f.op === 'request' ? ArpOp.Request : ArpOp.Reply;
  emitArpFrame(buf, {
    dst: Mac.parse(f.dst ?? 'ff:ff:ff:ff:ff:ff'),
    src: Mac.parse(f.mac),
    arp: { operation: op, senderMac: Mac.parse(f.mac), senderIp: Ipv4.parse(f.ip), targetMac: Mac.ZERO, targetIp: Ipv4.parse(f.target) },
  });
  return buf;
}

/** The incident, second by second. */
function incident(): Frame[] {
  const f: Frame[] = [];
  const s = (sec: number): number => T0 + sec * 1000;
  f.push({ atMs: s(0), op: 'request', ...A, target: GW.ip });
  f.push({ atMs: s(0.001), op: 'reply', ...GW, target: A.ip, dst: A.mac });
  f.push({ atMs: s(1), op: 'request', ...B, target: GW.ip });
  f.push({ atMs: s(2), op: 'request', ...FORGER, target: GW.ip }); // the forger, under its own address
  // The forger claims the gateway's address while the gateway still answers: spoofing.
  for (let i = 0; i < 5; i++) f.push({ atMs: s(10 + i * 0.2), op: 'reply', mac: FORGER.mac, ip: GW.ip, target: A.ip });
  f.push({ atMs: s(10.5), op: 'reply', ...GW, target: A.ip, dst: A.mac });
  // B's NIC is replaced: only the new MAC speaks for its address from now on.
  f.push({ atMs: s(20), op: 'request', mac: B2, ip: B.ip, target: B.ip }); // its gratuitous announcement
  f.push({ atMs: s(21), op: 'request', mac: B2, ip: B.ip, target: GW.ip });
  // A takes a second address.
  f.push({ atMs: s(30), op: 'request', mac: A.mac, ip: '192.0.2.11', target: GW.ip });
  // A sender from outside the subnet.
  f.push({ atMs: s(40), op: 'request', mac: '02:00:00:00:00:99', ip: '198.51.100.9', target: GW.ip });
  // Two hosts with one address: both keep speaking for it.
  f.push({ atMs: s(44), op: 'request', ...C, target: GW.ip });
  f.push({ atMs: s(45), op: 'request', mac: C2, ip: C.ip, target: GW.ip });
  f.push({ atMs: s(45.5), op: 'reply', ...C, target: A.ip, dst: A.mac });
  // A MAC flooding: 150 requests within one second, for addresses nobody has.
  for (let i = 0; i < 150; i++) f.push({ atMs: s(50 + i * 0.005), op: 'request', mac: FLOODER, ip: '192.0.2.200', target: `192.0.2.${100 + (i % 50)}` });
  // The gateway speaks on; everyone else falls silent (threshold 60 s), then A comes back.
  for (const sec of [70, 100, 130]) f.push({ atMs: s(sec), op: 'request', ...GW, target: A.ip });
  f.push({ atMs: s(140), op: 'request', ...A, target: GW.ip });
  return f;
}

async function writeCapture(path: string, frames: readonly Frame[]): Promise<void> {
  const w = await PcapWriter.open(path, { precision: 'us' });
  for (const f of frames) w.write(BigInt(f.atMs) * 1_000_000n, frame(f));
  await w.close();
}

const capture = join(work, 'incident.pcap');
test.before(() => writeCapture(capture, incident()));

async function replay(db: string): Promise<Record<string, unknown>[]> {
  const args = [MAIN, 'watch', '--replay', capture, '--db', db, '--json', '--subnet', '192.0.2.0/24', '--gateway', GW.ip, '--silent-after', '60s', '-I', 'lan0'];
  const { stdout } = await run('node', args);
  return jsonLines(stdout);
}

const events = (lines: Record<string, unknown>[]) => lines.filter((l) => l.type === 'event');
const pick = (lines: Record<string, unknown>[], kind: string) => events(lines).filter((e) => e.kind === kind);

test('each rule raises its event with the facts behind it, and the capture is judged the same twice', async (t) => {
  const first = await replay(join(work, 'one.db'));
  const again = await replay(join(work, 'two.db'));
  t.deepEqual(events(again), events(first), 'the same capture gives the same events');

  t.deepEqual(
    pick(first, 'new').map((e) => [e.ip, e.mac]),
    [
      [A.ip, A.mac],
      [GW.ip, GW.mac],
      [B.ip, B.mac],
      [FORGER.ip, FORGER.mac],
      [C.ip, C.mac],
      ['192.0.2.200', FLOODER],
    ],
  );
  const [gw] = pick(first, 'gateway-moved');
  t.like(gw, { ip: GW.ip, from: GW.mac, to: FORGER.mac, verdict: 'spoofing', forger: FORGER.mac, mac: GW.mac, verifiedBy: 'capture', severity: 'alarm' });
  t.is(pick(first, 'gateway-moved').length, 1, 'one alarm for the whole attack');
  t.like(pick(first, 'moved')[0], { ip: B.ip, from: B.mac, to: B2, verdict: 'replaced', mac: B2, severity: 'warning' });
  t.like(pick(first, 'moved')[1], { ip: C.ip, from: C.mac, to: C2, verdict: 'conflict', forger: null, answered: [C.mac, C2], mac: C.mac, severity: 'warning' });
  t.like(pick(first, 'new-ip')[0], { ip: '192.0.2.11', mac: A.mac, previousIps: [A.ip] });
  t.like(pick(first, 'bogon')[0], { ip: '198.51.100.9', mac: '02:00:00:00:00:99' });
  t.like(pick(first, 'flood')[0], { mac: FLOODER, frames: 101 });
  t.deepEqual(pick(first, 'silent').map((e) => e.ip).sort(), [A.ip, '192.0.2.11', B.ip, FORGER.ip, C.ip, '192.0.2.200'].sort());
  t.like(pick(first, 'back')[0], { ip: A.ip, mac: A.mac });
  const summary = first.find((l) => l.type === 'summary')?.summary as Record<string, unknown>;
  t.like(summary, { frames: incident().length, malformed: 0, stations: 7 });
});

test('the database keeps the stations with the gateway unmoved, the history, and is private; a second replay finds nothing new', async (t) => {
  const db = join(work, 'kept.db');
  await replay(db);
  t.is(statSync(db).mode & 0o777, 0o600);
  const { stdout } = await run('node', [MAIN, 'stations', '--db', db, '--json']);
  const stations = jsonLines(stdout);
  t.like(stations.find((s) => s.ip === GW.ip), { mac: GW.mac, seenAs: ['reply', 'request'] });
  t.like(stations.find((s) => s.ip === B.ip), { mac: B2 });
  t.is(stations.length, 7, 'the bogon is reported, not kept');
  t.like(stations.find((s) => s.ip === C.ip), { mac: C.mac }, 'a conflict keeps the first holder');
  const table = (await run('node', [MAIN, 'stations', '--db', db])).stdout.split('\n');
  t.regex(table[0]!, /^IF\s+IP\s+MAC/);
  t.true(table.some((l) => l.includes(GW.ip) && l.includes(GW.mac)));
  const second = await replay(db);
  t.deepEqual(pick(second, 'new'), [], 'every station was already known');
});

test('a capture from the kernel (test/fixtures/pcap/arp-us.pcap) replays to its two stations; without --subnet no sender is a bogon', async (t) => {
  const fixture = fileURLToPath(new URL('../../test/fixtures/pcap/arp-us.pcap', import.meta.url));
  const { stdout } = await run('node', [MAIN, 'watch', '--replay', fixture, '--db', join(work, 'fixture.db'), '--json']);
  const lines = jsonLines(stdout);
  t.deepEqual(events(lines).map((e) => [e.kind, e.ip, e.mac, e.ifname]), [
    ['new', '198.51.100.1', '02:e5:00:00:00:01', 'replay'],
    ['new', '198.51.100.2', '02:e5:00:00:00:02', 'replay'],
  ]);
  // Nothing is sent or captured: none of the pipeline's threads starts (Node's trace of its worker threads says so).
  const traced = await run('node', [MAIN, 'watch', '--replay', fixture, '--db', join(work, 'fixture.db')], { env: { ...process.env, NODE_DEBUG: 'worker' } });
  t.notRegex(traced.stderr, /created Worker/);
});

test('bad input: a file that is not a capture, a missing database, a bad duration', async (t) => {
  const notPcap = join(work, 'not.pcap');
  await import('node:fs').then((fs) => fs.writeFileSync(notPcap, 'hello, this is not a capture'));
  for (const [args, message] of [
    [['watch', '--replay', notPcap, '--db', join(work, 'x.db')], /^ersatz: watch: --replay .*not\.pcap: /],
    [['stations', '--db', join(work, 'none.db')], /^ersatz: stations: no station database at .*none\.db: run 'ersatz watch' first/],
    [['watch', '--replay', capture, '--silent-after', '5 minutes'], /^ersatz: watch: --silent-after takes a duration like 30s, 5m or 2h/],
    [['watch', '--replay', capture, '--sweep', '5m'], /^ersatz: watch: --sweep has no meaning with --replay/],
  ] as const) {
    const err = await t.throwsAsync(run('node', [MAIN, ...args]));
    const e = err as Error & { code: number; stderr: string };
    t.is(e.code, 2, args.join(' '));
    t.regex(e.stderr.trim(), message);
    t.is(e.stderr.trim().split('\n').length, 1, 'one line');
  }
});
