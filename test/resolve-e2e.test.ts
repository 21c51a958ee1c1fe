// End to end: `node dist/main.js` and the programmatic API inside a namespace lab, against a real Linux kernel peer.
import test from 'ava';
import { Lab, twoHostLab } from '@ersatz/lab';

const MAIN = 'dist/main.js';
const API = 'build/test/helpers/resolve-api.js';
const SILENT = '198.51.100.99'; // on-link, nobody has it

function lab(t: { teardown(fn: () => void): void }, name: string) {
  const l = twoHostLab(name);
  t.teardown(() => l.lab.destroy());
  return l;
}

test('resolves an on-link peer to the MAC its kernel really has', async (t) => {
  const { lab: l, host, peer } = lab(t, 'rs1');
  const r = await l.exec(host.ns, ['node', MAIN, '--target', peer.ip, '--json']);
  t.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { ip: string; mac: string; interface: string; rttMs: number };
  t.is(out.ip, peer.ip);
  t.is(out.mac, peer.mac);
  t.is(out.interface, host.ifname);
  t.true(out.rttMs > 0 && out.rttMs < 1000, String(out.rttMs));
  t.false('nextHop' in out);
});

test('a host name as target is looked up (here in the namespace\'s /etc/hosts) and its address resolved', async (t) => {
  const { lab: l, host, peer } = lab(t, 'rsn');
  l.hosts(host.ns, { 'printer.lab.test': peer.ip });
  const [flag, positional] = await Promise.all([
    l.exec(host.ns, ['node', MAIN, '--target', 'printer.lab.test', '--json']),
    l.exec(host.ns, ['node', MAIN, 'resolve', 'printer.lab.test', '--json']),
  ]);
  for (const r of [flag, positional]) {
    t.is(r.code, 0, r.stderr);
    t.like(JSON.parse(r.stdout), { ip: peer.ip, mac: peer.mac });
  }
});

test('-v, or NODE_DEBUG=ersatz, traces discovery, the answer, the pipeline\'s counters and the run\'s timeline on stderr; stdout is unchanged', async (t) => {
  const { lab: l, host, peer } = lab(t, 'rsv');
  const [flag, env] = await Promise.all([
    l.exec(host.ns, ['node', MAIN, '--target', peer.ip, '-v']),
    l.exec(host.ns, ['node', MAIN, '--target', peer.ip], { env: { ...process.env, NODE_DEBUG: 'ersatz' } }),
  ]);
  for (const r of [flag, env]) {
    t.is(r.code, 0, r.stderr);
    // No RTT when the peer's own request naming us overtook ours (it can, while a cold transmit worker wakes up).
    t.regex(r.stdout, new RegExp(`^${peer.ip.replaceAll('.', '\\.')} is at ${peer.mac} on ez0( \\(\\d+\\.\\d{3} ms\\))?\n$`));
    const lines = r.stderr.trimEnd().split('\n');
    t.is(lines.length, 4, r.stderr);
    t.regex(lines[0]!, new RegExp(`^ersatz: resolve: interface ez0 \\(index \\d+\\), ${host.mac}, ${host.ip.replaceAll('.', '\\.')}/24; ARP target ${peer.ip.replaceAll('.', '\\.')} on the link; pipeline open in \\d+\\.\\d ms$`));
    t.is(lines[1]?.replace(/\d+ request/, 'N request'), `ersatz: resolve: N request(s), answer from ${peer.mac}`); // a busy machine may need a retry
    const stats = JSON.parse(lines[2]!.replace(/^ersatz: resolve: pipeline stats /, '')) as { transmit: { sent: number }; capture: { frames: number }; main: { events: number } };
    t.true(stats.transmit.sent >= 1 && stats.capture.frames >= 1 && stats.main.events >= 1, lines[2]);
    // Every moment of a one-shot resolve, in the order it happens (ms since the process started: each after the last).
    const moments = /^ersatz: resolve: timeline \(ms since the process started\): (.*)$/.exec(lines[3]!)?.[1]?.split(', ') ?? [];
    t.deepEqual(moments.map((m) => m.replace(/ \d+\.\d$/, '')), ['threads started', 'command loaded', 'interface found', 'link open', 'answer printed', 'link closed'], lines[3]);
    const ms = moments.map((m) => Number(m.slice(m.lastIndexOf(' ') + 1)));
    t.true(ms.every((x, i) => x > 0 && (i === 0 || x >= ms[i - 1]!)), lines[3]);
  }
});

test('without --target resolves the default gateway; human output names IP, MAC, interface and RTT', async (t) => {
  const { lab: l, host, peer } = lab(t, 'rs2');
  const r = await l.exec(host.ns, ['node', MAIN]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, new RegExp(`^${peer.ip.replaceAll('.', '\\.')} is at ${peer.mac} on ${host.ifname} \\(\\d+\\.\\d{3} ms\\)\\n$`));
});

test('an off-link target resolves the gateway the route goes through', async (t) => {
  const { lab: l, host, peer } = lab(t, 'rs3');
  const r = await l.exec(host.ns, ['node', MAIN, '--target', '203.0.113.7', '--json']);
  t.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, unknown>;
  t.like(out, { ip: '203.0.113.7', mac: peer.mac, nextHop: peer.ip, interface: host.ifname });
});

test('a silent address fails with exit 1 after exactly the configured tries, and no sooner', async (t) => {
  const { lab: l, host, peer } = lab(t, 'rs4');
  const dump = await l.tcpdump(peer.ns, peer.ifname, ['arp', 'and', 'dst', 'host', SILENT]);
  const started = process.hrtime.bigint();
  const r = await l.exec(host.ns, ['node', MAIN, '--target', SILENT, '--tries', '3', '--timeout', '400']);
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  const seen = await dump.stop();
  t.is(r.code, 1, r.stderr);
  t.is(r.stdout, '');
  t.regex(r.stderr, /^ersatz: .*198\.51\.100\.99.*3 tries.*\n$/);
  t.is(seen.filter((l) => l.includes(`who-has ${SILENT}`)).length, 3, seen.join('\n'));
  // Three tries 400 ms apart, then the last one's 400 ms: the process cannot have given up before 1200 ms.
  t.true(elapsedMs >= 1200, `${elapsedMs} ms`);
});

test('concurrent resolves of one IP share a single query', async (t) => {
  const { lab: l, host, peer } = lab(t, 'rs5');
  const dump = await l.tcpdump(peer.ns, peer.ifname, ['arp', 'and', 'dst', 'host', SILENT]);
  const r = await l.exec(host.ns, ['node', API, 'concurrent', SILENT, '8', '2', '300']);
  const seen = await dump.stop();
  t.is(r.code, 0, r.stdout + r.stderr);
  const out = JSON.parse(r.stdout) as { results: { error?: string }[]; requests: number; pending: number };
  t.is(out.results.length, 8);
  t.true(out.results.every((x) => x.error === 'ResolveTimeoutError'));
  // 8 subscribers, 2 tries: 2 requests on the wire, not 16.
  t.is(out.requests, 2);
  t.is(seen.filter((l) => l.includes(`who-has ${SILENT}`)).length, 2, seen.join('\n'));
  t.is(out.pending, 0);

  const ok = await l.exec(host.ns, ['node', API, 'concurrent', peer.ip, '5', '3', '1000']);
  const answered = JSON.parse(ok.stdout) as { results: { mac?: string }[]; requests: number };
  t.deepEqual(answered.results.map((x) => x.mac), Array(5).fill(peer.mac));
  t.is(answered.requests, 1);
});

test('a route change between two resolve() calls of one session is obeyed (the route cache is cleared)', async (t) => {
  const { lab: l, host, peer } = lab(t, 'rsc');
  const r = await l.exec(host.ns, ['node', API, 'reroute', SILENT, '203.0.113.7', '198.51.100.98']);
  t.is(r.code, 0, r.stdout + r.stderr);
  // Through the default route the gateway answers; through a silent next hop nobody does; and back again.
  t.deepEqual(JSON.parse(r.stdout), { before: [peer.mac, peer.mac], rerouted: 'ResolveTimeoutError', restored: peer.mac });
});

test('unsubscribing stops retransmission', async (t) => {
  const { lab: l, host } = lab(t, 'rs6');
  const r = await l.exec(host.ns, ['node', API, 'unsubscribe', SILENT, '350']);
  t.is(r.code, 0, r.stdout + r.stderr);
  const out = JSON.parse(r.stdout) as { atUnsubscribe: number; queuedAfter: number; onWire: number; pending: number };
  // 100 ms apart: requests at 0, 100, 200, 300 ms before the unsubscribe at 350 ms; on a loaded machine timers run
  // late, but the first retransmission's is due before the unsubscribe's: at least two.
  t.true(out.atUnsubscribe >= 2, String(out.atUnsubscribe));
  t.is(out.queuedAfter, out.atUnsubscribe, 'nothing queued after the unsubscribe');
  t.is(out.onWire, out.atUnsubscribe, 'every request queued before it left, and no other');
  t.is(out.pending, 0);
});

test('the promise API resolves the peer', async (t) => {
  const { lab: l, host, peer } = lab(t, 'rs7');
  const r = await l.exec(host.ns, ['node', API, 'api', peer.ip]);
  t.is(r.code, 0, r.stdout + r.stderr);
  t.is((JSON.parse(r.stdout) as { mac: string }).mac, peer.mac);
});

test('the promise API rejects with a typed error without CAP_NET_RAW, and the process lives on', async (t) => {
  const { lab: l, host, peer } = lab(t, 'rsb');
  const r = await l.exec(host.ns, ['setpriv', '--inh-caps=-all', '--bounding-set=-net_raw', '--', 'node', API, 'api', peer.ip]);
  t.regex((JSON.parse(r.stdout) as { fatal: string }).fatal, /^CaptureError: [^\n]*CAP_NET_RAW/, r.stderr);
  // The caller handled the rejection: nothing else (the trace of an unhandled one, ending the process) reaches stderr.
  t.is(r.stderr, '');
});

test('the promise API resolves hosts behind two interfaces at once, one pipeline each', async (t) => {
  const l = new Lab('rs2i');
  t.teardown(() => l.destroy());
  const [host, a, b] = [l.namespace('h'), l.namespace('a'), l.namespace('b')];
  l.veth({ ns: host, ifname: 'ez0' }, { ns: a, ifname: 'ez1' });
  l.veth({ ns: host, ifname: 'ez2' }, { ns: b, ifname: 'ez3' });
  l.sh(host, ['ip', 'addr', 'add', '198.51.100.1/24', 'dev', 'ez0']);
  l.sh(a, ['ip', 'addr', 'add', '198.51.100.2/24', 'dev', 'ez1']);
  l.sh(host, ['ip', 'addr', 'add', '203.0.113.1/24', 'dev', 'ez2']);
  l.sh(b, ['ip', 'addr', 'add', '203.0.113.2/24', 'dev', 'ez3']);
  const r = await l.exec(host, ['node', API, 'two', '198.51.100.2', '203.0.113.2']);
  t.is(r.code, 0, r.stdout + r.stderr);
  t.deepEqual((JSON.parse(r.stdout) as { macs: string[] }).macs, [l.mac(a, 'ez1'), l.mac(b, 'ez3')]);
});

test('--inject leaves a PERMANENT entry with the resolved MAC in the kernel cache', async (t) => {
  const { lab: l, host, peer } = lab(t, 'rs8');
  const r = await l.exec(host.ns, ['node', MAIN, '--target', peer.ip, '--inject']);
  t.is(r.code, 0, r.stderr);
  const [entry] = JSON.parse(l.sh(host.ns, ['ip', '-j', 'neigh', 'show', peer.ip, 'dev', host.ifname])) as [{ lladdr: string; state: string[] }];
  t.is(entry.lladdr, peer.mac);
  t.deepEqual(entry.state, ['PERMANENT']);
});

test('environment errors: one line, exit 2, no stack trace', async (t) => {
  const { lab: l, host, peer } = lab(t, 'rs9');
  const cases: [string[], RegExp][] = [
    [['--target', peer.ip, '--interface', 'nope0'], /nope0/],
    [['--target', peer.ip, '--interface', 'lo'], /lo/],
    [['--target', 'not-an-ip'], /not-an-ip/],
    [['--target', peer.ip, '--tries', '0'], /--tries/],
    [['--target', peer.ip, '--timeout', 'soon'], /--timeout/],
    [['--bogus'], /bogus/],
  ];
  for (const [args, pattern] of cases) {
    const r = await l.exec(host.ns, ['node', MAIN, ...args]);
    t.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, /^ersatz: [^\n]+\n$/, args.join(' '));
    t.regex(r.stderr, pattern, args.join(' '));
  }
  // No default route: only a target can say where to go.
  l.sh(host.ns, ['ip', 'route', 'del', 'default']);
  const r = await l.exec(host.ns, ['node', MAIN]);
  t.is(r.code, 2, r.stderr);
  t.regex(r.stderr, /^ersatz: no default route[^\n]*\n$/);
});

test('without CAP_NET_RAW, --tier raw: one line naming the capability and how to grant it, exit 2', async (t) => {
  const { lab: l, host, peer } = lab(t, 'rsa');
  // Without --tier the kernel would resolve it (tier-kernel.test.ts).
  const r = await l.exec(host.ns, ['setpriv', '--inh-caps=-all', '--bounding-set=-net_raw', '--', 'node', MAIN, '--target', peer.ip, '--tier', 'raw']);
  t.is(r.code, 2, r.stderr);
  t.regex(r.stderr, /^ersatz: [^\n]*CAP_NET_RAW[^\n]*setcap[^\n]*\n$/);
});
