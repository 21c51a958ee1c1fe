// `ersatz arping` end to end: the real command in a namespace, a real Linux kernel answering on the other end of a
// veth (twoHostLab: host 198.51.100.1 ez0 <-> peer 198.51.100.2 ez1). Output and exit codes as iputils arping,
// RFC 5227 DAD, gratuitous frames byte for byte against iputils arping's own, --pcap read back by tcpdump.
import test from 'ava';
import { join } from 'node:path';
import { once } from 'node:events';
import { twoHostLab, type Host, type Lab } from '@ersatz/lab';
import { ersatz, hex, jsonLines, MAIN, scratchDir, show, startErsatz, tcpdump, tcpdumpRead } from './helpers/cmd-run.js';

const FREE = '198.51.100.77'; // nobody has it

function lab(t: import('ava').ExecutionContext, prefix: string): { lab: Lab; host: Host; peer: Host } {
  const l = twoHostLab(prefix);
  t.teardown(() => l.lab.destroy());
  return l;
}

test('replies print as iputils does, with the peer kernel\'s real MAC, then the counts and RTT statistics', async (t) => {
  const { lab: l, host, peer } = lab(t, 'arq');
  const r = await ersatz(l, host.ns, ['arping', '-c', '3', '-i', '0.2', peer.ip]);
  t.is(r.code, 0, show(r));
  const lines = r.stdout.trimEnd().split('\n');
  t.is(lines[0], `ARPING ${peer.ip} from ${host.ip} ${host.ifname}`, show(r));
  const mac = peer.mac.toUpperCase().replaceAll('.', '\\.');
  for (const line of lines.slice(1, 4)) t.regex(line, new RegExp(`^Unicast reply from ${peer.ip.replaceAll('.', '\\.')} \\[${mac}\\]  \\d+\\.\\d{3}ms$`));
  // The first probe is broadcast; the next two go unicast to the MAC the first reply taught.
  t.is(lines[4], 'Sent 3 probes (1 broadcast(s))');
  t.is(lines[5], 'Received 3 response(s)');
  t.regex(lines[6] ?? '', /^rtt min\/avg\/max\/std-dev = \d+\.\d{3}\/\d+\.\d{3}\/\d+\.\d{3}\/\d+\.\d{3} ms$/);
  t.is(lines.length, 7);
  t.is(r.stderr, '');
});

test('a host name as TARGET: looked up as iputils does (here the namespace\'s /etc/hosts), one it cannot look up exits 2', async (t) => {
  const { lab: l, host, peer } = lab(t, 'arn');
  l.hosts(host.ns, { 'peer.lab.test': peer.ip });
  const [named, unknown] = await Promise.all([
    ersatz(l, host.ns, ['arping', '-c', '1', 'peer.lab.test']),
    ersatz(l, host.ns, ['arping', '-c', '1', 'nosuch.invalid']),
  ]);
  t.is(named.code, 0, show(named));
  t.is(named.stdout.split('\n')[0], `ARPING ${peer.ip} from ${host.ip} ${host.ifname}`, show(named));
  t.regex(named.stdout, new RegExp(`^Unicast reply from ${peer.ip.replaceAll('.', '\\.')} \\[${peer.mac.toUpperCase()}\\]`, 'm'));
  t.is(unknown.code, 2, show(unknown));
  t.is(unknown.stdout, '');
  t.regex(unknown.stderr, /^ersatz: arping: cannot look up host nosuch\.invalid \([A-Z_]+\): [^\n]+\n$/, show(unknown));
});

test('--json: one object per reply and a summary; no reply exits 1', async (t) => {
  const { lab: l, host, peer } = lab(t, 'arj');
  const [ok, none] = await Promise.all([
    ersatz(l, host.ns, ['arping', '--json', '-c', '2', '-i', '0.2', peer.ip]),
    ersatz(l, host.ns, ['arping', '--json', '-c', '2', '-i', '0.2', FREE]),
  ]);
  t.is(ok.code, 0, show(ok));
  const [a, b, s] = jsonLines(ok.stdout);
  t.like(a, { ip: peer.ip, mac: peer.mac, operation: 'reply', broadcast: false });
  t.like(b, { ip: peer.ip, mac: peer.mac });
  t.true(typeof a?.rttMs === 'number' && a.rttMs > 0);
  t.like(s, { summary: { ip: peer.ip, source: host.ip, interface: host.ifname, mode: 'request', sent: 2, broadcasts: 1, received: 2, dad: null, interrupted: false } });
  t.is(none.code, 1, show(none));
  t.like(jsonLines(none.stdout).at(-1), { summary: { sent: 2, broadcasts: 2, received: 0, rtt: null } });
});

test('-D (RFC 5227): a taken address exits 1, a free one 0; probes carry sender IP 0.0.0.0', async (t) => {
  const { lab: l, host, peer } = lab(t, 'ard');
  const dir = scratchDir(t);
  const cap = await tcpdump(l, peer.ns, peer.ifname, join(dir, 'dad.pcap'), ['arp', 'and', 'ether', 'src', host.mac]);
  const [taken, free] = await Promise.all([
    ersatz(l, host.ns, ['arping', '-D', '-c', '2', '-i', '0.3', peer.ip]),
    ersatz(l, host.ns, ['arping', '-D', '-c', '2', '-i', '0.3', FREE]),
  ]);
  t.is(taken.code, 1, show(taken));
  t.regex(taken.stdout, new RegExp(`^ARPING ${peer.ip} from 0\\.0\\.0\\.0 ez0\n`));
  t.regex(taken.stdout, /\nReceived 1 response\(s\)\n/);
  t.is(free.code, 0, show(free));
  t.regex(free.stdout, /\nSent 2 probes \(2 broadcast\(s\)\)\nReceived 0 response\(s\)\n$/);
  const frames = await cap.stop();
  // Every probe the peer saw: who-has X tell 0.0.0.0, sender MAC ours, target MAC all ones (iputils' choice).
  t.is(frames.length, 3);
  for (const f of frames) t.is(hex(f.data.subarray(14 + 8, 14 + 18)), `${host.mac.replaceAll(':', '')}00000000`);
});

test('-U and -A: the gratuitous frames are byte for byte those of iputils arping', async (t) => {
  const { lab: l, host, peer } = lab(t, 'arg');
  const dir = scratchDir(t);
  for (const flag of ['-U', '-A']) {
    const frameOf = async (name: string, argv: string[]): Promise<Uint8Array> => {
      const cap = await tcpdump(l, peer.ns, peer.ifname, join(dir, `${name}${flag}.pcap`), ['arp', 'and', 'ether', 'src', host.mac]);
      const r = l.run(host.ns, argv);
      t.is(r.code, 0, `${name} ${flag}: ${show(r)}`);
      const frames = await cap.stop();
      t.is(frames.length, 1, `${name} ${flag}: one frame`);
      return frames[0]!.data;
    };
    const iputils = await frameOf('iputils', ['arping', flag, '-c', '1', '-I', host.ifname, host.ip]);
    // No -I: ersatz finds the interface holding the address itself (iputils would pick lo and fail).
    const ours = await frameOf('ersatz', ['node', MAIN, 'arping', flag, '-c', '1', host.ip]);
    // iputils sends 42 bytes through a packet socket (veth does not pad); ersatz pads to the 60-byte minimum.
    t.is(iputils.length, 42, flag);
    t.is(hex(ours.subarray(0, 42)), hex(iputils), `${flag}: Ethernet header and ARP body`);
    t.is(hex(ours.subarray(42)), '00'.repeat(18), `${flag}: zero padding`);
    // Sanity: what the frame says (so equal-but-wrong bytes cannot pass): gratuitous, sender = target = our IP.
    const arp = ours.subarray(14);
    t.is(hex(arp.subarray(6, 8)), flag === '-U' ? '0001' : '0002', `${flag}: operation`);
    t.is(hex(arp.subarray(14, 18)), hex(arp.subarray(24, 28)), `${flag}: sender IP = target IP`);
  }
});

test('--pcap: every frame sent and received, wall-clock stamped, readable by tcpdump -r', async (t) => {
  const { lab: l, host, peer } = lab(t, 'arp');
  const file = join(scratchDir(t), 'arping.pcap');
  const before = Date.now();
  const r = await ersatz(l, host.ns, ['arping', '-c', '2', '-i', '0.2', '--pcap', file, peer.ip]);
  t.is(r.code, 0, show(r));
  const lines = tcpdumpRead(l, host.ns, file, ['-tt']);
  const requests = lines.filter((x) => x.includes(`Request who-has ${peer.ip} `) && x.includes(`tell ${host.ip}`));
  const replies = lines.filter((x) => x.includes(`Reply ${peer.ip} is-at ${peer.mac}`));
  t.is(requests.length, 2, lines.join('\n'));
  t.is(replies.length, 2, lines.join('\n'));
  t.true(requests[0]!.includes('> ff:ff:ff:ff:ff:ff') && requests[1]!.includes(`> ${peer.mac}`), 'broadcast first, then unicast');
  for (const x of lines) {
    const ms = Number(x.split(' ')[0]) * 1000;
    t.true(ms >= before - 1000 && ms <= Date.now() + 1000, `wall-clock timestamp: ${x}`);
  }
});

test('Ctrl-C prints the summary of what came so far and exits with iputils\' status (0 after replies)', async (t) => {
  const { lab: l, host, peer } = lab(t, 'ari');
  const child = startErsatz(l, host.ns, ['arping', '-i', '0.2', peer.ip]);
  let stdout = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  // 'close', not 'exit': the summary may still be in the pipe when the process has exited (seen under load).
  const exited = once(child, 'close');
  // Bounded: wait for two replies (at most 10 s), then interrupt.
  for (let i = 0; i < 100 && (stdout.match(/reply from/g) ?? []).length < 2; i++) await new Promise((ok) => setTimeout(ok, 100));
  child.kill('SIGINT');
  const [code] = (await exited) as [number | null];
  t.is(code, 0, stdout);
  t.regex(stdout, /\nSent \d+ probes \(1 broadcast\(s\)\)\nReceived \d+ response\(s\)\nrtt min/);
  // Interrupted with nothing heard: -D says "free" (0), a plain run "no reply" (1), for iputils and for ersatz.
  for (const args of [['-D', FREE], [FREE]]) {
    const expected = args[0] === '-D' ? 0 : 1;
    // stdbuf: iputils' stdout to a pipe is block-buffered, so without it its header would show only at exit.
    for (const argv of [['node', MAIN, 'arping', ...args], ['stdbuf', '-oL', 'arping', '-I', host.ifname, ...args]]) {
      const run = l.start(host.ns, argv);
      let out = '';
      run.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
      const done = once(run, 'close');
      // Bounded by events: the header says the run has begun (so Ctrl-C is handled), at most 30 s.
      for (let i = 0; i < 300 && !out.includes('ARPING'); i++) await new Promise((ok) => setTimeout(ok, 100));
      run.kill('SIGINT');
      const [status] = (await done) as [number | null];
      t.is(status, expected, `${argv.join(' ')}: ${out}`);
      t.regex(out, /\nReceived 0 response\(s\)\n/, argv.join(' '));
    }
  }
});

test('bad arguments: one line on stderr, nothing on stdout, exit 2', async (t) => {
  const { lab: l, host, peer } = lab(t, 'aru');
  const cases = [
    [],
    ['198.51.100.300'],
    ['peer;rm'],
    ['-D', '-U', peer.ip],
    ['-c', '0', peer.ip],
    ['-i', 'fast', peer.ip],
    ['-w', '-1', peer.ip],
    ['--bogus', peer.ip],
    [peer.ip, 'extra'],
    ['-s', 'me', peer.ip],
    ['-I', 'nosuch0', peer.ip],
    ['--pcap', '/nonexistent/dir/x.pcap', peer.ip],
  ];
  const results = await Promise.all(cases.map((args) => ersatz(l, host.ns, ['arping', ...args])));
  results.forEach((r, i) => {
    const what = `arping ${cases[i]!.join(' ')}: ${show(r)}`;
    t.is(r.code, 2, what);
    t.is(r.stdout, '', what);
    t.regex(r.stderr, /^ersatz: [^\n]+\n$/, what);
  });
});
