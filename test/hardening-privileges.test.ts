// Issue #8, privileges. Every command that needs CAP_NET_RAW (resolve, scan, arping, ping) or CAP_NET_ADMIN
// (neigh add/del, resolve --inject), run without it, prints one line naming the capability and the setcap command
// that grants it, and exits 2; what needs neither (decode, neigh show) runs. Then the documented way to run as a
// normal user: a copy of node with file capabilities, run as `nobody`, resolves the peer.
import test from 'ava';
import { copyFileSync, chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { twoHostLab } from '@ersatz/lab';
import { MAIN, show } from './helpers/cmd-run.js';
import { readableCheckout } from './helpers/readable-checkout.js';

/** Drops the capabilities from the bounding set: what root execs afterwards cannot have them. */
const without = (...caps: string[]) => ['setpriv', '--inh-caps=-all', `--bounding-set=${caps.map((c) => `-${c}`).join(',')}`, '--'];

test('without CAP_NET_RAW or CAP_NET_ADMIN: one line that names the capability and the setcap command, exit 2', async (t) => {
  const { lab, host, peer } = twoHostLab('hpri');
  t.teardown(() => lab.destroy());
  const raw = /CAP_NET_RAW[^\n]*setcap cap_net_raw,cap_net_admin\+ep/;
  const admin = /CAP_NET_ADMIN[^\n]*setcap cap_net_raw,cap_net_admin\+ep/;
  const cases: [string[], string[], RegExp][] = [
    // resolve and scan without --tier fall back to the kernel tier (tier-kernel.test.ts): raw frames are asked for here.
    [without('net_raw', 'net_admin'), ['resolve', peer.ip, '--tier', 'raw'], raw],
    [without('net_raw', 'net_admin'), ['--tier', 'raw'], raw], // the default gateway
    [without('net_raw', 'net_admin'), ['scan', '198.51.100.0/28', '--tier', 'raw'], raw],
    [without('net_raw', 'net_admin'), ['arping', '-c', '1', peer.ip], /^ersatz: arping sends frames of its own, which needs CAP_NET_RAW \(no kernel tier[^\n]*setcap cap_net_raw,cap_net_admin\+ep/],
    [without('net_raw', 'net_admin'), ['ping', '-c', '1', peer.ip], raw],
    [without('net_raw'), ['scan', '--json', '198.51.100.2', '--rate', '100'], raw], // a pacing option: raw frames only
    [without('net_admin'), ['neigh', 'add', '198.51.100.7', '02:00:5e:00:53:07', '--interface', host.ifname], admin],
    [without('net_admin'), ['neigh', 'del', peer.ip, '--interface', host.ifname], admin],
    [without('net_admin'), ['neigh', 'add', '198.51.100.7', '02:00:5e:00:53:07', '--interface', host.ifname, '--via', 'ioctl'], admin],
    // Resolving needs only CAP_NET_RAW; storing the answer needs CAP_NET_ADMIN.
    [without('net_admin'), ['resolve', peer.ip, '--inject'], admin],
  ];
  const runs = await Promise.all(cases.map(([prefix, args]) => lab.exec(host.ns, [...prefix, 'node', MAIN, ...args])));
  cases.forEach(([prefix, args, says], i) => {
    const r = runs[i]!;
    const what = `${prefix.at(-2)} ersatz ${args.join(' ')}`;
    t.is(r.code, 2, `${what}: ${show(r)}`);
    t.regex(r.stderr, /^ersatz: [^\n]+\n$/, `${what}: one line, no stack trace`);
    t.regex(r.stderr, says, what);
  });
  // Nothing was stored by the refused calls.
  t.is(lab.sh(host.ns, ['ip', 'neigh', 'show', 'nud', 'permanent']).trim(), '');

  // What needs no privilege runs without any.
  const none = ['setpriv', '--inh-caps=-all', '--bounding-set=-all', '--'];
  const show0 = await lab.exec(host.ns, [...none, 'node', MAIN, 'neigh', 'show', '--json']);
  t.is(show0.code, 0, show(show0));
});

test('as a normal user, a node binary with cap_net_raw,cap_net_admin+ep resolves the peer (the README recipe)', async (t) => {
  const { lab, host, peer } = twoHostLab('hcap');
  t.teardown(() => lab.destroy());
  const dir = mkdtempSync(join(tmpdir(), 'ersatz-cap-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  // A copy, so the capabilities never touch the system's node: setcap marks the file itself.
  const node = join(dir, 'node');
  copyFileSync(process.execPath, node);
  chmodSync(node, 0o755);
  lab.sh(host.ns, ['setcap', 'cap_net_raw,cap_net_admin+ep', node]);
  const nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--'];
  const main = readableCheckout(t).path(MAIN);
  const r = await lab.exec(host.ns, [...nobody, node, main, 'resolve', peer.ip, '--json']);
  t.is(r.code, 0, show(r));
  t.like(JSON.parse(r.stdout), { ip: peer.ip, mac: peer.mac });
  t.like(JSON.parse(r.stdout), { tier: 'raw' });
  // The same user with the system's node (no file capabilities): the kernel resolves for it; raw frames it is told
  // how to get.
  const plain = await lab.exec(host.ns, [...nobody, process.execPath, main, 'resolve', peer.ip, '--json']);
  t.is(plain.code, 0, show(plain));
  t.like(JSON.parse(plain.stdout), { ip: peer.ip, mac: peer.mac, tier: 'kernel' });
  const raw = await lab.exec(host.ns, [...nobody, process.execPath, main, 'resolve', peer.ip, '--tier', 'raw']);
  t.is(raw.code, 2, show(raw));
  t.regex(raw.stderr, /^ersatz: [^\n]*CAP_NET_RAW[^\n]*setcap cap_net_raw,cap_net_admin\+ep[^\n]*\n$/);
});
