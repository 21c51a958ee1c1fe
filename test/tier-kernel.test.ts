// The kernel and cache tiers: `ersatz resolve` as a user with no capabilities at all (nobody, through setpriv) has the
// kernel of a namespace lab resolve a real peer, and reads its neighbour table; raw frames are refused with the hint.
import test from 'ava';
import { responderLab, twoHostLab, type Host, type Lab } from '@ersatz/lab';
import { show } from './helpers/cmd-run.js';
import { readableCheckout } from './helpers/readable-checkout.js';

const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--'];
const SILENT = '198.51.100.99'; // on the link, held by no one

function lab(t: import('ava').ExecutionContext, prefix: string): { lab: Lab; host: Host; peer: Host; ersatz: (...args: string[]) => ReturnType<Lab['exec']> } {
  const l = twoHostLab(prefix);
  t.teardown(() => l.lab.destroy());
  // An entry a run leaves REACHABLE stays so for the next runs to report (the kernel's 15–45 s would do under load).
  // Only this timer: the kernel tier waits as long as the kernel's retransmissions take (retrans_time_ms).
  l.lab.sh(l.host.ns, ['sysctl', '-q', '-w', `net.ipv4.neigh.${l.host.ifname}.base_reachable_time_ms=3600000`]);
  const main = readableCheckout(t).path('dist/main.js');
  return { ...l, ersatz: (...args) => l.lab.exec(l.host.ns, [...NOBODY, process.execPath, main, ...args]) };
}

test('without CAP_NET_RAW, resolve has the kernel ask: the peer\'s real MAC, tier and state named', async (t) => {
  const { lab: l, host, peer, ersatz } = lab(t, 'tkr');
  t.is(l.sh(host.ns, ['ip', 'neigh', 'show', peer.ip]).trim(), '', 'nothing in the table before');
  const r = await ersatz('--target', peer.ip, '--json');
  t.is(r.code, 0, show(r));
  t.deepEqual(JSON.parse(r.stdout), { ip: peer.ip, mac: peer.mac, interface: host.ifname, rttMs: null, tier: 'kernel', state: 'reachable' });
  // The kernel's own table agrees: it resolved the peer for us.
  t.regex(l.sh(host.ns, ['ip', 'neigh', 'show', peer.ip]), new RegExp(`lladdr ${peer.mac} (REACHABLE|STALE|DELAY)`));
  const human = await ersatz('resolve', peer.ip, '--tier', 'kernel');
  t.is(human.stdout, `${peer.ip} is at ${peer.mac} on ${host.ifname} (kernel: reachable)\n`, show(human));
  // Off the link: the kernel resolves the gateway, as the raw tier does.
  const far = await ersatz('--target', '203.0.113.7');
  t.is(far.stdout, `203.0.113.7 via ${peer.ip} is at ${peer.mac} on ${host.ifname} (kernel: reachable)\n`, show(far));
});

test('a silent address: the kernel\'s own requests go unanswered, its entry turns FAILED, exit 1 (no hang)', async (t) => {
  const { lab: l, host, ersatz } = lab(t, 'tks');
  const r = await ersatz('--target', SILENT);
  t.is(r.code, 1, show(r));
  t.is(r.stdout, '');
  t.is(r.stderr, `ersatz: no ARP reply from ${SILENT}: the kernel's own requests for ${SILENT} on ${host.ifname} went unanswered (its entry is FAILED)\n`);
  // FAILED, or already gone: the kernel's garbage collector takes a FAILED entry at any pass while the machine holds
  // 128 entries or more (the /24 test below makes 253).
  t.regex(l.sh(host.ns, ['ip', 'neigh', 'show', SILENT]), /^(.*FAILED.*\n)?$/);
});

test('--tier cache reads the table as it is; --tier raw without the capability says what to grant', async (t) => {
  const { lab: l, host, peer, ersatz } = lab(t, 'tkc');
  const empty = await ersatz('--target', peer.ip, '--tier', 'cache');
  t.is(empty.code, 1, show(empty));
  t.regex(empty.stderr, /holds no MAC for 198\.51\.100\.2 on ez0 \(--tier kernel asks for one\)\n$/);
  l.sh(host.ns, ['ip', 'neigh', 'replace', peer.ip, 'lladdr', peer.mac, 'dev', host.ifname, 'nud', 'stale']);
  const cached = await ersatz('--target', peer.ip, '--tier', 'cache', '--json');
  const entry = JSON.parse(cached.stdout) as { ageMs: number };
  t.like(entry, { mac: peer.mac, tier: 'cache', state: 'stale' });
  t.true(Number.isInteger(entry.ageMs) && entry.ageMs >= 0 && entry.ageMs < 600_000, `ageMs ${entry.ageMs}: since the entry was set`);
  const human = await ersatz('--target', peer.ip, '--tier', 'cache');
  t.regex(human.stdout, new RegExp(`^${peer.ip.replaceAll('.', '\\.')} is at ${peer.mac} on ez0 \\(cache: stale, changed \\d+\\.\\d s ago\\)\n$`));
  const raw = await ersatz('--target', peer.ip, '--tier', 'raw');
  t.is(raw.code, 2, show(raw));
  t.regex(raw.stderr, /^ersatz: [^\n]*CAP_NET_RAW[^\n]*setcap cap_net_raw,cap_net_admin\+ep[^\n]*\n$/);
  for (const bad of [['--tier', 'fast'], ['--tier', 'kernel', '--inject']]) {
    const r = await ersatz('--target', peer.ip, ...bad);
    t.is(r.code, 2, show(r));
    t.regex(r.stderr, /^ersatz: resolve: --(tier|inject) [^\n]+\n$/);
  }
});

test('scan without CAP_NET_RAW sweeps through the kernel: every host of a /24 the raw sweep finds, with the same MACs', async (t) => {
  const net = '10.77.0.0/24';
  const { lab: l, host } = responderLab('tk24', { cidr: net });
  t.teardown(() => l.destroy());
  const main = readableCheckout(t).path('dist/main.js');
  const hostsOf = (stdout: string) => stdout.trim().split('\n').map((x) => JSON.parse(x) as Record<string, unknown>).filter((x) => x.type === 'host');
  const raw = await l.exec(host.ns, [process.execPath, main, 'scan', '--json', '--rate', '2000', net]);
  t.is(raw.code, 0, show(raw));
  const kernel = await l.exec(host.ns, [...NOBODY, process.execPath, main, 'scan', '--json', net]);
  t.is(kernel.code, 0, show(kernel));
  // The responder answers for our own address too: raw frames show it, the kernel never asks for its own.
  const [ours, theirs] = [hostsOf(kernel.stdout), hostsOf(raw.stdout).filter((x) => x.ip !== host.ip)];
  t.true(theirs.length >= 253, `${theirs.length} hosts`);
  t.deepEqual(ours.map((x) => `${x.ip} ${x.mac}`).sort(), theirs.map((x) => `${x.ip} ${x.mac}`).sort());
  t.true(ours.every((x) => x.tier === 'kernel' && x.rttMs === null && typeof x.state === 'string'));
  const summary = kernel.stdout.trim().split('\n').map((x) => JSON.parse(x) as { type: string; summary?: Record<string, unknown> }).find((x) => x.type === 'summary');
  t.like(summary?.summary, { tier: 'kernel', answered: ours.length, interrupted: false });
  // What shapes our own frames has no meaning there.
  const paced = await l.exec(host.ns, [...NOBODY, process.execPath, main, 'scan', '--tier', 'kernel', '--rate', '100', net]);
  t.is(paced.code, 2, show(paced));
  t.regex(paced.stderr, /^ersatz: scan: --rate shapes our own frames: the kernel tier sends none/);
});

// Node's own trace of its worker threads (NODE_DEBUG=worker) counts the threads a run starts: the kernel tiers need
// none, and starting the pipeline's three only to find the capability missing cost ~0.14 s of a one-shot run.
test('the kernel tiers start no threads: --tier cache or kernel, and every command without CAP_NET_RAW', async (t) => {
  const { lab: l, host, peer } = lab(t, 'tkt');
  const main = readableCheckout(t).path('dist/main.js');
  const threads = async (prefix: string[], ...args: string[]) => {
    const r = await l.exec(host.ns, [...prefix, 'env', 'NODE_DEBUG=worker', process.execPath, main, ...args]);
    t.is(r.code, 0, `${args.join(' ')}: ${show(r)}`);
    return { started: r.stderr.split('\n').filter((x) => /created Worker with ID/.test(x)).length, out: r.stdout };
  };
  // The control: raw frames start the pipeline's three threads, and the trace sees them.
  t.is((await threads([], '--target', peer.ip)).started, 3);
  t.is((await threads([], 'resolve', peer.ip, '--tier=kernel')).started, 0);
  t.is((await threads([], 'resolve', peer.ip, '--tier', 'cache')).started, 0); // what the kernel tier just stored
  t.is((await threads([], 'scan', '198.51.100.0/30', '--tier', 'kernel')).started, 0);
  const nobody = await threads(NOBODY, '--target', peer.ip, '--json');
  t.is(nobody.started, 0);
  t.like(JSON.parse(nobody.out), { ip: peer.ip, mac: peer.mac, tier: 'kernel' });
  t.is((await threads(NOBODY, 'scan', '198.51.100.0/30', '--json')).started, 0);
});

test('the API takes the same tier: resolve(ip, { tier: \'kernel\' | \'cache\' }) as nobody', async (t) => {
  const { lab: l, host, peer } = lab(t, 'tka');
  const api = readableCheckout(t).path('build/test/helpers/resolve-api.js');
  const call = async (ip: string, tier: string) => JSON.parse((await l.exec(host.ns, [...NOBODY, process.execPath, api, 'tier', ip, tier])).stdout) as Record<string, unknown>;
  t.deepEqual(await call(peer.ip, 'kernel'), { mac: peer.mac });
  t.deepEqual(await call(peer.ip, 'cache'), { mac: peer.mac }, 'the kernel tier left the entry in the table');
  t.deepEqual(await call(SILENT, 'kernel'), { error: 'ResolveTimeoutError', code: 'ERSATZ_TIMEOUT' });
  t.deepEqual(await call('198.51.100.98', 'cache'), { error: 'ResolveTimeoutError', code: 'ERSATZ_TIMEOUT' });
  t.like(await call(peer.ip, 'raw'), { error: 'CaptureError', code: 'EPERM' });
});

