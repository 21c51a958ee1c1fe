// Giving up root once the sockets are open (#15), as iputils arping does: run through sudo (SUDO_UID/SUDO_GID), or
// with --user, every thread of a running sweep has the invoking user's uid and no capability left, and the sweep
// still sends and hears; --no-drop keeps root.
import test from 'ava';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { twoHostLab } from '@ersatz/lab';
import { show } from './helpers/cmd-run.js';
import { readableCheckout } from './helpers/readable-checkout.js';

const SUDO_NOBODY = ['env', 'SUDO_UID=65534', 'SUDO_GID=65534', 'SUDO_USER=nobody'];

/** uid (real, effective, saved, fs) and effective capabilities of every thread of `pid`. */
function threads(pid: number): { uid: string; capEff: string }[] {
  return readdirSync(`/proc/${pid}/task`).map((task) => {
    const status = readFileSync(`/proc/${pid}/task/${task}/status`, 'utf8');
    return { uid: /^Uid:\s*(.*)$/m.exec(status)![1]!.replace(/\s+/g, ' '), capEff: /^CapEff:\s*(.*)$/m.exec(status)![1]! };
  });
}

test('through sudo, a running sweep has dropped to the invoking user with no capabilities, and still finds the peer', async (t) => {
  const { lab, host, peer } = twoHostLab('pdrop');
  t.teardown(() => lab.destroy());
  const main = readableCheckout(t).path('dist/main.js');
  for (const [extra, uid, capsGone] of [[[], '65534 65534 65534 65534', true], [['--no-drop'], '0 0 0 0', false]] as const) {
    // Slow enough to be looked at while it runs; -v says when the sockets are open (and root is gone).
    const child = lab.start(host.ns, [...SUDO_NOBODY, process.execPath, main, 'scan', '198.51.100.0/24', '--rate', '50', '--json', '-v', ...extra]);
    let stdout = '';
    let stderr = '';
    const exited = once(child, 'exit');
    // Looked at once the peer has answered (the sockets work) and, unless --no-drop, root is said to be gone.
    await new Promise<void>((ready) => {
      const check = (): void => {
        if (stdout.includes(`"ip":"${peer.ip}"`) && (extra.length > 0 || /sockets open/.test(stderr))) ready();
      };
      child.stdout!.setEncoding('utf8').on('data', (s: string) => ((stdout += s), check()));
      child.stderr!.setEncoding('utf8').on('data', (s: string) => ((stderr += s), check()));
      void exited.then(() => ready());
    });
    const seen = threads(child.pid!);
    t.true(seen.length >= 4, 'the main thread and the workers');
    for (const th of seen) {
      t.is(th.uid, uid, extra.join(' '));
      t.is(th.capEff === '0000000000000000', capsGone, `${extra.join(' ')}: CapEff ${th.capEff}`);
    }
    child.kill('SIGINT');
    await exited;
    t.true(stdout.includes(`"ip":"${peer.ip}","mac":"${peer.mac}"`), `${extra.join(' ')}: ${stdout}${stderr}`);
  }
});

test('--user NAME switches to that user once the link is open; not root, or an unknown name, is exit 2', async (t) => {
  const { lab, host, peer } = twoHostLab('puser');
  t.teardown(() => lab.destroy());
  const main = readableCheckout(t).path('dist/main.js');
  const r = await lab.exec(host.ns, [process.execPath, main, 'resolve', peer.ip, '--user', 'nobody', '-v']);
  t.is(r.code, 0, show(r));
  t.true(r.stdout.startsWith(`${peer.ip} is at ${peer.mac} `), show(r));
  t.regex(r.stderr, /sockets open: now uid 65534, gid 65534, no capabilities/);
  const unknown = await lab.exec(host.ns, [process.execPath, main, 'resolve', peer.ip, '--user', 'no-such-user-here']);
  t.is(unknown.code, 2, show(unknown));
  t.is(unknown.stderr, 'ersatz: resolve: --user: no user named "no-such-user-here" in /etc/passwd\n');
  const notRoot = await lab.exec(host.ns, ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--', process.execPath, main, 'resolve', peer.ip, '--user', 'nobody']);
  t.is(notRoot.code, 2, show(notRoot));
  t.regex(notRoot.stderr, /^ersatz: resolve: --user switches from root to another user/);
});

test('resolve --inject through sudo keeps CAP_NET_ADMIN alone, in the main thread only, and stores the answer with it', async (t) => {
  const { lab, host, peer } = twoHostLab('pinj');
  t.teardown(() => lab.destroy());
  const main = readableCheckout(t).path('dist/main.js');
  // A silent address asked slowly: the process can be looked at while it waits.
  const child = lab.start(host.ns, [...SUDO_NOBODY, process.execPath, main, 'resolve', '198.51.100.99', '--tries', '3', '--timeout', '1000', '--inject', '-v']);
  let stderr = '';
  const exited = once(child, 'exit');
  await new Promise<void>((ready) => {
    child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
      if (/sockets open/.test(stderr)) ready();
    });
    void exited.then(() => ready());
  });
  t.regex(stderr, /sockets open: now uid 65534, gid 65534, keeping capabilities 12 only/);
  const seen = readdirSync(`/proc/${child.pid}/task`).map((task) => {
    const status = readFileSync(`/proc/${child.pid}/task/${task}/status`, 'utf8');
    return { main: Number(task) === child.pid, uid: /^Uid:\s*(\d+)/m.exec(status)![1], capEff: /^CapEff:\s*(.*)$/m.exec(status)![1], capPrm: /^CapPrm:\s*(.*)$/m.exec(status)![1] };
  });
  for (const th of seen) {
    t.is(th.uid, '65534');
    // CAP_NET_ADMIN is bit 12.
    t.is(th.capEff, th.main ? '0000000000001000' : '0000000000000000', JSON.stringify(th));
    t.is(th.capPrm, th.main ? '0000000000001000' : '0000000000000000', JSON.stringify(th));
  }
  const [code] = (await exited) as [number | null];
  t.is(code, 1, stderr);
  // And the capability kept does its job: the peer's answer is stored.
  const r = await lab.exec(host.ns, [...SUDO_NOBODY, process.execPath, main, 'resolve', peer.ip, '--inject']);
  t.is(r.code, 0, show(r));
  t.regex(lab.sh(host.ns, ['ip', 'neigh', 'show', peer.ip]), new RegExp(`lladdr ${peer.mac} PERMANENT`));
});

test('neigh add and del through sudo change the table with CAP_NET_ADMIN alone', async (t) => {
  const { lab, host } = twoHostLab('pneigh');
  t.teardown(() => lab.destroy());
  const main = readableCheckout(t).path('dist/main.js');
  for (const [args, after] of [
    [['add', '198.51.100.7', '02:00:5e:00:53:07', '-I', host.ifname], /lladdr 02:00:5e:00:53:07 PERMANENT/],
    [['del', '198.51.100.7', '-I', host.ifname], /^$/],
  ] as const) {
    const r = await lab.exec(host.ns, [...SUDO_NOBODY, process.execPath, main, 'neigh', ...args, '-v']);
    t.is(r.code, 0, show(r));
    t.regex(r.stderr, /now uid 65534, gid 65534, keeping capabilities 12 only/);
    t.regex(lab.sh(host.ns, ['ip', 'neigh', 'show', '198.51.100.7']).trim(), after);
  }
});
