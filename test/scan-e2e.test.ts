// `ersatz scan` end to end on a /24: the real command in a namespace, sweeping Linux kernels that answer ARP for
// whole ranges (responderLab). Every host found exactly once, duplicates flagged like arp-scan, --pcap read back by
// tcpdump, Ctrl-C, bad arguments.
import test from 'ava';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { responderLab, twoHostLab, type ResponderLab } from '@ersatz/lab';
import { Ipv4, parseTargets } from '@ersatz/wire';
import { ersatz, jsonLines, MAIN, scratchDir, show, startErsatz, tcpdumpRead } from './helpers/cmd-run.js';

const NET = '10.77.0.0/24';
const ALL = [...parseTargets(NET)].map(Ipv4.format); // .1 to .254: the responder answers for our own .1 too (as for arp-scan)
const DUPS = '10.77.0.16/28'; // a second responder answers for .16 to .31 as well

/** The lines of tab-separated (arp-scan style) output, sorted. */
const sortedLines = (out: string): string[] => out.trimEnd().split('\n').sort();
/** Field `i` of each of those lines (0: the IP, 1: the MAC, 2: the vendor). */
const tabField = (out: string, i: number): string[] => sortedLines(out).map((x) => x.split('\t')[i]!);

function lab(t: import('ava').ExecutionContext, prefix: string, answers?: string[]): ResponderLab {
  const l = responderLab(prefix, { cidr: NET, ...(answers && { answers }) });
  t.teardown(() => l.lab.destroy());
  return l;
}

interface HostLine {
  ip: string;
  mac: string;
  vendor: string | null;
  rttMs: number;
  dup: boolean;
}

test('a /24 sweep finds every host exactly once, with the responder\'s MAC, and a summary that adds up', async (t) => {
  const { lab: l, host, responders } = lab(t, 'sc24');
  const r = await ersatz(l, host.ns, ['scan', '--json', '--rate', '2000', NET]);
  t.is(r.code, 0, show(r));
  const lines = jsonLines(r.stdout);
  const hosts = lines.slice(0, -1) as unknown as HostLine[];
  t.deepEqual(hosts.map((h) => h.ip).sort(), [...ALL].sort(), 'every host, once');
  for (const h of hosts) t.like(h, { mac: responders[0]!.mac, vendor: 'locally administered', dup: false });
  t.true(hosts.every((h) => typeof h.rttMs === 'number' && h.rttMs > 0 && h.rttMs < 1000));
  const s = (lines.at(-1) as { summary: Record<string, unknown> }).summary;
  t.like(s, { hosts: 254, answered: 254, duplicates: 0, interrupted: false });
  t.true((s.sent as number) >= 254, `sent ${String(s.sent)}`);
  const drops = s.drops as Record<string, unknown>;
  t.deepEqual(Object.keys(drops), ['kernel', 'rxRing', 'eventsRing', 'framesRing', 'send']);
  t.true(Object.values(drops).every((n) => typeof n === 'number'), JSON.stringify(drops));
});

test('--file targets (comments, ranges, several per line) and --random order find the same hosts', async (t) => {
  const { lab: l, host } = lab(t, 'scfr');
  const file = join(scratchDir(t), 'targets.txt');
  writeFileSync(file, '# office printers\n10.77.0.5\n10.77.0.10-10.77.0.12 10.77.0.200  # and one more\n\n10.77.0.5\n');
  const [listed, shuffled] = await Promise.all([
    ersatz(l, host.ns, ['scan', '--json', '--file', file]),
    ersatz(l, host.ns, ['scan', '--json', '--rate', '2000', '--random', '--seed', '7', NET]),
  ]);
  t.is(listed.code, 0, show(listed));
  const ips = (r: typeof listed) => jsonLines(r.stdout).slice(0, -1).map((h) => h.ip as string);
  t.deepEqual(ips(listed).sort(), ['10.77.0.10', '10.77.0.11', '10.77.0.12', '10.77.0.200', '10.77.0.5']);
  t.like(jsonLines(listed.stdout).at(-1), { summary: { hosts: 5, answered: 5 } });
  t.is(shuffled.code, 0, show(shuffled));
  const order = ips(shuffled);
  t.deepEqual([...order].sort(), [...ALL].sort());
  const ascending = order.every((ip, i) => i === 0 || Ipv4.parse(ip) > Ipv4.parse(order[i - 1]!));
  t.false(ascending, 'answers arrive in the shuffled order of the requests');
});

test('targets on the command line in each form --help lists (a.b.c.d/N, a.b.c.d:netmask, start-end, one address) find what the same lines in --file find', async (t) => {
  const { lab: l, host } = lab(t, 'scfa');
  const targets = ['10.77.0.8/30', '10.77.0.16:255.255.255.252', '10.77.0.40-10.77.0.42', '10.77.0.50'];
  const file = join(scratchDir(t), 'targets.txt');
  writeFileSync(file, `${targets.join('\n')}\n`);
  const [typed, listed] = [await ersatz(l, host.ns, ['scan', '--json', ...targets]), await ersatz(l, host.ns, ['scan', '--json', '--file', file])];
  t.is(typed.code, 0, show(typed));
  const ips = (r: typeof typed) => jsonLines(r.stdout).slice(0, -1).map((h) => h.ip as string).sort();
  t.deepEqual(ips(typed), ips(listed));
  t.true(ips(typed).includes('10.77.0.17') && ips(typed).includes('10.77.0.41') && ips(typed).includes('10.77.0.50'), ips(typed).join(' '));
});

test('two MACs answering for one IP: the second is flagged DUP, in JSON and in arp-scan style text', async (t) => {
  const { lab: l, host, responders } = lab(t, 'scdp', [NET, DUPS]);
  const macs = responders.map((x) => x.mac);
  // A local route makes the whole /28 local, its first and last addresses included.
  const dupIps = [...parseTargets('10.77.0.16-10.77.0.31')].map(Ipv4.format);
  const [json, text] = await Promise.all([ersatz(l, host.ns, ['scan', '--json', '--rate', '1000', NET]), ersatz(l, host.ns, ['scan', '--rate', '1000', NET])]);
  t.is(json.code, 0, show(json));
  const hosts = jsonLines(json.stdout).slice(0, -1) as unknown as HostLine[];
  const first = hosts.filter((h) => !h.dup);
  const dups = hosts.filter((h) => h.dup);
  t.deepEqual(first.map((h) => h.ip).sort(), [...ALL].sort(), 'every host once without DUP');
  t.deepEqual(dups.map((h) => h.ip).sort(), dupIps.sort(), 'one DUP per doubly answered IP');
  for (const ip of dupIps) {
    const both = hosts.filter((h) => h.ip === ip).map((h) => h.mac);
    t.deepEqual([...both].sort(), [...macs].sort(), `${ip}: both responders' MACs`);
  }
  t.like(jsonLines(json.stdout).at(-1), { summary: { answered: 254, duplicates: 16 } });

  t.is(text.code, 0, show(text));
  const lines = text.stdout.trimEnd().split('\n');
  t.regex(lines[0]!, new RegExp(`^Interface: ez0, MAC: ${host.mac}, IPv4: 10\\.77\\.0\\.1: scanning 254 hosts`));
  const hostLines = lines.slice(1, -1);
  t.is(hostLines.length, 254 + 16);
  // arp-scan's fields, tab-separated (its --rtt field last): IP, MAC, vendor with the DUP mark, RTT.
  for (const x of hostLines) t.regex(x, /^10\.77\.0\.\d+\t([0-9a-f]{2}:){5}[0-9a-f]{2}\t\(Unknown: locally administered\)( \(DUP: 2\))?\tRTT=\d+\.\d{3} ms$/);
  t.is(hostLines.filter((x) => x.includes(' (DUP: 2)\t')).length, 16);
  t.regex(lines.at(-1)!, /^254 hosts scanned in \d+\.\d{3} s \(\d+ hosts\/s\): 254 responded, 16 duplicates; \d+ requests sent; /);
});

test('-q, -x, -g and -r mean what they mean to arp-scan: the same lines as arp-scan prints for the same wire', async (t) => {
  const { lab: l, host } = lab(t, 'scqx', [NET, DUPS]);
  // -q -x: "IP<tab>MAC", one line per answer, DUPs included but unmarked; nothing else.
  const quiet = await ersatz(l, host.ns, ['scan', '-q', '-x', '-r', '3', '--rate', '1000', NET]);
  t.is(quiet.code, 0, show(quiet));
  const theirsQuiet = l.run(host.ns, ['arp-scan', '-I', 'ez0', '-q', '-x', '--retry=3', NET]);
  t.is(theirsQuiet.code, 0, theirsQuiet.stderr);
  t.is(sortedLines(quiet.stdout).length, 254 + 16);
  t.deepEqual(sortedLines(quiet.stdout), sortedLines(theirsQuiet.stdout).filter((x) => /^10\.77\.0\.([1-9]|[1-9]\d|1\d\d|2[0-4]\d|25[0-4])\t/.test(x)));
  // -g -x: the DUP lines left out, one line per IP (which of two MACs comes first is the wire's choice, for both
  // tools); the vendor field as arp-scan prints it, then our RTT field.
  const nodups = await ersatz(l, host.ns, ['scan', '-g', '-x', '--retry', '3', '--rate', '1000', NET]);
  t.is(nodups.code, 0, show(nodups));
  const theirsNodups = l.run(host.ns, ['arp-scan', '-I', 'ez0', '-g', '-x', '--retry=3', NET]);
  t.is(theirsNodups.code, 0, theirsNodups.stderr);
  t.deepEqual(tabField(nodups.stdout, 0).sort(), [...ALL].sort());
  t.deepEqual(tabField(nodups.stdout, 0).sort(), tabField(theirsNodups.stdout, 0).filter((ip) => ALL.includes(ip)).sort());
  t.deepEqual([...new Set(tabField(nodups.stdout, 2))], [...new Set(tabField(theirsNodups.stdout, 2))]);
  // --tries and --retry are one option.
  const both = await ersatz(l, host.ns, ['scan', '--tries', '2', '--retry', '3', NET]);
  t.is(both.code, 2);
  t.regex(both.stderr, /^ersatz: scan: --tries and --retry are one option: give one\n$/);
});

test('-M stops once that many hosts answered and exits 1 when fewer did, as arp-scan\'s -M', async (t) => {
  const { lab: l, host } = lab(t, 'sclim', [NET]);
  const five = await ersatz(l, host.ns, ['scan', '-M', '5', '-q', '-x', '--rate', '1000', NET]);
  t.is(five.code, 0, show(five));
  const theirsFive = l.run(host.ns, ['arp-scan', '-I', 'ez0', '-M', '5', '-q', '-x', NET]);
  t.is(theirsFive.code, 0, theirsFive.stderr);
  t.is(sortedLines(five.stdout).length, 5, five.stdout);
  t.is(sortedLines(theirsFive.stdout).length, sortedLines(five.stdout).length, theirsFive.stdout);
  const json = await ersatz(l, host.ns, ['scan', '--limit', '5', '--json', '--rate', '1000', NET]);
  t.is(json.code, 0, show(json));
  t.like(jsonLines(json.stdout).at(-1), { type: 'summary', summary: { answered: 5 } });
  // 254 hosts answer: a limit of 300 is not reached, the sweep runs to its end.
  const short = await ersatz(l, host.ns, ['scan', '-M', '300', '--json', '-i', '1u', NET]);
  t.is(short.code, 1, show(short));
  t.like(jsonLines(short.stdout).at(-1), { summary: { answered: 254 } });
  const theirsShort = l.run(host.ns, ['arp-scan', '-I', 'ez0', '-M', '300', '-q', '-x', '--retry=1', NET]);
  t.is(theirsShort.code, 1, theirsShort.stderr);
});

test('-O names vendors from a file in arp-scan\'s format, as arp-scan -O does; ERSATZ_OUI_FILE is its default', async (t) => {
  const { lab: l, host, responders } = lab(t, 'scoui', [NET]);
  const file = join(scratchDir(t), 'vendors.txt');
  // The responder's random MAC, written as arp-scan's mac-vendor.txt allows: with separators.
  writeFileSync(file, `# test vendors\n${responders[0]!.mac}\tLab Responder Ltd\n`);
  const ours = await ersatz(l, host.ns, ['scan', '-O', file, '-x', '--rate', '1000', NET]);
  t.is(ours.code, 0, show(ours));
  const theirs = l.run(host.ns, ['arp-scan', '-I', 'ez0', '-O', file, '-x', NET]);
  t.is(theirs.code, 0, theirs.stderr);
  t.deepEqual([...new Set(tabField(ours.stdout, 2))], ['Lab Responder Ltd']);
  t.deepEqual([...new Set(tabField(theirs.stdout, 2))], [...new Set(tabField(ours.stdout, 2))]);
  const byEnv = await l.exec(host.ns, ['node', MAIN, 'scan', '--json', '--rate', '1000', '10.77.0.5'], { env: { ...process.env, ERSATZ_OUI_FILE: file } });
  t.is(byEnv.code, 0, show(byEnv));
  t.like(jsonLines(byEnv.stdout)[0], { type: 'host', vendor: 'Lab Responder Ltd' });
  writeFileSync(file, 'zz\tNot hex\n');
  const bad = await ersatz(l, host.ns, ['scan', '-O', file, NET]);
  t.is(bad.code, 2, show(bad));
  t.is(bad.stdout, '');
  t.is(bad.stderr, `ersatz: vendor file ${file}:1: "zz" is not 2 to 12 hex digits: each line is a MAC prefix (2 to 12 hex digits), a tab and a name\n`);
  const missing = await ersatz(l, host.ns, ['scan', '-O', join(scratchDir(t), 'none.txt'), NET]);
  t.is(missing.code, 2, show(missing));
  t.regex(missing.stderr, /^ersatz: vendor file \S+none\.txt: cannot read it \(ENOENT\)\n$/);
});

test('-F prints each host with arp-scan\'s template, as arp-scan --format does on the same wire', async (t) => {
  const { lab: l, host } = lab(t, 'scfmt', [NET, DUPS]);
  const template = '${ip;-15}|${mac;20}|${Vendor}|${dup}|${hdrmac}|${vlan}\\t\\$';
  const ours = await ersatz(l, host.ns, ['scan', '-x', '-F', template, '--rate', '1000', '10.77.0.10-10.77.0.20']);
  t.is(ours.code, 0, show(ours));
  const theirs = l.run(host.ns, ['arp-scan', '-I', 'ez0', '-x', `--format=${template}`, '10.77.0.10-10.77.0.20']);
  t.is(theirs.code, 0, theirs.stderr);
  // Which of two MACs answers first is the wire's choice, so the DUP number may sit on either line: compare the lines
  // without it, and the number of DUP lines.
  const lines = (out: string): string[] => sortedLines(out).map((x) => x.replace(/\|\d*\|\|\t\$$/, '||\t$'));
  t.is(sortedLines(ours.stdout).length, 11 + 5, ours.stdout); // .16-.20 answer twice
  t.deepEqual(lines(ours.stdout), lines(theirs.stdout));
  t.is(sortedLines(ours.stdout).filter((x) => x.includes('|2||')).length, 5);
  const rtt = await ersatz(l, host.ns, ['scan', '-x', '-F', '${ip} ${rtt}', '--rate', '1000', '10.77.0.10']);
  t.regex(rtt.stdout, /^10\.77\.0\.10 \d+\.\d{3}\n$/);
  const bad = await ersatz(l, host.ns, ['scan', '-F', '${name}', NET]);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /^ersatz: scan: --format: no field \$\{name\}: [^\n]+\n$/);
});

test('-i paces like arp-scan\'s: milliseconds, or microseconds with u; 10 hosts 20 ms apart take at least 180 ms', async (t) => {
  const { lab: l, host } = lab(t, 'scint', [NET]);
  const fast = await ersatz(l, host.ns, ['scan', '--json', '-i', '1u', NET]);
  t.is(fast.code, 0, show(fast));
  t.like(jsonLines(fast.stdout).at(-1), { summary: { answered: 254 } });
  const paced = await ersatz(l, host.ns, ['scan', '--json', '-i', '20', '10.77.0.10-10.77.0.19']);
  t.is(paced.code, 0, show(paced));
  const s = jsonLines(paced.stdout).at(-1)!.summary as { answered: number; elapsedMs: number };
  t.is(s.answered, 10);
  t.true(s.elapsedMs >= 180, `${s.elapsedMs} ms`); // never faster than asked; a busy machine may be slower
});

test('-s: a probe from 0.0.0.0 finds every host (the kernel answers it); an address not ours is refused, exit 2', async (t) => {
  const { lab: l, host } = lab(t, 'scspa', [NET]);
  const probe = await ersatz(l, host.ns, ['scan', '-s', '0.0.0.0', '-q', '-x', '--rate', '1000', NET]);
  t.is(probe.code, 0, show(probe));
  t.deepEqual(tabField(probe.stdout, 0).sort(), [...ALL].sort());
  const foreign = await ersatz(l, host.ns, ['scan', '-s', '10.77.0.99', NET]);
  t.is(foreign.code, 2, show(foreign));
  t.is(foreign.stdout, '');
  t.regex(foreign.stderr, /^ersatz: scan: 10\.77\.0\.99 is not an address of ez0 \(it has 10\.77\.0\.1\): refusing [^\n]+\n$/);
});

test('-l sweeps the networks on the interface, as arp-scan -l; without -I it needs a default route to pick one', async (t) => {
  const { lab: l, host } = lab(t, 'scln', [NET]);
  const noRoute = await ersatz(l, host.ns, ['scan', '-l']);
  t.is(noRoute.code, 2, show(noRoute));
  t.regex(noRoute.stderr, /^ersatz: scan: --localnet takes the default route's interface, and there is no default route: name one with --interface IF\n$/);
  const mixed = await ersatz(l, host.ns, ['scan', '-l', NET]);
  t.is(mixed.code, 2, show(mixed));
  const ours = await ersatz(l, host.ns, ['scan', '-l', '-I', 'ez0', '-q', '-x', '--rate', '1000']);
  t.is(ours.code, 0, show(ours));
  const theirs = l.run(host.ns, ['arp-scan', '-l', '-I', 'ez0', '-q', '-x']);
  t.is(theirs.code, 0, theirs.stderr);
  t.deepEqual(tabField(ours.stdout, 0).sort(), [...ALL].sort());
  t.deepEqual(tabField(ours.stdout, 0).sort(), tabField(theirs.stdout, 0).sort().filter((ip) => ALL.includes(ip)));
  // A default route picks the interface as arp-scan's own choice would here.
  l.sh(host.ns, ['ip', 'route', 'add', 'default', 'via', '10.77.0.2']);
  const byRoute = await ersatz(l, host.ns, ['scan', '-l', '-q', '-x', '--rate', '1000']);
  t.is(byRoute.code, 0, show(byRoute));
  t.deepEqual(tabField(byRoute.stdout, 0).sort(), [...ALL].sort());
});

test('several -I sweep each interface in turn (-l: each one\'s networks), every result naming its interface', async (t) => {
  const { lab: l, host, peer } = twoHostLab('scmi');
  t.teardown(() => l.destroy());
  const far = l.namespace('q');
  l.veth({ ns: host.ns, ifname: 'ez2' }, { ns: far, ifname: 'ez3' });
  l.sh(host.ns, ['ip', 'addr', 'add', '203.0.113.1/24', 'dev', 'ez2']);
  l.sh(far, ['ip', 'addr', 'add', '203.0.113.2/24', 'dev', 'ez3']);
  const farMac = l.mac(far, 'ez3');
  const both = ['scan', '-I', 'ez0', '-I', 'ez2', '-l', '--rate', '2000'];
  const json = await ersatz(l, host.ns, [...both, '--json']);
  t.is(json.code, 0, show(json));
  const lines = jsonLines(json.stdout);
  t.deepEqual(
    lines.filter((x) => x.type === 'host').map((x) => [x.interface, x.ip, x.mac]),
    [['ez0', peer.ip, peer.mac], ['ez2', '203.0.113.2', farMac]],
  );
  t.deepEqual(lines.filter((x) => x.type === 'summary').map((x) => x.interface), ['ez0', 'ez2']);
  const text = await ersatz(l, host.ns, [...both, '-q', '-x']);
  t.is(text.stdout, `${peer.ip}\t${peer.mac}\tez0\n203.0.113.2\t${farMac}\tez2\n`, show(text));
  // The hosts arp-scan -l finds on each interface.
  for (const ifname of ['ez0', 'ez2']) {
    const theirs = l.run(host.ns, ['arp-scan', '-l', '-I', ifname, '-q', '-x']);
    t.is(theirs.code, 0, theirs.stderr);
    const ours = text.stdout.split('\n').filter((x) => x.endsWith(`\t${ifname}`)).map((x) => x.split('\t').slice(0, 2).join('\t'));
    t.deepEqual(ours, theirs.stdout.trimEnd().split('\n'), ifname);
  }
  for (const bad of [['-I', 'ez0', '-I', 'ez0'], ['-I', 'ez0', '-I', 'ez2', '--pcap', '/tmp/never.pcap']]) {
    const r = await ersatz(l, host.ns, ['scan', ...bad, '-l']);
    t.is(r.code, 2, show(r));
    t.is(r.stdout, '');
  }
});

test('a single address owned by two hosts: scan reports the DUP of the last host to answer, as arp-scan does', async (t) => {
  const { lab: l, host, responders } = lab(t, 'scdl', [NET, DUPS]);
  const ip = '10.77.0.20';
  const r = await ersatz(l, host.ns, ['scan', '--json', ip]);
  t.is(r.code, 0, show(r));
  const lines = jsonLines(r.stdout);
  t.deepEqual(lines.slice(0, -1).map((h) => [h.ip, h.dup]), [[ip, false], [ip, true]], show(r));
  t.deepEqual(lines.slice(0, -1).map((h) => h.mac as string).sort(), responders.map((x) => x.mac).sort());
  t.like(lines.at(-1), { summary: { answered: 1, duplicates: 1 } });
  // arp-scan on the same wire sees both too (-q: IP and MAC only, one line per answer).
  const arpScan = l.run(host.ns, ['arp-scan', '-I', 'ez0', '-q', '-x', ip]);
  t.is(arpScan.code, 0, arpScan.stderr);
  t.is(arpScan.stdout.trim().split('\n').filter((x) => x.startsWith(`${ip}\t`)).length, 2, arpScan.stdout);
  // --settle 0 ends at the first answer: the conflict goes unseen (why the window exists).
  const quick = await ersatz(l, host.ns, ['scan', '--json', '--settle', '0', ip]);
  t.like(jsonLines(quick.stdout).at(-1), { summary: { answered: 1, duplicates: 0 } });
});

test('the progress line shows only on a terminal, steps aside for every result, and never with --json or piped', async (t) => {
  const { lab: l, host } = lab(t, 'sctt');
  // script(1) gives the command a pseudo-terminal (stdout and stderr) of 100 columns.
  const onTty = (args: string) => l.run(host.ns, ['script', '-qec', `stty cols 100 rows 40; node ${MAIN} scan --rate 400 ${args} ${NET}`, '/dev/null']);
  const text = onTty('');
  t.is(text.code, 0, show(text));
  const bars = text.stdout.match(/\r\[[#.]{20}\] \d+\/254 \d+% /g) ?? [];
  t.true(bars.length >= 2, `progress frames drawn: ${bars.length}`);
  // With the bar's frames and erasures taken out, the results read as they would in a pipe.
  const plain = text.stdout.replace(/\r\[[^\r\n]*\x1b\[K/g, '').replace(/\r\x1b\[K/g, '').replaceAll('\r\n', '\n');
  const hostLines = plain.split('\n').filter((x) => x.startsWith('10.77.'));
  t.is(hostLines.length, 254, plain.slice(0, 400));
  for (const x of hostLines) t.regex(x, /^10\.77\.0\.\d+\t([0-9a-f]{2}:){5}[0-9a-f]{2}\t\(Unknown: locally administered\)\tRTT=\d+\.\d{3} ms$/);
  const json = onTty('--json');
  t.is(json.code, 0, show(json));
  t.false(json.stdout.includes('\r['), 'no progress line with --json');
  const piped = await ersatz(l, host.ns, ['scan', '--rate', '400', NET]);
  t.is(piped.code, 0, show(piped));
  t.is(piped.stderr, '', 'nothing on stderr when piped');
});

test('--pcap: every request and reply, readable by tcpdump -r', async (t) => {
  const { lab: l, host, responders } = lab(t, 'scpc');
  const file = join(scratchDir(t), 'scan.pcap');
  const r = await ersatz(l, host.ns, ['scan', '--json', '--rate', '2000', '--pcap', file, '10.77.0.0/27']);
  t.is(r.code, 0, show(r));
  const s = (jsonLines(r.stdout).at(-1) as { summary: { sent: number; answered: number } }).summary;
  // .1 to .31: .31 ends the typed /27 but is a host of the link's /24, so it is probed (and answers).
  t.is(s.answered, 31);
  const lines = tcpdumpRead(l, host.ns, file);
  const requests = lines.filter((x) => x.includes(`${host.mac} > ff:ff:ff:ff:ff:ff`) && /Request who-has 10\.77\.0\.\d+ tell 10\.77\.0\.1,/.test(x));
  const replies = lines.filter((x) => x.includes(`${responders[0]!.mac} > ${host.mac}`) && /Reply 10\.77\.0\.\d+ is-at /.test(x));
  t.is(requests.length, s.sent, lines.slice(0, 5).join('\n'));
  t.is(new Set(replies.map((x) => /Reply (\S+)/.exec(x)![1])).size, 31);
});

/**
 * Starts a 13 s sweep (20 requests a second) with `args`, stops it with `signal` once a few hosts are printed, and
 * returns its exit code, its JSON lines and the summary (the last line).
 */
async function stoppedScan(t: import('ava').ExecutionContext, prefix: string, signal: NodeJS.Signals, args: readonly string[] = []) {
  const { lab: l, host } = lab(t, prefix);
  // 5 requests a second: the signal comes after the fifth host is printed (an event, not a time) with ~50 s of the
  // sweep still to go, however slowly a loaded machine started the process.
  const child = startErsatz(l, host.ns, ['scan', '--json', '--rate', '5', ...args, NET]);
  let stdout = '';
  const exited = once(child, 'close');
  const fiveHosts = new Promise<void>((ok) =>
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      if (stdout.split('\n').length >= 6) ok();
    }),
  );
  await Promise.race([fiveHosts, exited]);
  t.true(child.exitCode === null && child.signalCode === null, `the scan ended before the signal: ${stdout}`);
  child.kill(signal);
  const [code] = (await exited) as [number | null];
  const lines = jsonLines(stdout);
  const summary = (lines.at(-1) as { summary: { answered: number; interrupted: boolean } }).summary;
  return { l, host, code, stdout, lines, summary };
}

test('an interface with a second subnet: its targets are asked from our address there, less its network and broadcast (-l and typed alike)', async (t) => {
  const { lab: l, host } = lab(t, 'scsn');
  l.sh(host.ns, ['ip', 'addr', 'add', '10.78.0.1/29', 'dev', host.ifname]);
  for (const [name, args] of [
    ['localnet', ['-l', '-I', host.ifname]],
    ['typed', ['10.77.0.8/30', '10.78.0.0/29']],
  ] as const) {
    const file = join(scratchDir(t), `${name}.pcap`);
    const r = await ersatz(l, host.ns, ['scan', '--json', '--tries', '1', '--timeout', '200', '--pcap', file, ...args]);
    t.is(r.code, 0, show(r));
    const asked = tcpdumpRead(l, host.ns, file).flatMap((x) => /Request who-has (\S+) tell (\S+),/.exec(x)?.slice(1, 3).join(' ') ?? []);
    // Our own 10.78.0.1 is asked too, as 10.77.0.1 is in a sweep of the first subnet (the responder answers it there).
    t.deepEqual(asked.filter((x) => x.startsWith('10.78.')).sort(), ['10.78.0.1', '10.78.0.2', '10.78.0.3', '10.78.0.4', '10.78.0.5', '10.78.0.6'].map((ip) => `${ip} 10.78.0.1`), name);
    t.true(asked.filter((x) => x.startsWith('10.77.')).every((x) => x.endsWith(' 10.77.0.1')), name);
    t.true(jsonLines(r.stdout).some((x) => x.type === 'host' && x.ip === '10.77.0.9'), name);
  }
  // Each sweep's header names the address its requests carry.
  const text = await ersatz(l, host.ns, ['scan', '-l', '-I', host.ifname, '--tries', '1', '--timeout', '200']);
  t.deepEqual(text.stdout.split('\n').filter((x) => x.startsWith('Interface:')).map((x) => /IPv4: (\S+):/.exec(x)?.[1]), ['10.77.0.1', '10.78.0.1'], show(text));
});

test('-s 0.0.0.0 needs no address of ours: a probe sweep from an interface with none (a trunk, for -Q) finds the peer', async (t) => {
  const { lab: l, host, peer } = twoHostLab('scpr');
  t.teardown(() => l.destroy());
  l.sh(host.ns, ['ip', 'addr', 'flush', 'dev', host.ifname]);
  const range = '198.51.100.1-198.51.100.3';
  const none = await ersatz(l, host.ns, ['scan', '-I', host.ifname, range]);
  t.like(none, { code: 2, stdout: '', stderr: `ersatz: ${host.ifname} has no IPv4 address: add one with 'ip addr add ADDRESS/PREFIX dev ${host.ifname}' or pick another interface\n` });
  const file = join(scratchDir(t), 'probe.pcap');
  const probe = await ersatz(l, host.ns, ['scan', '--json', '-I', host.ifname, '-s', '0.0.0.0', '--pcap', file, range]);
  t.is(probe.code, 0, show(probe));
  t.deepEqual(jsonLines(probe.stdout).filter((x) => x.type === 'host').map((x) => [x.ip, x.mac]), [[peer.ip, peer.mac]]);
  const asked = tcpdumpRead(l, host.ns, file).flatMap((x) => /Request who-has (\S+) tell (\S+),/.exec(x)?.slice(1, 3).join(' ') ?? []);
  t.deepEqual([...new Set(asked)].sort(), ['198.51.100.1 0.0.0.0', '198.51.100.2 0.0.0.0', '198.51.100.3 0.0.0.0']);
});

test("-l on a point-to-point address (A peer P/N) sweeps the peer's prefix, which the kernel routes on the link", async (t) => {
  const { lab: l, host, peer } = twoHostLab('scpp');
  t.teardown(() => l.destroy());
  l.sh(host.ns, ['ip', 'addr', 'flush', 'dev', host.ifname]);
  l.sh(peer.ns, ['ip', 'addr', 'flush', 'dev', peer.ifname]);
  l.sh(peer.ns, ['ip', 'addr', 'add', '10.41.0.5/30', 'dev', peer.ifname]);
  l.sh(peer.ns, ['ip', 'route', 'add', '10.41.0.1', 'dev', peer.ifname]);
  for (const [address, asked] of [
    [['10.41.0.1', 'peer', '10.41.0.4/30'], ['10.41.0.4', '10.41.0.5', '10.41.0.6', '10.41.0.7']],
    [['10.41.0.1', 'peer', '10.41.0.5'], ['10.41.0.5']],
  ] as const) {
    l.sh(host.ns, ['ip', 'addr', 'flush', 'dev', host.ifname]);
    l.sh(host.ns, ['ip', 'addr', 'add', ...address, 'dev', host.ifname]);
    const file = join(scratchDir(t), `${address.at(-1)!.replace('/', '-')}.pcap`);
    const r = await ersatz(l, host.ns, ['scan', '--json', '-l', '-I', host.ifname, '--tries', '2', '--timeout', '300', '--pcap', file]);
    t.is(r.code, 0, show(r));
    t.deepEqual(jsonLines(r.stdout).filter((x) => x.type === 'host').map((x) => [x.ip, x.mac]), [['10.41.0.5', peer.mac]], address.join(' '));
    const requests = tcpdumpRead(l, host.ns, file).flatMap((x) => /Request who-has (\S+) tell 10\.41\.0\.1,/.exec(x)?.[1] ?? []);
    t.deepEqual([...new Set(requests)].sort(), [...asked], address.join(' '));
  }
});

test('an address added with noprefixroute: its subnet still picks the interface, with no route on the link (with a default route or none)', async (t) => {
  const { lab: l, host, peer } = twoHostLab('scnp');
  t.teardown(() => l.destroy());
  l.sh(host.ns, ['ip', 'addr', 'flush', 'dev', host.ifname]);
  l.sh(host.ns, ['ip', 'addr', 'add', `${host.ip}/24`, 'dev', host.ifname, 'noprefixroute']);
  for (const routes of ['none', 'a default route'] as const) {
    if (routes !== 'none') l.sh(host.ns, ['ip', 'route', 'add', 'default', 'via', peer.ip, 'dev', host.ifname, 'onlink']);
    const r = await ersatz(l, host.ns, ['scan', '--json', '--tries', '2', '--timeout', '300', '198.51.100.2-198.51.100.3']);
    t.is(r.code, 0, `${routes}: ${show(r)}`);
    t.deepEqual(jsonLines(r.stdout).filter((x) => x.type === 'host').map((x) => [x.ip, x.mac, x.interface]), [[peer.ip, peer.mac, host.ifname]], routes);
  }
});

test('Ctrl-C: the hosts found so far, the summary, exit 130', async (t) => {
  const { code, stdout, lines, summary: s } = await stoppedScan(t, 'scin', 'SIGINT');
  t.is(code, 130, stdout);
  t.true(s.interrupted);
  t.true(s.answered >= 5 && s.answered < 254, `answered ${s.answered}`);
  t.is(lines.length - 1, s.answered, 'every host counted was printed');
});

test('SIGTERM (systemd, kill, timeout): the same summary, the pcap file finished, exit 143', async (t) => {
  const pcap = join(scratchDir(t), 'stopped.pcap');
  const { l, host, code, stdout, lines, summary: s } = await stoppedScan(t, 'scterm', 'SIGTERM', ['--pcap', pcap]);
  t.is(code, 143, stdout);
  t.true(s.interrupted);
  t.true(s.answered >= 5 && s.answered < 254, `answered ${s.answered}`);
  // tcpdump reads the whole file (it fails on a cut one), and every host printed has its reply in it. The file may
  // hold one reply more: a request already handed to the link when the signal came is answered after the summary.
  const frames = tcpdumpRead(l, host.ns, pcap);
  for (const line of lines.slice(0, -1)) t.true(frames.some((f) => f.includes(`Reply ${String(line['ip'])} is-at`)), `${String(line['ip'])}'s reply is in the file`);
  t.true(frames.filter((f) => / is-at /.test(f)).length >= s.answered);
});

test('bad arguments: one line on stderr, nothing on stdout, exit 2', async (t) => {
  const { lab: l, host } = lab(t, 'scus');
  const cases = [
    [],
    ['10.77.0.0/33'],
    ['10.77.0.9-10.77.0.1'],
    ['--rate', '0', NET],
    ['--rate', '10', '--bandwidth', '1M', NET],
    ['--bandwidth', 'fast', NET],
    ['-i', '0', NET],
    ['-i', '2ms', NET],
    ['-i', '5', '--rate', '10', NET],
    ['--tries', '0', NET],
    ['-M', '0', NET],
    ['-F', '${ip}', '--json', NET],
    ['--limit', 'some', NET],
    ['--seed', '1', NET],
    ['--bogus', NET],
    ['--file', '/nonexistent/targets.txt'],
    ['--interface', 'nosuch0', NET],
    ['203.0.113.0/24'], // no route to it from the lab host
    ['--pcap', '/nonexistent/dir/x.pcap', NET],
  ];
  const results = await Promise.all(cases.map((args) => ersatz(l, host.ns, ['scan', ...args])));
  results.forEach((r, i) => {
    const what = `scan ${cases[i]!.join(' ')}: ${show(r)}`;
    t.is(r.code, 2, what);
    t.is(r.stdout, '', what);
    t.regex(r.stderr, /^ersatz: [^\n]+\n$/, what);
  });
});

test('network and broadcast come from the link\'s prefix, not the typed one: on a /23, a /24 inside it keeps the /23\'s hosts', async (t) => {
  const l = responderLab('scpf', { cidr: '10.77.0.0/23' });
  t.teardown(() => l.lab.destroy());
  const ips = (r: { stdout: string }) => new Set(jsonLines(r.stdout).slice(0, -1).map((h) => h.ip as string));
  // The /23 is 10.77.0.0-10.77.1.255: 10.77.0.255 and 10.77.1.0 are hosts of it, though each ends a typed /24.
  for (const [typed, host, skipped] of [['10.77.0.0/24', '10.77.0.255', '10.77.0.0'], ['10.77.1.0/24', '10.77.1.0', '10.77.1.255']] as const) {
    const r = await ersatz(l.lab, l.host.ns, ['scan', '--json', '--rate', '2000', typed]);
    t.is(r.code, 0, show(r));
    const found = ips(r);
    t.is(found.size, 255, `${typed}: 254 hosts of the /24 plus one that is a host of the /23`);
    t.true(found.has(host), `${typed}: ${host} probed`);
    t.false(found.has(skipped), `${typed}: ${skipped}, the /23's network or broadcast, skipped`);
  }
  const whole = await ersatz(l.lab, l.host.ns, ['scan', '--json', '--rate', '2000', '10.77.0.0/23']);
  const all = ips(whole);
  t.is(all.size, 510, show(whole));
  t.false(all.has('10.77.0.0') || all.has('10.77.1.255'), 'the /23\'s own network and broadcast are skipped');
  t.like(jsonLines(whole.stdout).at(-1), { summary: { hosts: 510 } });
  // Targets on another interface's subnet: swept where asked, with a warning naming the right interface.
  l.lab.veth({ ns: l.host.ns, ifname: 'ezd' }, { ns: l.lab.namespace('o'), ifname: 'ezo' });
  l.lab.sh(l.host.ns, ['ip', 'addr', 'add', '10.88.0.1/24', 'dev', 'ezd']);
  const other = await ersatz(l.lab, l.host.ns, ['scan', '--json', '-I', 'ez0', '--tries', '1', '--timeout', '100', '10.88.0.8/30']);
  t.is(other.code, 1, show(other));
  t.regex(other.stderr, /^ersatz: warning: scan: targets in 10\.88\.0\.0\/24 belong to ezd's subnet but are swept on ez0, [^\n]+ --interface ezd\n$/);
});
