// `ersatz neigh` end to end: dist/main.js runs inside a lab namespace; the kernel's table is read back with
// `ip -j neigh` and /proc/net/arp. Build first: npx tsc -p packages/cli && npx tsc -p tsconfig.json.
import test from 'ava';
import { once } from 'node:events';
import { twoHostLab, type Host, type Lab, type RunResult } from '@ersatz/lab';
import { procArp as procArpOf } from './helpers/proc-arp.js';
import { stillNeighbours } from './helpers/still-neighbours.js';
import { MAIN } from './helpers/cmd-run.js';

// setpriv drops CAP_NET_ADMIN from the bounding set, so the root-owned node it execs runs without it.
const NO_NET_ADMIN = ['setpriv', '--inh-caps=-all', '--bounding-set=-net_admin', '--'];
const HINT = 'needs CAP_NET_ADMIN: run as root or `setcap cap_net_raw,cap_net_admin+ep $(command -v node)`';

let lab: Lab;
let host: Host;
let peer: Host;
test.before(() => {
  ({ lab, host, peer } = twoHostLab('ncl'));
  // The watches below must see only the changes the tests make (a peer's probe once gave `watch --count 5` a line).
  stillNeighbours(lab, host, peer);
});
test.after.always(() => lab?.destroy());

const neigh = (args: string[], prefix: string[] = []): Promise<RunResult> => lab.exec(host.ns, [...prefix, 'node', MAIN, 'neigh', ...args]);

interface IpNeigh { dst: string; dev: string; lladdr?: string; state?: string[] }
const entryOf = (ip: string) => JSON.parse(lab.sh(host.ns, ['ip', '-j', '-4', 'neigh', 'show', 'to', ip])) as IpNeigh[];
const procArp = (ip: string): string[][] => procArpOf(lab, host.ns, ip);
/** Exit 2 and exactly one stderr line, `ersatz: <message>`. */
function usage(t: { is(a: unknown, b: unknown, m?: string): void; regex(s: string, r: RegExp, m?: string): void }, r: RunResult, pattern: RegExp): void {
  t.is(r.code, 2, r.stderr);
  t.is(r.stdout, '');
  t.regex(r.stderr, new RegExp(`^ersatz: ${pattern.source}\\n$`));
}

test.serial('add, replace and del through netlink', async (t) => {
  const ip = '198.51.100.20';
  t.like(await neigh(['add', ip, '02:00:5e:00:00:20', '--interface', 'ez0']), { code: 0, stdout: '', stderr: '' });
  t.deepEqual(entryOf(ip), [{ dst: ip, dev: 'ez0', lladdr: '02:00:5e:00:00:20', state: ['PERMANENT'] }]);
  t.deepEqual(procArp(ip), [[ip, '0x1', '0x6', '02:00:5e:00:00:20', '*', 'ez0']]);

  usage(t, await neigh(['add', ip, '02:00:5e:00:00:21', '--interface', 'ez0']), /add neighbour 198\.51\.100\.20 dev ez0: an entry already exists: pass --replace to change it/);
  t.like(await neigh(['add', ip, '02:00:5e:00:00:21', '-I', 'ez0', '--replace', '--state', 'reachable']), { code: 0 });
  t.deepEqual(entryOf(ip), [{ dst: ip, dev: 'ez0', lladdr: '02:00:5e:00:00:21', state: ['REACHABLE'] }]);
  t.like(await neigh(['add', ip, '02:00:5e:00:00:22', '-I', 'ez0', '--replace', '--state', 'stale']), { code: 0 });
  t.deepEqual(procArp(ip), [[ip, '0x1', '0x2', '02:00:5e:00:00:22', '*', 'ez0']]);

  t.like(await neigh(['del', ip, '--interface', 'ez0']), { code: 0, stderr: '' });
  t.deepEqual(entryOf(ip), []);
  t.deepEqual(procArp(ip), []);
  t.like(await neigh(['del', ip, '--interface', 'ez0']), { code: 1, stderr: `ersatz: neigh del: no entry for ${ip} on ez0\n` });
});

test.serial('add and del through ioctl (SIOCSARP/SIOCDARP)', async (t) => {
  const ip = '198.51.100.25';
  t.like(await neigh(['add', ip, '02:00:5e:00:00:25', '--interface', 'ez0', '--via', 'ioctl']), { code: 0, stderr: '' });
  t.deepEqual(entryOf(ip), [{ dst: ip, dev: 'ez0', lladdr: '02:00:5e:00:00:25', state: ['PERMANENT'] }]);
  t.deepEqual(procArp(ip), [[ip, '0x1', '0x6', '02:00:5e:00:00:25', '*', 'ez0']]);
  // 'add' without --replace refuses an existing entry, as over netlink (SIOCSARP alone would overwrite it).
  usage(t, await neigh(['add', ip, '02:00:5e:00:00:26', '-I', 'ez0', '--via', 'ioctl']), /neigh add: 198\.51\.100\.25 already has an entry on ez0: pass --replace to change it/);
  t.like(await neigh(['add', ip, '02:00:5e:00:00:26', '-I', 'ez0', '--via', 'ioctl', '--replace', '--state', 'stale']), { code: 0 });
  t.deepEqual(entryOf(ip), [{ dst: ip, dev: 'ez0', lladdr: '02:00:5e:00:00:26', state: ['STALE'] }]);
  usage(t, await neigh(['add', ip, '02:00:5e:00:00:26', '-I', 'ez0', '--via', 'ioctl', '--replace', '--state', 'reachable']), /neigh add: --via ioctl sets permanent or stale entries only .*/);

  t.like(await neigh(['del', ip, '--interface', 'ez0', '--via', 'ioctl']), { code: 0 });
  t.deepEqual(entryOf(ip), []);
  t.like(await neigh(['del', ip, '--interface', 'ez0', '--via', 'ioctl']), { code: 1, stderr: `ersatz: neigh del: no entry for ${ip} on ez0\n` });
  // The existence check (SIOCGARP) is the first call to meet the unknown interface.
  usage(t, await neigh(['add', ip, '02:00:5e:00:00:25', '-I', 'ez9', '--via', 'ioctl']), /arp get 198\.51\.100\.25 dev ez9: no such device \(ENODEV\): no interface named "ez9" in this network namespace: list them with 'ip link'/);
});

test.serial('show prints what ip neigh shows, as lines or one JSON array', async (t) => {
  lab.sh(host.ns, ['ping', '-c', '1', '-W', '2', peer.ip]); // a kernel-made entry
  await neigh(['add', '198.51.100.30', '02:00:5e:00:00:30', '-I', 'ez0']);
  await neigh(['add', '198.51.100.31', '02:00:5e:00:00:31', '-I', 'ez0', '--state', 'stale']);
  const json = await neigh(['show', '--json']);
  const text = await neigh(['show']);
  const ipText = lab.sh(host.ns, ['ip', '-4', 'neigh', 'show', 'nud', 'all']);
  const ipJson = JSON.parse(lab.sh(host.ns, ['ip', '-j', '-4', 'neigh', 'show', 'nud', 'all'])) as IpNeigh[];
  t.is(json.code, 0);
  const ours = JSON.parse(json.stdout) as { ip: string; mac: string | null; ifname: string; state: string; ifindex: number; proxy: boolean }[];
  const sort = <T>(l: T[], key: (x: T) => string) => [...l].sort((a, b) => key(a).localeCompare(key(b)));
  t.deepEqual(
    sort(ours.map((e) => ({ dst: e.ip, dev: e.ifname, ...(e.mac !== null && { lladdr: e.mac }), state: [e.state.toUpperCase()] })), (e) => e.dst),
    sort(ipJson, (e) => e.dst),
  );
  t.true(ours.some((e) => e.ip === peer.ip && e.mac === peer.mac));
  // (ip ends some lines with a space)
  t.deepEqual(sort(text.stdout.trim().split('\n'), (l) => l), sort(ipText.trim().split('\n').map((l) => l.trimEnd()), (l) => l));
  const only = await neigh(['show', '--json', '--interface', 'lo']);
  t.is(only.stdout, '[]\n');
  // As `ip neigh`: no subcommand shows the table, options and all.
  t.is((await neigh([])).stdout, text.stdout);
  t.is((await neigh(['--json', '--interface', 'lo'])).stdout, '[]\n');
});

test.serial('bad addresses are refused with one line and exit 2', async (t) => {
  const add = (ip: string, mac: string) => neigh(['add', ip, mac, '--interface', 'ez0']);
  usage(t, await add('198.51.100.40', 'ff:ff:ff:ff:ff:ff'), /neigh: MAC ff:ff:ff:ff:ff:ff is the broadcast address, not one station: give the neighbour's own MAC/);
  usage(t, await add('198.51.100.40', '01:00:5e:00:00:fb'), /neigh: MAC 01:00:5e:00:00:fb is a multicast \(group\) address, .*/);
  usage(t, await add('198.51.100.40', '00:00:00:00:00:00'), /neigh: MAC 00:00:00:00:00:00 is all zeros, .*/);
  usage(t, await add('ff02::1', '02:00:5e:00:00:40'), /neigh: IP ff02::1 is a multicast address, not a unicast neighbour: give the neighbour's IPv6 address/);
  usage(t, await neigh(['add', '2001:db8::1', '02:00:5e:00:00:40', '-I', 'ez0', '--via', 'ioctl']), /neigh add: --via ioctl is ARP's \(SIOCSARP\): IPv6 entries go through netlink/);
  usage(t, await add('02:00:5e:00:00:40', '198.51.100.40'), /neigh add: 02:00:5e:00:00:40 is a MAC address where the IP goes: .*/);
  usage(t, await add('198.51.100.40', '2001:db8::1'), /neigh add: 2001:db8::1 is an IP address where the MAC goes: .*/);
  usage(t, await add('198.51.100.40', '02:00:5e:00:00'), /neigh add: .*02:00:5e:00:00.*/);
  usage(t, await add('224.0.0.251', '02:00:5e:00:00:40'), /neigh: IP 224\.0\.0\.251 is a multicast address, not a unicast neighbour: .*/);
  usage(t, await neigh(['add', '198.51.100.40', '02:00:5e:00:00:40']), /neigh add: --interface IF is required \(list them with 'ip link'\)/);
  usage(t, await neigh(['add', '198.51.100.40', '02:00:5e:00:00:40', '-I', 'ez0', '--state', 'failed']), /neigh add: --state "failed": choose permanent, reachable, stale/);
  usage(t, await neigh(['add', '198.51.100.40', '02:00:5e:00:00:40', '-I', 'nope0']), /neigh: no interface "nope0" in this network namespace: list them with 'ip link'/);
  usage(t, await neigh(['frob']), /neigh: unknown subcommand "frob": .*/);
  t.deepEqual(entryOf('198.51.100.40'), []);
});

test.serial('without CAP_NET_ADMIN: one line naming the capability, exit 2; show still works', async (t) => {
  await neigh(['add', '198.51.100.50', '02:00:5e:00:00:50', '-I', 'ez0']);
  usage(t, await neigh(['add', '198.51.100.51', '02:00:5e:00:00:51', '-I', 'ez0'], NO_NET_ADMIN), new RegExp(`add neighbour 198\\.51\\.100\\.51 dev ez0: ${escape(HINT)}`));
  usage(t, await neigh(['del', '198.51.100.50', '-I', 'ez0'], NO_NET_ADMIN), new RegExp(`delete neighbour 198\\.51\\.100\\.50 dev ez0: ${escape(HINT)}`));
  usage(t, await neigh(['add', '198.51.100.51', '02:00:5e:00:00:51', '-I', 'ez0', '--via', 'ioctl'], NO_NET_ADMIN), new RegExp(`arp set 198\\.51\\.100\\.51 dev ez0: ${escape(HINT)}`));
  usage(t, await neigh(['del', '198.51.100.50', '-I', 'ez0', '--via', 'ioctl'], NO_NET_ADMIN), new RegExp(`arp delete 198\\.51\\.100\\.50 dev ez0: ${escape(HINT)}`));
  t.deepEqual(entryOf('198.51.100.50'), [{ dst: '198.51.100.50', dev: 'ez0', lladdr: '02:00:5e:00:00:50', state: ['PERMANENT'] }]);
  t.deepEqual(entryOf('198.51.100.51'), []);
  const show = await neigh(['show', '--json'], NO_NET_ADMIN);
  t.is(show.code, 0);
  t.true((JSON.parse(show.stdout) as { ip: string }[]).some((e) => e.ip === '198.51.100.50'));
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

test.serial('watch sees the entry the kernel makes when it resolves the peer, and its removal; SIGINT exits 130', async (t) => {
  const child = lab.start(host.ns, ['node', MAIN, 'neigh', 'watch', '--json', '--timeout', '20000']);
  let stdout = '';
  let stderr = '';
  const lines: { type: string; entry: { ip: string; mac: string | null; state: string; ifname: string } }[] = [];
  const waiters: (() => void)[] = [];
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
    const parts = stdout.split('\n');
    stdout = parts.pop()!;
    for (const p of parts) lines.push(JSON.parse(p) as (typeof lines)[number]);
    waiters.splice(0).forEach((w) => w());
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
    waiters.splice(0).forEach((w) => w());
  });
  const exit = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  /** Resolves when `ok()` holds; the watch's own --timeout (and the lab) bound the wait. */
  const until = async (ok: () => boolean, what: string): Promise<void> => {
    const deadline = Date.now() + 15_000;
    while (!ok()) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`gave up waiting for ${what}: stdout ${JSON.stringify(lines)} stderr ${stderr}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  };
  await until(() => stderr.includes('watching IPv4 neighbour changes'), 'the watch to start');
  lab.sh(host.ns, ['ip', 'neigh', 'flush', 'dev', 'ez0']); // drop what earlier tests cached, so ping must resolve
  lab.sh(host.ns, ['ping', '-c', '1', '-W', '2', peer.ip]);
  await until(() => lines.some((l) => l.type === 'new' && l.entry.ip === peer.ip && l.entry.mac === peer.mac), 'the resolved entry');
  lab.sh(host.ns, ['ip', 'neigh', 'del', peer.ip, 'dev', 'ez0']);
  await until(() => lines.some((l) => l.type === 'del' && l.entry.ip === peer.ip), 'the removal');
  child.kill('SIGINT');
  const [code] = await exit;
  t.is(code, 130);
  const forPeer = lines.filter((l) => l.entry.ip === peer.ip);
  const resolved = forPeer.find((l) => l.type === 'new' && l.entry.mac === peer.mac)!;
  t.like(resolved.entry, { ifname: 'ez0', mac: peer.mac });
  t.true(['reachable', 'stale', 'delay'].includes(resolved.entry.state), resolved.entry.state);
  // The kernel announced the entry (INCOMPLETE, without a MAC) before the reply filled it in.
  t.true(forPeer.indexOf(resolved) > 0 && forPeer[0]!.entry.mac === null, JSON.stringify(forPeer));
  t.is(forPeer.at(-1)!.type, 'del');
});

test.serial('watch stopped by SIGTERM (systemd, kill) exits 143, as by SIGINT 130', async (t) => {
  const child = lab.start(host.ns, ['node', MAIN, 'neigh', 'watch']);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exit = once(child, 'close');
  // Bounded by count (100 looks); the process is killed at teardown if it never starts.
  for (let i = 0; i < 100 && !stderr.includes('watching IPv4 neighbour changes'); i++) await new Promise((ok) => setTimeout(ok, 100));
  child.kill('SIGTERM');
  const [code] = (await exit) as [number | null];
  t.is(code, 143, stderr);
});

test.serial('watch ends after --count changes (exit 0) or at --timeout short of them (exit 1)', async (t) => {
  const child = lab.start(host.ns, ['node', MAIN, 'neigh', 'watch', '--count', '1', '--timeout', '15000']);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  const exit = once(child, 'close') as Promise<[number | null]>;
  // The watch says it is listening only once its socket has joined the group: no change after that is missed.
  await new Promise<void>((resolve) => {
    child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
      if (stderr.includes('watching')) resolve();
    });
    child.once('exit', () => resolve());
  });
  lab.sh(host.ns, ['ip', 'neigh', 'add', '198.51.100.61', 'lladdr', '02:00:5e:00:00:61', 'dev', 'ez0']);
  const [code] = await exit;
  t.is(code, 0, stderr);
  t.is(stdout, '198.51.100.61 dev ez0 lladdr 02:00:5e:00:00:61 PERMANENT\n');
  const idle = await neigh(['watch', '--count', '5', '--timeout', '300']);
  t.like(idle, { code: 1, stdout: '' });
});

test.serial("show prints the flags ip neigh prints (extern_learn, managed) and --json keeps them (flags, flagsExt)", async (t) => {
  lab.sh(host.ns, ['ip', 'neigh', 'add', '198.51.100.70', 'lladdr', '02:00:5e:00:00:70', 'dev', 'ez0', 'extern_learn']);
  // Managed: the kernel resolves it by itself, soon after (NONE, then INCOMPLETE, where it stays here: its timers are
  // stretched, see before()); read once it is there (100 looks at most).
  lab.sh(host.ns, ['ip', 'neigh', 'add', '198.51.100.71', 'dev', 'ez0', 'managed']);
  for (let i = 0; i < 100 && !lab.sh(host.ns, ['ip', 'neigh', 'show', '198.51.100.71']).includes('INCOMPLETE'); i++) await new Promise((ok) => setTimeout(ok, 50));
  const ours = await neigh(['show', '198.51.100.70/31']);
  const theirs = lab.sh(host.ns, ['ip', 'neigh', 'show', 'to', '198.51.100.70/31']);
  const lines = (s: string) => s.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '').sort();
  t.deepEqual(lines(ours.stdout), lines(theirs));
  t.true(lines(ours.stdout).some((l) => l.includes(' extern_learn ')) && lines(ours.stdout).some((l) => l.includes(' managed ')), ours.stdout);
  const json = JSON.parse((await neigh(['show', '--json', '198.51.100.70/31'])).stdout) as { ip: string; flags: number; flagsExt: number }[];
  t.like(Object.fromEntries(json.map((e) => [e.ip, { flags: e.flags & 0x10, flagsExt: e.flagsExt }])), { '198.51.100.70': { flags: 0x10, flagsExt: 0 }, '198.51.100.71': { flags: 0, flagsExt: 1 } });
});

test.serial('del --proxy deletes a proxy ARP entry (ip neigh del proxy), which a plain del does not touch', async (t) => {
  for (const ip of ['198.51.100.80', '2001:db8::80']) {
    lab.sh(host.ns, ['ip', 'neigh', 'add', 'proxy', ip, 'dev', 'ez0']);
    const listed = () => lab.sh(host.ns, ['ip', ...(ip.includes(':') ? ['-6'] : []), 'neigh', 'show', 'proxy']);
    t.like(await neigh(['del', ip, '-I', 'ez0']), { code: 1, stderr: `ersatz: neigh del: no entry for ${ip} on ez0\n` });
    t.regex(listed(), new RegExp(`^${ip} dev ez0 proxy`));
    t.like(await neigh(['del', ip, '-I', 'ez0', '--proxy']), { code: 0, stdout: '', stderr: '' });
    t.is(listed(), '');
    t.like(await neigh(['del', ip, '-I', 'ez0', '--proxy']), { code: 1, stderr: `ersatz: neigh del: no proxy entry for ${ip} on ez0\n` });
  }
  usage(t, await neigh(['del', '198.51.100.80', '-I', 'ez0', '--proxy', '--via', 'ioctl']), /neigh del: --proxy entries go through netlink, not --via ioctl/);
});
