// `ersatz ping` end to end: echo requests built by ersatz, in raw frames to the next hop's ARP-resolved MAC, answered
// by a real Linux kernel in a namespace the test creates (twoHostLab: host 198.51.100.1 <-> peer 198.51.100.2, the
// peer also the host's default gateway). Output like iputils ping, exit codes, a far target via the gateway, --pcap.
import test from 'ava';
import { join } from 'node:path';
import { twoHostLab, type Host, type Lab } from '@ersatz/lab';
import { once } from 'node:events';
import { ersatz, jsonLines, MAIN, scratchDir, show, tcpdumpRead } from './helpers/cmd-run.js';

// A TEST-NET-3 address the peer holds on its loopback: off the host's subnet, so reached through the gateway.
const FAR = '203.0.113.9';

function lab(t: import('ava').ExecutionContext, prefix: string): { lab: Lab; host: Host; peer: Host } {
  const l = twoHostLab(prefix);
  t.teardown(() => l.lab.destroy());
  return l;
}

test('echo replies from the peer kernel are matched and printed like ping, with its statistics', async (t) => {
  const { lab: l, host, peer } = lab(t, 'pgo');
  const r = await ersatz(l, host.ns, ['ping', '-c', '3', '-i', '0.2', peer.ip]);
  t.is(r.code, 0, show(r));
  const lines = r.stdout.trimEnd().split('\n');
  t.is(lines[0], `PING ${peer.ip} (${peer.ip}) 56(84) bytes of data.`);
  [1, 2, 3].forEach((seq) => t.regex(lines[seq] ?? '', new RegExp(`^64 bytes from ${peer.ip.replaceAll('.', '\\.')}: icmp_seq=${seq} ttl=64 time=\\d+(\\.\\d+)? ms$`)));
  t.is(lines[4], '');
  t.is(lines[5], `--- ${peer.ip} ping statistics ---`);
  t.regex(lines[6] ?? '', /^3 packets transmitted, 3 received, 0% packet loss, time \d+ms$/);
  t.regex(lines[7] ?? '', /^rtt min\/avg\/max\/mdev = \d+\.\d{3}\/\d+\.\d{3}\/\d+\.\d{3}\/\d+\.\d{3} ms$/);
  t.is(r.stderr, '');
});

test('a host name as TARGET: the header and the statistics name it as typed, as iputils ping does', async (t) => {
  const { lab: l, host, peer } = lab(t, 'pgn');
  l.hosts(host.ns, { gw: peer.ip });
  const r = await ersatz(l, host.ns, ['ping', '-c', '1', 'gw']);
  t.is(r.code, 0, show(r));
  const lines = r.stdout.trimEnd().split('\n');
  t.is(lines[0], `PING gw (${peer.ip}) 56(84) bytes of data.`);
  t.regex(lines[1] ?? '', new RegExp(`^64 bytes from ${peer.ip.replaceAll('.', '\\.')}: icmp_seq=1 `));
  t.is(lines[3], '--- gw ping statistics ---');
  // With -I, the header names the source and the interface, as iputils' does.
  const [ours, theirs] = [await ersatz(l, host.ns, ['ping', '-c', '1', '-I', host.ifname, peer.ip]), l.run(host.ns, ['ping', '-c', '1', '-I', host.ifname, peer.ip])];
  t.is(ours.stdout.split('\n')[0], theirs.stdout.split('\n')[0]);
  t.is(ours.stdout.split('\n')[0], `PING ${peer.ip} (${peer.ip}) from ${host.ip} ${host.ifname}: 56(84) bytes of data.`);
});

test('--json, and -s/-t shape the requests the kernel answers', async (t) => {
  const { lab: l, host, peer } = lab(t, 'pgj');
  const file = join(scratchDir(t), 'ping.pcap');
  const r = await ersatz(l, host.ns, ['ping', '--json', '-c', '2', '-i', '0.2', '-s', '100', '-t', '5', '--pcap', file, peer.ip]);
  t.is(r.code, 0, show(r));
  const [a, b, s] = jsonLines(r.stdout);
  // The kernel echoes our 100 data bytes: 108 bytes of ICMP.
  t.like(a, { seq: 1, ip: peer.ip, ttl: 64, bytes: 108, dup: false });
  t.like(b, { seq: 2, ip: peer.ip, bytes: 108 });
  t.true(typeof a?.rttMs === 'number' && a.rttMs > 0);
  t.like(s, { summary: { ip: peer.ip, nextHop: peer.ip, transmitted: 2, received: 2, duplicates: 0, lossPercent: 0, interrupted: false } });
  // Our requests as tcpdump decodes them (-v: IPv4 header fields, checksums verified).
  const requests = tcpdumpRead(l, host.ns, file, ['-v', 'icmp[icmptype] == icmp-echo']).join('\n').split(/\n(?=\d)/);
  t.is(requests.length, 2, requests.join('\n'));
  for (const x of requests) t.regex(x, /ttl 5, id 0, offset 0, flags \[DF\], proto ICMP \(1\), length 128\)\n.*ICMP echo request, id \d+, seq [12], length 108/);
});

test('a far target goes through the gateway: ARP for the gateway, echo frames to its MAC, replies matched; --pcap holds it all', async (t) => {
  const { lab: l, host, peer } = lab(t, 'pgw');
  l.sh(peer.ns, ['ip', 'addr', 'add', `${FAR}/32`, 'dev', 'lo']);
  const file = join(scratchDir(t), 'ping.pcap');
  const r = await ersatz(l, host.ns, ['ping', '-c', '2', '-i', '0.2', '--pcap', file, FAR]);
  t.is(r.code, 0, show(r));
  t.regex(r.stdout, new RegExp(`\n64 bytes from ${FAR.replaceAll('.', '\\.')}: icmp_seq=2 ttl=64 `));
  const lines = tcpdumpRead(l, host.ns, file);
  const has = (re: RegExp) => lines.filter((x) => re.test(x)).length;
  const dot = (s: string) => s.replaceAll('.', '\\.');
  t.is(has(new RegExp(`Request who-has ${dot(peer.ip)} tell ${dot(host.ip)}`)), 1, lines.join('\n'));
  t.is(has(new RegExp(`Reply ${dot(peer.ip)} is-at ${peer.mac}`)), 1, lines.join('\n'));
  t.is(has(new RegExp(`^[\\d:.]+ ${host.mac} > ${peer.mac}, .* ${dot(host.ip)} > ${dot(FAR)}: ICMP echo request, id \\d+, seq [12], length 64`)), 2, lines.join('\n'));
  t.is(has(new RegExp(`^[\\d:.]+ ${peer.mac} > ${host.mac}, .* ${dot(FAR)} > ${dot(host.ip)}: ICMP echo reply, id \\d+, seq [12], length 64`)), 2, lines.join('\n'));
});

test('a next hop that does not answer ARP: the reason, the statistics of nothing sent, exit 1; a host that ignores echo: 100% loss, exit 1', async (t) => {
  const { lab: l, host, peer } = lab(t, 'pgn');
  l.sh(peer.ns, ['sysctl', '-q', '-w', 'net.ipv4.icmp_echo_ignore_all=1']);
  const [silent, silentJson, deaf] = await Promise.all([
    ersatz(l, host.ns, ['ping', '-c', '1', '198.51.100.77']),
    ersatz(l, host.ns, ['ping', '-c', '1', '--json', '198.51.100.77']),
    ersatz(l, host.ns, ['ping', '-c', '2', '-i', '0.2', '-W', '3', peer.ip]),
  ]);
  t.is(silent.code, 1, show(silent));
  t.regex(silent.stderr, /^ersatz: ping: the next hop 198\.51\.100\.77 did not answer ARP \(3 tries, \d+ ms\): check that it is up and on the link\n$/);
  // As iputils prints them when nothing went out: no loss and no time, and an empty last line where RTTs go.
  t.regex(silent.stdout, /\n--- 198\.51\.100\.77 ping statistics ---\n0 packets transmitted, 0 received\n\n$/);
  t.is(silentJson.code, 1, show(silentJson));
  t.like(jsonLines(silentJson.stdout).at(-1), { type: 'summary', summary: { transmitted: 0, received: 0, rtt: null } });
  t.is(deaf.code, 1, show(deaf));
  // iputils' time runs from the first request to the last: ~200 ms here, not the 3 s wait after it.
  const time = /\n2 packets transmitted, 0 received, 100% packet loss, time (\d+)ms\n\n$/.exec(deaf.stdout);
  t.truthy(time, show(deaf));
  t.true(Number(time![1]) < 3000, deaf.stdout);
});

test('bad arguments: one line on stderr, nothing on stdout, exit 2', async (t) => {
  const { lab: l, host, peer } = lab(t, 'pgu');
  const cases = [[], ['1.2.3'], ['-c', '0', peer.ip], ['-i', '0', peer.ip], ['-s', '1473', peer.ip], ['-t', '256', peer.ip], ['--bogus', peer.ip], [peer.ip, peer.ip], [host.ip]];
  const results = await Promise.all(cases.map((args) => ersatz(l, host.ns, ['ping', ...args])));
  results.forEach((r, i) => {
    const what = `ping ${cases[i]!.join(' ')}: ${show(r)}`;
    t.is(r.code, 2, what);
    t.is(r.stdout, '', what);
    t.regex(r.stderr, /^ersatz: [^\n]+\n$/, what);
  });
});

test('Ctrl-C prints the statistics and exits with iputils ping\'s status: 0 after replies, 1 with none', async (t) => {
  const { lab: l, host, peer } = lab(t, 'pgi');
  const silent = '198.51.100.77'; // nobody has it: ARP for it goes unanswered
  for (const [target, expected] of [[peer.ip, 0], [silent, 1]] as const) {
    for (const argv of [['node', MAIN, 'ping', '-i', '0.2', target], ['ping', '-i', '0.2', target]]) {
      const run = l.start(host.ns, argv);
      let out = '';
      run.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
      const done = once(run, 'close');
      // Bounded by events, at most 30 s: the first reply line for the peer, the header for the silent address (the
      // run has begun, so Ctrl-C is handled; nothing can answer it, whenever the signal lands).
      const begun = target === peer.ip ? /bytes from/ : /^PING /;
      for (let i = 0; i < 300 && !begun.test(out); i++) await new Promise((ok) => setTimeout(ok, 100));
      run.kill('SIGINT');
      const [status] = (await done) as [number | null];
      t.is(status, expected, `${argv.join(' ')}: ${out}`);
      t.regex(out, new RegExp(`--- ${target.replaceAll('.', '\\.')} ping statistics ---`), argv.join(' '));
    }
  }
  // SIGTERM, which iputils does not catch (143): 143 here too, as for every ersatz command, after the statistics.
  const run = l.start(host.ns, ['node', MAIN, 'ping', '-i', '0.2', peer.ip]);
  let out = '';
  run.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  const done = once(run, 'close');
  for (let i = 0; i < 300 && !out.includes('bytes from'); i++) await new Promise((ok) => setTimeout(ok, 100));
  run.kill('SIGTERM');
  t.is(((await done) as [number | null])[0], 143, out);
  t.regex(out, /ping statistics ---\n\d+ packets transmitted, \d+ received/);
});
