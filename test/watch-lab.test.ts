// Issue #16, `ersatz watch` against real kernels: four namespaces on a bridge (the watcher, its gateway, a host and a
// forger). A host appears, changes its MAC, goes silent; the forger claims the gateway's address while the gateway
// still answers; a `kill -9` in the middle of a flood leaves a database that opens and holds every event printed.
// Each step waits for the event it causes (bounded by a generous ceiling that only catches a hang).
import test from 'ava';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab } from '@ersatz/lab';
import { StationStore } from '@ersatz/watch';
import { Ipv4, Mac, ArpOp, emitArpFrame } from '@ersatz/wire';
import { scratchDir, startErsatz, ersatz, jsonLines } from './helpers/cmd-run.js';
import { startAttacker, UNTIL_STOPPED_MS } from './helpers/hardening-run.js';

const STEP_MS = 60_000;
const NAMES = ['w', 'g', 'h', 'f'] as const;
type Name = (typeof NAMES)[number];
interface Station {
  readonly ns: string;
  readonly ip: string;
  readonly mac: string;
}

/** The watcher (.1), its default gateway (.2), a host (.3) and a forger (.4) on one bridge, 10.9.0.0/24. */
function bridgeLab(prefix: string): { lab: Lab; at: Record<Name, Station> } {
  const lab = new Lab(prefix);
  try {
    const sw = lab.namespace('sw');
    lab.sh(sw, ['ip', 'link', 'add', 'br0', 'type', 'bridge']);
    lab.sh(sw, ['ip', 'link', 'set', 'br0', 'up']);
    const at = {} as Record<Name, Station>;
    NAMES.forEach((name, i) => {
      const ns = lab.namespace(name);
      lab.veth({ ns, ifname: 'ez0' }, { ns: sw, ifname: `p${i}` });
      lab.sh(sw, ['ip', 'link', 'set', `p${i}`, 'master', 'br0']);
      const ip = `10.9.0.${i + 1}`;
      lab.sh(ns, ['ip', 'addr', 'add', `${ip}/24`, 'dev', 'ez0']);
      at[name] = { ns, ip, mac: lab.mac(ns, 'ez0') };
    });
    lab.sh(at.w.ns, ['ip', 'route', 'add', 'default', 'via', at.g.ip]);
    return { lab, at };
  } catch (err) {
    lab.destroy();
    throw err;
  }
}

/** The lines a running ersatz prints, and a wait for the first one that matches. */
function follow(child: ChildProcess): { lines: Record<string, unknown>[]; stderr: () => string; until(what: string, find: () => Record<string, unknown> | undefined): Promise<Record<string, unknown>>; event(kind: string, ip: string): Promise<Record<string, unknown>>; started(): Promise<unknown> } {
  const lines: Record<string, unknown>[] = [];
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    out += s;
    const end = out.lastIndexOf('\n');
    if (end < 0) return;
    lines.push(...jsonLines(out.slice(0, end + 1)));
    out = out.slice(end + 1);
    for (const w of waiters.splice(0)) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    err += s;
    for (const w of waiters.splice(0)) w();
  });
  const until = (what: string, find: () => Record<string, unknown> | undefined): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what} within ${STEP_MS / 1000} s; got:\n${lines.map((l) => JSON.stringify(l)).join('\n')}\n${err}`)), STEP_MS);
      const look = (): void => {
        const hit = find();
        if (hit !== undefined) {
          clearTimeout(timer);
          resolve(hit);
        } else if (child.exitCode !== null) {
          clearTimeout(timer);
          reject(new Error(`ersatz watch exited (${child.exitCode}) before ${what}: ${err}`));
        } else waiters.push(look);
      };
      look();
    });
  const started = (): Promise<unknown> => until('the start', () => (err.includes('watch: listening on ez0') ? {} : undefined));
  const event = (kind: string, ip: string): Promise<Record<string, unknown>> => until(`the ${kind} event for ${ip}`, () => lines.find((l) => l.type === 'event' && l.kind === kind && l.ip === ip));
  return { lines, stderr: () => err, until, event, started };
}

/** A broadcast ARP reply "`ip` is-at `mac`" to `target`, as hex for the attacker. */
function forgedReply(mac: string, ip: string, target: Station): string {
  const buf = new Uint8Array(60);
  emitArpFrame(buf, {
    dst: Mac.BROADCAST,
    src: Mac.parse(mac),
    arp: { operation: ArpOp.Reply, senderMac: Mac.parse(mac), senderIp: Ipv4.parse(ip), targetMac: Mac.parse(target.mac), targetIp: Ipv4.parse(target.ip) },
  });
  return Buffer.from(buf).toString('hex');
}

test.serial('a new host, a changed MAC, a spoofed gateway and a silent host, each judged; --exec and --metrics report them', async (t) => {
  const { lab, at } = bridgeLab('wat');
  t.teardown(() => lab.destroy());
  const dir = scratchDir(t);
  const db = join(dir, 'stations.db');
  const execLog = join(dir, 'exec.log');
  const child = startErsatz(lab, at.w.ns, ['watch', '-I', 'ez0', '--json', '--db', db, '--silent-after', '5s', '--metrics', '9464', '--exec', `cat >> ${execLog}; echo "$ERSATZ_EVENT $ERSATZ_IP" >> ${execLog}.env`]);
  const w = follow(child);
  await w.started();

  // A new host: its gratuitous ARP (iputils arping -U, from its own address).
  lab.sh(at.h.ns, ['arping', '-q', '-U', '-c', '1', '-I', 'ez0', at.h.ip]);
  t.like(await w.event('new', at.h.ip), { mac: at.h.mac, seenAs: 'gratuitous', severity: 'info' });
  lab.sh(at.g.ns, ['arping', '-q', '-U', '-c', '1', '-I', 'ez0', at.g.ip]);
  await w.event('new', at.g.ip);

  // The host gets a new NIC: only the new MAC answers for its address.
  const newMac = '02:00:5e:00:53:77';
  lab.sh(at.h.ns, ['ip', 'link', 'set', 'dev', 'ez0', 'address', newMac]);
  lab.sh(at.h.ns, ['arping', '-q', '-U', '-c', '1', '-I', 'ez0', at.h.ip]);
  t.like(await w.event('moved', at.h.ip), { from: at.h.mac, to: newMac, verdict: 'replaced', verifiedBy: 'probe', answered: [newMac], mac: newMac });

  // The forger claims the gateway's address (broadcast replies, arpspoof's way) while the gateway still answers.
  const attacker = await startAttacker(lab, at.f.ns, 'repeat', { ifname: 'ez0', frames: [forgedReply(at.f.mac, at.g.ip, at.w)], everyMs: 100, ms: UNTIL_STOPPED_MS });
  const alarm = await w.event('gateway-moved', at.g.ip).finally(() => attacker.stop());
  t.like(alarm, { from: at.g.mac, to: at.f.mac, verdict: 'spoofing', forger: at.f.mac, answered: [at.g.mac], mac: at.g.mac, severity: 'alarm' });

  // Metrics, read from inside the watcher's namespace (loopback there).
  const metrics = await lab.exec(at.w.ns, ['node', '-e', "fetch('http://127.0.0.1:9464/metrics').then((r) => r.text()).then((s) => process.stdout.write(s))"]);
  t.regex(metrics.stdout, /^ersatz_watch_events_total\{kind="gateway-moved"\} 1$/m);
  t.regex(metrics.stdout, /^ersatz_watch_events_total\{kind="moved"\} 1$/m);
  const frames = Number(/^ersatz_watch_frames_total\{interface="ez0"\} (\d+)$/m.exec(metrics.stdout)?.[1]);
  t.true(frames >= 6, `${frames} frames: at least 3 gratuitous, 2 answers to the questions and a forged reply`);
  t.regex(metrics.stdout, /^ersatz_watch_drops_total\{interface="ez0"\} 0$/m);

  // The host says nothing more: silent after the threshold.
  t.like(await w.event('silent', at.h.ip), { mac: newMac });
  child.kill('SIGTERM');
  const code = await new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve)));
  t.is(code, 143);
  const summary = w.lines.find((l) => l.type === 'summary');
  t.like(summary, { summary: { interfaces: ['ez0'], execFailed: 0, execDropped: 0 } });

  // --exec ran once per event, with the event on stdin and in the environment.
  const printed = w.lines.filter((l) => l.type === 'event');
  const execed = jsonLines(readFileSync(execLog, 'utf8'));
  t.deepEqual(execed.map((e) => `${String(e.kind)} ${String(e.ip)}`).sort(), printed.map((e) => `${String(e.kind)} ${String(e.ip)}`).sort());
  t.deepEqual(readFileSync(`${execLog}.env`, 'utf8').trim().split('\n').sort(), printed.map((e) => `${String(e.kind)} ${String(e.ip)}`).sort());

  // The table: the gateway kept its MAC, the host has its new one.
  const stations = jsonLines((await ersatz(lab, at.w.ns, ['stations', '--db', db, '--json'])).stdout);
  t.like(stations.find((s) => s.ip === at.g.ip), { mac: at.g.mac });
  t.like(stations.find((s) => s.ip === at.h.ip), { mac: newMac, silent: true });
});

test.serial('kill -9 during a flood: the database opens intact and holds every event printed before it', async (t) => {
  const { lab, at } = bridgeLab('wak');
  t.teardown(() => lab.destroy());
  const dir = scratchDir(t);
  const db = join(dir, 'stations.db');
  const child = startErsatz(lab, at.w.ns, ['watch', '-I', 'ez0', '--json', '--db', db]);
  const w = follow(child);
  await w.started();
  // Broadcast requests from 256 MACs for 203.0.113.200, outside the lab's subnet: a bogon event per MAC.
  const flood = await startAttacker(lab, at.f.ns, 'flood', { ifname: 'ez0', valid: true, ms: UNTIL_STOPPED_MS, maxFrames: 50_000_000 });
  try {
    await w.until('a hundred events', () => w.lines.filter((l) => l.type === 'event')[99]);
    child.kill('SIGKILL');
    await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve)));
  } finally {
    await flood.stop();
  }
  const printed = w.lines.filter((l) => l.type === 'event');
  const store = await StationStore.open(db);
  try {
    const kept = store.events().map((e) => JSON.stringify(e));
    for (const e of printed) {
      const { type, at: _at, ...facts } = e;
      t.true(kept.includes(JSON.stringify(facts)), `printed but not kept: ${JSON.stringify(e)}`);
    }
    t.true(kept.length >= printed.length);
  } finally {
    store.close();
  }
  const check = await ersatz(lab, at.w.ns, ['stations', '--db', db]);
  t.is(check.code, 0, check.stderr);
});

test.serial('--sweep finds the stations that say nothing, at its polite rate, and --count ends the run', async (t) => {
  const { lab, at } = bridgeLab('was');
  t.teardown(() => lab.destroy());
  const db = join(scratchDir(t), 'stations.db');
  const r = await ersatz(lab, at.w.ns, ['watch', '-I', 'ez0', '--json', '--db', db, '--sweep', '1h', '--rate', '200', '--count', '3']);
  t.is(r.code, 0, r.stderr);
  const found = jsonLines(r.stdout).filter((l) => l.type === 'event');
  // The capture hears each answer before the sweep reports it: first seen as a reply, then also by the sweep.
  t.deepEqual(found.map((e) => [e.kind, e.ip, e.mac, e.seenAs]).sort(), (['g', 'h', 'f'] as const).map((n) => ['new', at[n].ip, at[n].mac, 'reply']).sort());
  const stations = jsonLines((await ersatz(lab, at.w.ns, ['stations', '--db', db, '--json'])).stdout);
  t.deepEqual(stations.map((s) => [s.ip, s.seenAs]), (['g', 'h', 'f'] as const).map((n) => [at[n].ip, ['reply', 'sweep']]));
});

test.serial('a trunk: one address on two VLANs is two stations, IF.VID, neither a move nor a bogon', async (t) => {
  const { lab, at } = bridgeLab('wav');
  t.teardown(() => lab.destroy());
  const db = join(scratchDir(t), 'stations.db');
  const child = startErsatz(lab, at.w.ns, ['watch', '-I', 'ez0', '--json', '--db', db]);
  const w = follow(child);
  await w.started();
  // The host on VLAN 10 and the forger on VLAN 20 both announce 10.10.0.3 (outside the watcher's own subnet); the
  // bridge carries their tagged frames to the watcher's untagged port, where the kernel hands them to the capture
  // with the tag aside and libpcap puts it back. (Tagged by hand: this kernel may have no 802.1Q module.)
  const tagged = (s: Station, vlan: number): string => {
    const buf = new Uint8Array(64);
    const arp = { operation: ArpOp.Request, senderMac: Mac.parse(s.mac), senderIp: Ipv4.parse('10.10.0.3'), targetMac: Mac.ZERO, targetIp: Ipv4.parse('10.10.0.3') };
    emitArpFrame(buf, { dst: Mac.BROADCAST, src: Mac.parse(s.mac), vlan, arp });
    return Buffer.from(buf).toString('hex');
  };
  const senders = await Promise.all([
    startAttacker(lab, at.h.ns, 'repeat', { ifname: 'ez0', frames: [tagged(at.h, 10)], everyMs: 200, ms: UNTIL_STOPPED_MS }),
    startAttacker(lab, at.f.ns, 'repeat', { ifname: 'ez0', frames: [tagged(at.f, 20)], everyMs: 200, ms: UNTIL_STOPPED_MS }),
  ]);
  try {
    t.like(await w.until('the VLAN 10 station', () => w.lines.find((l) => l.kind === 'new' && l.ifname === 'ez0.10')), { ip: '10.10.0.3', mac: at.h.mac, seenAs: 'gratuitous' });
    t.like(await w.until('the VLAN 20 station', () => w.lines.find((l) => l.kind === 'new' && l.ifname === 'ez0.20')), { ip: '10.10.0.3', mac: at.f.mac, seenAs: 'gratuitous' });
  } finally {
    await Promise.all(senders.map((a) => a.stop()));
  }
  // An untagged frame after them: the capture keeps order, so whatever they raised is printed before its event.
  lab.sh(at.g.ns, ['arping', '-q', '-U', '-c', '1', '-I', 'ez0', at.g.ip]);
  await w.event('new', at.g.ip);
  t.deepEqual(w.lines.filter((l) => l.ip === '10.10.0.3' && l.kind !== 'new'), []);
  child.kill('SIGTERM');
  await new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve)));
  const stations = jsonLines((await ersatz(lab, at.w.ns, ['stations', '--db', db, '--json'])).stdout);
  t.deepEqual(stations.filter((s) => s.ip === '10.10.0.3').map((s) => [s.ifname, s.mac]).sort(), [['ez0.10', at.h.mac], ['ez0.20', at.f.mac]].sort());
});
