// `ersatz ping` and ICMP errors end to end, side by side with iputils ping in the same namespace: a forwarding Linux
// router (twoHostLab's peer, the host's default gateway) answers requests it cannot deliver with Destination
// Unreachable (an `unreachable` route: Host Unreachable; no route at all: Net Unreachable), Time Exceeded (-t 1)
// and Redirect (a route back through the host). Each scenario has its own lab: the router's kernel rate-limits the
// errors it sends per source (a burst of 5 for unreachable routes), and each lab sends at most 4 of those.
import test, { type ExecutionContext } from 'ava';
import { twoHostLab, type Host, type Lab, type RunResult } from '@ersatz/lab';
import { ersatz, jsonLines, show } from './helpers/cmd-run.js';

// Long enough that a ping which ignored the errors would still be waiting when the assertions read its time.
const LINGER_S = 20;

function routerLab(t: ExecutionContext, prefix: string): { lab: Lab; host: Host; peer: Host } {
  const l = twoHostLab(prefix);
  t.teardown(() => l.lab.destroy());
  // A router: it forwards, and its ICMP errors are not rate-limited per destination (icmp_ratelimit, per namespace).
  l.lab.sh(l.peer.ns, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1', 'net.ipv4.icmp_ratelimit=0']);
  return l;
}

/** The lines a reader compares: the error lines, and the statistics line without its wall-clock time. */
function shape(r: RunResult): { from: string[]; stats: string | undefined; timeMs: number } {
  const lines = r.stdout.split('\n');
  const stats = lines.find((l) => /^\d+ packets transmitted/.test(l));
  return { from: lines.filter((l) => l.startsWith('From ')), stats: stats?.replace(/, time \d+ms$/, ''), timeMs: Number(/time (\d+)ms/.exec(stats ?? '')?.[1] ?? NaN) };
}

/** Runs `ersatz ping ARGS` and then iputils `ping ARGS` in the host namespace; asserts they agree. Returns both. */
async function sideBySide(t: ExecutionContext, l: Lab, host: Host, args: readonly string[]): Promise<{ ours: RunResult; theirs: RunResult }> {
  const ours = await ersatz(l, host.ns, ['ping', ...args]);
  let theirs = await l.exec(host.ns, ['ping', ...args]);
  // Once, under load, iputils got one error fewer than the requests it sent (the router's answer to its second
  // request never reached it; ersatz's two, just before, had come): iputils is the reference here, not the subject,
  // so it is asked once more before the outputs are compared. Each test checks ersatz's own lines exactly.
  if (shape(theirs).from.length < shape(ours).from.length) theirs = await l.exec(host.ns, ['ping', ...args]);
  const what = `ersatz:\n${show(ours)}\niputils:\n${show(theirs)}`;
  t.is(ours.code, theirs.code, what);
  t.deepEqual(shape(ours).from, shape(theirs).from, what);
  t.is(shape(ours).stats, shape(theirs).stats, what);
  t.is(ours.stderr, '', what);
  return { ours, theirs };
}

test('an unreachable route: "Destination Host Unreachable" per request at once, +2 errors, exit 1, as iputils', async (t) => {
  const { lab: l, host, peer } = routerLab(t, 'peu');
  l.sh(peer.ns, ['ip', 'route', 'add', 'unreachable', '10.9.0.0/16']);
  const { ours } = await sideBySide(t, l, host, ['-c', '2', '-i', '0.2', '-W', String(LINGER_S), '10.9.0.5']);
  t.is(ours.code, 1);
  t.deepEqual(shape(ours).from, [`From ${peer.ip} icmp_seq=1 Destination Host Unreachable`, `From ${peer.ip} icmp_seq=2 Destination Host Unreachable`]);
  t.is(shape(ours).stats, '2 packets transmitted, 0 received, +2 errors, 100% packet loss');
  // It ended on the second error, not after the -W linger time.
  t.true(shape(ours).timeMs < LINGER_S * 1000, show(ours));
});

test('no route on the router: "Destination Net Unreachable", as iputils', async (t) => {
  const { lab: l, host, peer } = routerLab(t, 'pen');
  const { ours } = await sideBySide(t, l, host, ['-c', '2', '-i', '0.2', '-W', String(LINGER_S), '10.10.0.5']);
  t.is(ours.code, 1);
  t.deepEqual(shape(ours).from, [`From ${peer.ip} icmp_seq=1 Destination Net Unreachable`, `From ${peer.ip} icmp_seq=2 Destination Net Unreachable`]);
  t.true(shape(ours).timeMs < LINGER_S * 1000, show(ours));
});

test('-t 1 through the router: "Time to live exceeded", as iputils; --json reports the errors and counts them', async (t) => {
  const { lab: l, host, peer } = routerLab(t, 'pet');
  l.sh(peer.ns, ['ip', 'route', 'add', '203.0.113.0/24', 'via', host.ip]);
  const { ours } = await sideBySide(t, l, host, ['-c', '2', '-i', '0.2', '-t', '1', '-W', String(LINGER_S), '203.0.113.77']);
  t.deepEqual(shape(ours).from, [`From ${peer.ip} icmp_seq=1 Time to live exceeded`, `From ${peer.ip} icmp_seq=2 Time to live exceeded`]);
  const json = await ersatz(l, host.ns, ['ping', '--json', '-c', '2', '-i', '0.2', '-t', '1', '-W', String(LINGER_S), '203.0.113.77']);
  t.is(json.code, 1, show(json));
  const [a, b, s] = jsonLines(json.stdout);
  t.deepEqual(a, { type: 'error', seq: 1, from: peer.ip, error: 'Time to live exceeded', icmpType: 11, code: 0 });
  t.deepEqual(b, { type: 'error', seq: 2, from: peer.ip, error: 'Time to live exceeded', icmpType: 11, code: 0 });
  t.is(s?.['type'], 'summary');
  t.like(s, { summary: { ip: '203.0.113.77', transmitted: 2, received: 0, errors: 2, lossPercent: 100, rtt: null } });
  t.true((s?.summary as { elapsedMs: number }).elapsedMs < LINGER_S * 1000);
});

test('a Redirect is printed like iputils ("From R: icmp_seq=1 Redirect Host(New nexthop: GW)") and is no error', async (t) => {
  const { lab: l, host, peer } = routerLab(t, 'per');
  l.sh(peer.ns, ['ip', 'route', 'add', '203.0.113.0/24', 'via', host.ip]);
  // The host's kernel would follow the redirect for iputils' next run: keep its routes as the test set them.
  l.sh(host.ns, ['sysctl', '-q', '-w', 'net.ipv4.conf.all.accept_redirects=0', `net.ipv4.conf.${host.ifname}.accept_redirects=0`]);
  const ours = await ersatz(l, host.ns, ['ping', '-c', '1', '-W', '1', '203.0.113.77']);
  const theirs = await l.exec(host.ns, ['ping', '-c', '1', '-W', '1', '203.0.113.77']);
  const what = `ersatz:\n${show(ours)}\niputils:\n${show(theirs)}`;
  const line = `From ${peer.ip}: icmp_seq=1 Redirect Host(New nexthop: ${host.ip})`;
  t.true(ours.stdout.split('\n').includes(line), what);
  t.true(theirs.stdout.split('\n').includes(line), what);
  // The router forwarded the request back to the host, which drops it: no reply, no error, exit 1 for both.
  t.is(ours.code, 1, what);
  t.is(theirs.code, 1, what);
  t.regex(ours.stdout, /\n1 packets transmitted, 0 received, 100% packet loss, time \d+ms\n/, what);
});

test('-s: at most the MTU - 28 bytes, read from the interface (9000 here), in one unfragmented frame', async (t) => {
  const l = twoHostLab('pem');
  t.teardown(() => l.lab.destroy());
  for (const h of [l.host, l.peer]) l.lab.sh(h.ns, ['ip', 'link', 'set', h.ifname, 'mtu', '9000']);
  const [fits, over] = await Promise.all([
    ersatz(l.lab, l.host.ns, ['ping', '-c', '1', '-s', '8972', l.peer.ip]),
    ersatz(l.lab, l.host.ns, ['ping', '-c', '1', '-s', '8973', l.peer.ip]),
  ]);
  t.is(fits.code, 0, show(fits));
  t.regex(fits.stdout, new RegExp(`^PING \\S+ \\(\\S+\\) 8972\\(9000\\) bytes of data\\.\n8980 bytes from ${l.peer.ip.replaceAll('.', '\\.')}: icmp_seq=1 `));
  t.is(over.code, 2, show(over));
  t.is(over.stdout, '');
  t.is(over.stderr, `ersatz: ping: --size 8973 does not fit one unfragmented frame on ${l.host.ifname}: its MTU 9000 holds at most 8972 data bytes\n`);
});

test('a next link too small for a DF request: "Frag needed and DF set (mtu = 576)", as iputils', async (t) => {
  const { lab: l, host, peer } = routerLab(t, 'pef');
  // The router's way to 192.0.2.0/24 is a 576-byte link: it refuses our 1000-byte DF requests before sending.
  l.veth({ ns: peer.ns, ifname: 'small' }, { ns: l.namespace('f'), ifname: 'ez0' });
  l.sh(peer.ns, ['ip', 'link', 'set', 'small', 'mtu', '576', 'up']);
  l.sh(peer.ns, ['ip', 'route', 'add', '192.0.2.0/24', 'dev', 'small']);
  const args = ['-c', '1', '-s', '1000', '-W', String(LINGER_S), '192.0.2.7'];
  // iputils first: the host's kernel learns the path MTU from the error, after which iputils would not send at all.
  const theirs = await l.exec(host.ns, ['ping', ...args]);
  const ours = await ersatz(l, host.ns, ['ping', ...args]);
  const what = `ersatz:\n${show(ours)}\niputils:\n${show(theirs)}`;
  const line = `From ${peer.ip} icmp_seq=1 Frag needed and DF set (mtu = 576)`;
  t.deepEqual(shape(theirs).from, [line], what);
  t.deepEqual(shape(ours).from, [line], what);
  t.is(shape(ours).stats, shape(theirs).stats, what);
  t.is(ours.code, theirs.code, what);
});
