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
  f.push({ atMs: s(46), op: 'request', mac: C2, ip: C.ip, target: GW.ip });
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

test('a move is judged on what follows the claim, never on the claim itself: silence after it is unverified, only the old MAC after it is spoofing', async (t) => {
  const s = (sec: number): number => T0 + sec * 1000;
  const D = { ip: '192.0.2.40', mac: '02:00:00:00:00:0d' };
  const D2 = '02:00:00:00:00:dd';
  const frames: Frame[] = [
    { atMs: s(0), op: 'request', ...A, target: GW.ip },
    { atMs: s(0.5), op: 'request', ...D, target: GW.ip },
    // One reply claims A's address from another MAC, then nothing more is heard for it.
    { atMs: s(5), op: 'reply', mac: B2, ip: A.ip, target: GW.ip, dst: GW.mac },
    // One reply claims D's address; D speaks for it after that, the claimer never again.
    { atMs: s(20), op: 'reply', mac: D2, ip: D.ip, target: GW.ip, dst: GW.mac },
    { atMs: s(21), op: 'request', ...D, target: GW.ip },
    { atMs: s(30), op: 'request', ...GW, target: A.ip },
  ];
  const path = join(work, 'claims.pcap');
  await writeCapture(path, frames);
  const { stdout } = await run('node', [MAIN, 'watch', '--replay', path, '--db', join(work, 'claims.db'), '--json', '--subnet', '192.0.2.0/24', '-I', 'lan0']);
  const moved = pick(jsonLines(stdout), 'moved');
  t.is(moved.length, 2);
  t.like(moved[0], { ip: A.ip, from: A.mac, to: B2, verdict: 'unverified', answered: [], verifiedBy: 'capture', mac: B2 });
  t.like(moved[1], { ip: D.ip, from: D.mac, to: D2, verdict: 'spoofing', answered: [D.mac], forger: D2, mac: D.mac, severity: 'alarm' });
});

test('Q-in-Q: each customer VLAN under a provider VLAN (802.1ad) is a domain of its own, IF.SVID.CVID: one address on two is no move', async (t) => {
  const s = (sec: number): bigint => BigInt(T0 + sec * 1000) * 1_000_000n;
  /** An ARP request tagged 802.1ad `svid` outside and 802.1Q `cvid` inside. */
  const qinq = (svid: number, cvid: number, mac: string, ip: string): Uint8Array => {
    const inner = new Uint8Array(64);
    const n = emitArpFrame(inner, { dst: Mac.BROADCAST, src: Mac.parse(mac), vlan: cvid, arp: { operation: ArpOp.Request, senderMac: Mac.parse(mac), senderIp: Ipv4.parse(ip), targetMac: Mac.ZERO, targetIp: Ipv4.parse(GW.ip) } });
    return Uint8Array.from([...inner.subarray(0, 12), 0x88, 0xa8, svid >> 8, svid & 255, ...inner.subarray(12, n)]);
  };
  const path = join(work, 'qinq.pcap');
  const w = await PcapWriter.open(path, { precision: 'us' });
  w.write(s(0), qinq(200, 2001, A.mac, A.ip));
  w.write(s(1), qinq(200, 2002, B.mac, A.ip)); // the same address in the next customer's VLAN
  w.write(s(2), qinq(200, 2001, A.mac, A.ip));
  // A priority tag (VID 0) inside or outside is no VLAN of its own: C is in the provider's VLAN 200, the next in VLAN 10.
  w.write(s(3), qinq(200, 0, C.mac, C.ip));
  w.write(s(4), qinq(0, 10, FORGER.mac, FORGER.ip));
  await w.close();
  const { stdout } = await run('node', [MAIN, 'watch', '--replay', path, '--db', join(work, 'qinq.db'), '--json', '-I', 'lan0']);
  const lines = jsonLines(stdout);
  t.deepEqual(pick(lines, 'new').map((e) => [e.ifname, e.ip, e.mac]), [
    ['lan0.200.2001', A.ip, A.mac],
    ['lan0.200.2002', A.ip, B.mac],
    ['lan0.200', C.ip, C.mac],
    ['lan0.10', FORGER.ip, FORGER.mac],
  ]);
  t.deepEqual(events(lines).filter((e) => e.kind !== 'new'), [], 'no move, no conflict');
  // A capture of the trunk and of the provider's VLAN itself (its interface, lan0.200, sees one tag fewer): the
  // customers' frames seen on the trunk are left to lan0.200, as an 802.1Q VLAN watched itself is.
  const inner = (cvid: number, mac: string, ip: string): Uint8Array => {
    const f = qinq(200, cvid, mac, ip);
    return Uint8Array.from([...f.subarray(0, 12), ...f.subarray(16)]);
  };
  const two = join(work, 'qinq.pcapng');
  await import('node:fs').then((fs) =>
    fs.writeFileSync(two, pcapng([undefined, 'lan0.200'], [
      { iface: 1, atMs: T0, data: inner(2001, A.mac, A.ip) },
      { iface: 0, atMs: T0 + 1, data: qinq(200, 2001, C.mac, C.ip) }, // on the trunk only
    ])),
  );
  const both = jsonLines((await run('node', [MAIN, 'watch', '--replay', two, '--db', join(work, 'qinq2.db'), '--json', '-I', 'lan0'])).stdout);
  t.deepEqual(pick(both, 'new').map((e) => [e.ifname, e.ip]), [['lan0.200.2001', A.ip]]);
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

// What real captures hold besides stations (found replaying tcpdump's test captures beside arpwatch): senders that
// cannot be stations, frames whose Ethernet source is not their ARP sender, floods that claim no address or rotate
// their sender MAC, one address on two VLANs, a priority tag, long gaps with other traffic only.
test('bogons are reported, not kept (an alarm on the gateway); a mismatch is said and still counts; floods count every frame by Ethernet source; VLANs are kept apart; silence is stamped when it began', async (t) => {
  const s = (sec: number): bigint => BigInt(T0 + sec * 1000) * 1_000_000n;
  const arp = (o: { src: string; mac?: string; ip: string; target?: string; vlan?: number; op?: ArpOp }): Uint8Array => {
    const buf = new Uint8Array(64);
    emitArpFrame(buf, {
      dst: Mac.BROADCAST,
      src: Mac.parse(o.src),
      ...(o.vlan === undefined ? {} : { vlan: o.vlan }),
      arp: { operation: o.op ?? ArpOp.Request, senderMac: Mac.parse(o.mac ?? o.src), senderIp: Ipv4.parse(o.ip), targetMac: Mac.ZERO, targetIp: Ipv4.parse(o.target ?? A.ip) },
    });
    return buf;
  };
  const ipv4 = new Uint8Array(60); // another protocol's frame: it only moves the capture's clock
  ipv4.set([0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x08, 0x00, 0x45]);
  const path = join(work, 'odd.pcap');
  const w = await PcapWriter.open(path, { precision: 'us' });
  w.write(s(0), arp({ src: 'ff:ff:ff:ff:ff:ff', ip: '192.0.2.90' })); // a broadcast sender MAC
  w.write(s(1), arp({ src: '01:00:5e:00:00:01', ip: '192.0.2.91' })); // a multicast one
  w.write(s(2), arp({ src: '00:00:00:00:00:00', ip: '192.0.2.92' }));
  w.write(s(3), arp({ src: '02:00:00:00:00:33', mac: '02:00:00:00:00:34', ip: '192.0.2.93' })); // Ethernet source ≠ ARP sender
  for (const [i, ip] of ['127.0.0.1', '224.0.0.1', '255.255.255.255', '192.0.2.255', '0.1.2.3'].entries()) w.write(s(4 + i * 0.1), arp({ src: `02:00:00:00:01:0${i}`, ip }));
  w.write(s(5), arp({ src: '02:00:00:00:00:a9', ip: '169.254.7.8' })); // link-local: on every link (RFC 3927)
  w.write(s(6), arp({ src: GW.mac, ip: GW.ip }));
  // Blackholing the gateway: twice within a minute, one alarm.
  for (const sec of [7, 7.5]) w.write(s(sec), arp({ src: '00:00:00:00:00:00', ip: GW.ip, op: ArpOp.Reply }));
  // Poisoning it from another Ethernet source than the MAC the reply names (a neighbour caches the ARP's MAC), while
  // the gateway still answers: a mismatch, then the spoofing alarm (the forger has an address of its own).
  w.write(s(7.8), arp({ src: FORGER.mac, ip: FORGER.ip }));
  w.write(s(8), arp({ src: '02:00:00:00:00:77', mac: FORGER.mac, ip: GW.ip, op: ArpOp.Reply }));
  w.write(s(8.5), arp({ src: GW.mac, ip: GW.ip, op: ArpOp.Reply }));
  // 150 RFC 5227 probes in a second from one source: no address claimed, still a flood.
  for (let i = 0; i < 150; i++) w.write(s(10 + i * 0.005), arp({ src: '02:00:00:00:00:f1', ip: '0.0.0.0', target: `192.0.2.${100 + (i % 50)}` }));
  // 300 frames in a second from one source, outside the subnet, each naming another sender MAC: a bogon a frame
  // until the flood is reported, then the flood stands for them.
  for (let i = 0; i < 300; i++) w.write(s(20 + i * 0.003), arp({ src: '02:00:00:00:00:f2', mac: `02:00:00:00:f2:${(i % 256).toString(16).padStart(2, '0')}`, ip: `198.51.100.${i % 50}` }));
  // One address on VLAN 10 and on VLAN 20: two broadcast domains, two stations, no move. VLAN 0 is a priority tag.
  w.write(s(30), arp({ src: '02:00:00:00:10:01', ip: '10.9.9.9', vlan: 10 }));
  w.write(s(30.5), arp({ src: '02:00:00:00:20:01', ip: '10.9.9.9', vlan: 20 }));
  w.write(s(31), arp({ src: '02:00:00:00:20:01', ip: '10.9.9.9', vlan: 20 }));
  w.write(s(32), arp({ src: C.mac, ip: C.ip, vlan: 0 }));
  // A runt that is not ARP, then a truncated ARP frame: only the second is malformed ARP.
  w.write(s(40), new Uint8Array(10));
  w.write(s(41), arp({ src: A.mac, ip: A.ip, target: GW.ip }).subarray(0, 30));
  w.write(s(42), arp({ src: A.mac, ip: A.ip, target: GW.ip }));
  // A falls silent with only other traffic around, comes back, and falls silent again before the capture ends.
  for (const sec of [100, 500]) w.write(s(sec), ipv4);
  w.write(s(1042), arp({ src: A.mac, ip: A.ip, target: GW.ip }));
  w.write(s(1200), ipv4);
  await w.close();

  const { stdout } = await run('node', [MAIN, 'watch', '--replay', path, '--db', join(work, 'odd.db'), '--json', '--subnet', '192.0.2.0/24', '--gateway', GW.ip, '-I', 'lan0', '--silent-after', '60s']);
  const lines = jsonLines(stdout);
  const ats = events(lines).map((e) => Date.parse(String(e.at)));
  t.deepEqual(ats, [...ats].sort((a, b) => a - b), 'in time order');
  const bogons = pick(lines, 'bogon');
  t.deepEqual(
    bogons.filter((e) => !String(e.ip).startsWith('198.51.100.')).map((e) => [e.ip, e.reason, e.severity]),
    [
      ['192.0.2.90', 'group-mac', 'warning'],
      ['192.0.2.91', 'group-mac', 'warning'],
      ['192.0.2.92', 'zero-mac', 'warning'],
      ['127.0.0.1', 'address', 'warning'],
      ['224.0.0.1', 'address', 'warning'],
      ['255.255.255.255', 'address', 'warning'],
      ['192.0.2.255', 'address', 'warning'],
      ['0.1.2.3', 'address', 'warning'],
      [GW.ip, 'zero-mac', 'alarm'],
    ],
  );
  t.is(bogons.filter((e) => String(e.ip).startsWith('198.51.100.')).length, 100, 'the rotating source: a line a frame until its flood');
  t.deepEqual(
    pick(lines, 'mismatch').map((e) => [e.ip, e.mac, e.ethSrc]),
    [
      ['192.0.2.93', '02:00:00:00:00:34', '02:00:00:00:00:33'],
      [GW.ip, FORGER.mac, '02:00:00:00:00:77'],
    ],
  );
  t.like(pick(lines, 'gateway-moved')[0], { ip: GW.ip, from: GW.mac, to: FORGER.mac, verdict: 'spoofing', forger: FORGER.mac, severity: 'alarm' });
  t.deepEqual(
    pick(lines, 'flood').map((e) => [e.mac, e.frames]),
    [
      ['02:00:00:00:00:f1', 101],
      ['02:00:00:00:00:f2', 101],
    ],
  );
  t.deepEqual(
    pick(lines, 'new').map((e) => [e.ifname, e.ip, e.mac]),
    [
      ['lan0', '192.0.2.93', '02:00:00:00:00:34'],
      ['lan0', '169.254.7.8', '02:00:00:00:00:a9'],
      ['lan0', GW.ip, GW.mac],
      ['lan0', FORGER.ip, FORGER.mac],
      ['lan0.10', '10.9.9.9', '02:00:00:00:10:01'],
      ['lan0.20', '10.9.9.9', '02:00:00:00:20:01'],
      ['lan0', C.ip, C.mac],
      ['lan0', A.ip, A.mac],
    ],
  );
  t.deepEqual(pick(lines, 'moved'), []);
  t.deepEqual(
    pick(lines, 'silent').filter((e) => e.ip === A.ip).map((e) => e.at),
    [new Date(T0 + 102_000).toISOString(), new Date(T0 + 1_102_000).toISOString()],
    'silent 60 s after it was last seen, though only other frames came then; again at the end',
  );
  t.like(pick(lines, 'back').find((e) => e.ip === A.ip), { silentForMs: 1_000_000 });
  const summary = lines.find((l) => l.type === 'summary')?.summary as Record<string, unknown>;
  t.like(summary, { malformed: 1, stations: 8 });
});

test('a capture of a link type ersatz reads no ARP from (raw IPv4): every frame skipped, said in one line on stderr, exit 0', async (t) => {
  const path = join(work, 'raw.pcap');
  const w = await PcapWriter.open(path, { precision: 'us', linktype: 228 }); // LINKTYPE_IPV4
  for (let i = 0; i < 3; i++) w.write(BigInt(T0 + i) * 1_000_000n, new Uint8Array(20).fill(0x45, 0, 1));
  await w.close();
  const { stdout, stderr } = await run('node', [MAIN, 'watch', '--replay', path, '--db', join(work, 'raw.db'), '--json']);
  // Node's own warnings (node:sqlite is experimental on 22 and 24) are not ersatz's lines.
  t.deepEqual(
    stderr.split('\n').filter((l) => l.startsWith('ersatz:')),
    [`ersatz: warning: watch: --replay ${path}: frames skipped, ARP is read from Ethernet and Linux cooked captures only: 3 of link type IPV4 (228)`],
  );
  t.like(jsonLines(stdout).find((l) => l.type === 'summary')?.summary, { frames: 3, undecoded: { 228: 3 }, stations: 0 });
});

/** A little-endian pcapng: one section, an IDB per entry of `names` (Ethernet; undefined: no if_name), the frames. */
function pcapng(names: readonly (string | undefined)[], frames: readonly { iface: number; atMs: number; data: Uint8Array }[]): Uint8Array {
  const blocks: Uint8Array[] = [];
  const block = (type: number, body: Uint8Array): void => {
    const padded = (body.length + 3) & ~3;
    const b = new Uint8Array(12 + padded);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, type, true);
    dv.setUint32(4, b.length, true);
    b.set(body, 8);
    dv.setUint32(b.length - 4, b.length, true);
    blocks.push(b);
  };
  const shb = new DataView(new ArrayBuffer(16));
  shb.setUint32(0, 0x1a2b3c4d, true);
  shb.setUint16(4, 1, true);
  shb.setBigInt64(8, -1n, true);
  block(0x0a0d0d0a, new Uint8Array(shb.buffer));
  for (const name of names) {
    const text = name === undefined ? new Uint8Array(0) : new TextEncoder().encode(name);
    const body = new Uint8Array(8 + (text.length > 0 ? 4 + ((text.length + 3) & ~3) : 0) + 4); // + opt_endofopt
    const dv = new DataView(body.buffer);
    dv.setUint16(0, 1, true); // LINKTYPE_ETHERNET
    dv.setUint32(4, 65535, true);
    if (text.length > 0) {
      dv.setUint16(8, 2, true); // if_name
      dv.setUint16(10, text.length, true);
      body.set(text, 12);
    }
    block(1, body);
  }
  for (const f of frames) {
    const body = new Uint8Array(20 + f.data.length);
    const dv = new DataView(body.buffer);
    const us = BigInt(f.atMs) * 1000n; // if_tsresol's default: microseconds
    dv.setUint32(0, f.iface, true);
    dv.setUint32(4, Number(us >> 32n), true);
    dv.setUint32(8, Number(us & 0xffffffffn), true);
    dv.setUint32(12, f.data.length, true);
    dv.setUint32(16, f.data.length, true);
    body.set(f.data, 20);
    block(6, body);
  }
  return Buffer.concat(blocks);
}

test('a pcapng capture of several interfaces keeps them apart: one address on each is three stations, no move', async (t) => {
  const at = (mac: string) => frame({ atMs: 0, op: 'request', mac, ip: '10.1.1.1', target: '10.1.1.9' });
  const path = join(work, 'three.pcapng');
  const names = [undefined, 'lan-b', undefined];
  const frames = [0, 1, 2].flatMap((i) => [0, 1].map((k) => ({ iface: i, atMs: T0 + k * 1000 + i, data: at(`02:00:00:00:0${i}:01`) })));
  await import('node:fs').then((fs) => fs.writeFileSync(path, pcapng(names, frames)));
  const { stdout } = await run('node', [MAIN, 'watch', '--replay', path, '--db', join(work, 'three.db'), '--json', '-I', 'lan0']);
  const lines = jsonLines(stdout);
  t.deepEqual(
    events(lines).map((e) => [e.kind, e.ifname, e.ip, e.mac]),
    [
      ['new', 'lan0', '10.1.1.1', '02:00:00:00:00:01'],
      ['new', 'lan-b', '10.1.1.1', '02:00:00:00:01:01'],
      ['new', 'lan0#2', '10.1.1.1', '02:00:00:00:02:01'],
    ],
  );
  t.like(lines.find((l) => l.type === 'summary')?.summary, { frames: 6, stations: 3 });
});
