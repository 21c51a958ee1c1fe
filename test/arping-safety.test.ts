// Never harm the LAN (#21): arping announces only the interface's own addresses, as iputils arping does (its bind(2)
// refuses any other). A switched lab: `host` (ersatz), `gw` (the LAN's gateway, a kernel) and `victim` (a kernel
// whose neighbour cache holds the gateway) on one bridge. Each refused run must send nothing and leave the victim's
// cache as it was; the loud --spoof-sender override shows that the check would see a poisoned entry.
// Also RFC 5227 DAD before an address exists, and "not ARPable" interfaces, side by side with iputils arping.
import test from 'ava';
import { Lab } from '@ersatz/lab';
import { once } from 'node:events';
import { ersatz, MAIN, show } from './helpers/cmd-run.js';

interface Node {
  readonly ns: string;
  readonly ip: string;
  readonly mac: string;
}

function bridgeLab(t: import('ava').ExecutionContext, prefix: string): { lab: Lab; host: Node; gw: Node; victim: Node } {
  const lab = new Lab(prefix);
  t.teardown(() => lab.destroy());
  const sw = lab.namespace('sw');
  lab.sh(sw, ['ip', 'link', 'add', 'br0', 'type', 'bridge']);
  lab.sh(sw, ['ip', 'link', 'set', 'br0', 'up']);
  const node = (name: string, ip: string, port: string): Node => {
    const ns = lab.namespace(name);
    lab.veth({ ns, ifname: 'ez0' }, { ns: sw, ifname: port });
    lab.sh(sw, ['ip', 'link', 'set', port, 'master', 'br0']);
    if (ip !== '') lab.sh(ns, ['ip', 'addr', 'add', `${ip}/24`, 'dev', 'ez0']);
    return { ns, ip, mac: lab.mac(ns, 'ez0') };
  };
  const host = node('h', '198.51.100.10', 'p0');
  const gw = node('g', '198.51.100.1', 'p1');
  const victim = node('v', '198.51.100.20', 'p2');
  lab.sh(host.ns, ['ip', 'route', 'add', 'default', 'via', gw.ip]);
  // The victim talks to its gateway, so its cache holds the gateway's real MAC.
  lab.sh(victim.ns, ['ping', '-c', '1', '-W', '5', gw.ip]);
  return { lab, host, gw, victim };
}

/** Host `h` (ez0, no address yet) and peer `p` (ez1) on one veth link, removed when the test ends. */
function pairLab(t: import('ava').ExecutionContext, prefix: string): { lab: Lab; h: string; p: string } {
  const lab = new Lab(prefix);
  t.teardown(() => lab.destroy());
  const h = lab.namespace('h');
  const p = lab.namespace('p');
  lab.veth({ ns: h, ifname: 'ez0' }, { ns: p, ifname: 'ez1' });
  return { lab, h, p };
}

/** The victim's cache entry for `ip`: its MAC, or null when it has none. */
function cached(lab: Lab, victim: Node, ip: string): string | null {
  const [entry] = JSON.parse(lab.sh(victim.ns, ['ip', '-j', 'neigh', 'show', 'to', ip, 'dev', 'ez0'])) as { lladdr?: string }[];
  return entry?.lladdr ?? null;
}

test('-U/-A for the gateway\'s address and -s with an address not ours: nothing sent, exit 2, the victim\'s cache unchanged (as iputils)', async (t) => {
  const { lab, host, gw, victim } = bridgeLab(t, 'asf');
  t.is(cached(lab, victim, gw.ip), gw.mac);
  const witness = await lab.tcpdump(victim.ns, 'ez0', ['arp', 'and', 'ether', 'src', host.mac]);
  const refused = [
    ['-U', '-c', '1', gw.ip],
    ['-A', '-c', '1', gw.ip],
    ['-U', '-c', '1', '-I', 'ez0', gw.ip],
    ['-s', gw.ip, '-c', '1', victim.ip],
    ['-D', '-s', gw.ip, '-c', '1', victim.ip],
  ];
  for (const args of refused) {
    const r = await ersatz(lab, host.ns, ['arping', ...args]);
    const what = `ersatz arping ${args.join(' ')}: ${show(r)}`;
    t.is(r.code, 2, what);
    t.is(r.stdout, '', what);
    t.regex(r.stderr, new RegExp(`^ersatz: arping: ${gw.ip.replaceAll('.', '\\.')} is not an address of ez0 \\(it has 198\\.51\\.100\\.10\\): refusing [^\\n]+\\n$`), what);
    // iputils arping, same arguments: bind(2) refuses the address, exit 2.
    const iputils = lab.run(host.ns, ['arping', '-I', 'ez0', ...args.filter((a) => a !== '-I' && a !== 'ez0')]);
    t.is(iputils.code, 2, `iputils arping ${args.join(' ')}: ${iputils.stderr}`);
  }
  t.is(cached(lab, victim, gw.ip), gw.mac, 'the victim still has the real gateway');
  t.deepEqual(await witness.stop(), [], 'not one ARP frame from the host');
});

test('--spoof-sender is the only way to announce a foreign address, and the victim then learns our MAC (the check above can fail)', async (t) => {
  const { lab, host, gw, victim } = bridgeLab(t, 'asp');
  t.is(cached(lab, victim, gw.ip), gw.mac);
  const r = await ersatz(lab, host.ns, ['arping', '-U', '-c', '1', '--spoof-sender', gw.ip]);
  t.is(r.code, 0, show(r));
  // Bounded: the kernel applies the gratuitous request at once; give it up to 5 s of 50 ms looks.
  for (let i = 0; i < 100 && cached(lab, victim, gw.ip) !== host.mac; i++) await new Promise((ok) => setTimeout(ok, 50));
  t.is(cached(lab, victim, gw.ip), host.mac);
});

test('-D on an interface without an IPv4 address probes from 0.0.0.0 (RFC 5227 §2.1): 0 when free, 1 when taken, as iputils', async (t) => {
  const { lab, h, p } = pairLab(t, 'adn');
  lab.sh(p, ['ip', 'addr', 'add', '198.51.100.2/24', 'dev', 'ez1']);
  const witness = await lab.tcpdump(p, 'ez1', ['arp', 'and', 'ether', 'src', lab.mac(h, 'ez0')]);
  for (const [ip, code] of [['198.51.100.2', 1], ['198.51.100.9', 0]] as const) {
    const args = ['-D', '-I', 'ez0', '-c', '1', ip]; // iputils' -i takes whole seconds only
    const r = await ersatz(lab, h, ['arping', ...args]);
    t.is(r.code, code, show(r));
    t.regex(r.stdout, new RegExp(`^ARPING ${ip.replaceAll('.', '\\.')} from 0\\.0\\.0\\.0 ez0\\n`));
    t.is(lab.run(h, ['arping', ...args]).code, code, `iputils arping ${args.join(' ')}`);
  }
  const probes = await witness.stop();
  t.is(probes.length, 4, probes.join('\n')); // one probe per run, ersatz's and iputils'
  for (const line of probes) t.regex(line, /Request who-has 198\.51\.100\.[29] \(ff:ff:ff:ff:ff:ff\) tell 0\.0\.0\.0/);
  // Outside DAD an unaddressed interface has no sender address to use.
  const r = await ersatz(lab, h, ['arping', '-I', 'ez0', '-c', '1', '198.51.100.2']);
  t.is(r.code, 2, show(r));
  t.regex(r.stderr, /^ersatz: [^\n]+\n$/);
});

test('loopback and NOARP interfaces are "not ARPable": -D exits 0 (scripts go on), other modes 2, as iputils', async (t) => {
  const { lab, h } = pairLab(t, 'ana');
  lab.sh(h, ['ip', 'link', 'set', 'ez0', 'arp', 'off']);
  for (const [ifname, mode, code] of [['lo', '-D', 0], ['lo', '-U', 2], ['ez0', '-D', 0], ['ez0', '-A', 2]] as const) {
    const args = [mode, '-I', ifname, '-c', '1', '198.51.100.2'];
    const r = await ersatz(lab, h, ['arping', ...args]);
    const iputils = lab.run(h, ['arping', ...args]);
    t.is(r.code, code, show(r));
    t.is(iputils.code, code, `iputils arping ${args.join(' ')}`);
    t.is(r.stdout, `Interface "${ifname}" is not ARPable\n`);
    t.is(r.stdout, iputils.stdout);
    // With --json, stdout holds JSON lines only: the same exit, ersatz's own error line on stderr.
    const json = await ersatz(lab, h, ['arping', '--json', ...args]);
    t.like(json, { code, stdout: '' }, show(json));
    t.regex(json.stderr, new RegExp(`^ersatz: cannot ARP on ${ifname}: [^\n]+\n$`));
  }
});

test('capture is not promiscuous: the interface\'s promiscuity stays 0 while ersatz runs (tcpdump, the control, raises it)', async (t) => {
  const { lab, h, p } = pairLab(t, 'apr');
  lab.sh(h, ['ip', 'addr', 'add', '198.51.100.1/24', 'dev', 'ez0']);
  lab.sh(p, ['ip', 'addr', 'add', '198.51.100.2/24', 'dev', 'ez1']);
  const promiscuity = (): number => (JSON.parse(lab.sh(h, ['ip', '-d', '-j', 'link', 'show', 'dev', 'ez0'])) as [{ promiscuity: number }])[0].promiscuity;
  const run = lab.start(h, ['node', MAIN, 'arping', '-c', '4', '-i', '0.3', '198.51.100.2']);
  let out = '';
  run.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  const exited = once(run, 'close');
  let running = true;
  void exited.then(() => (running = false));
  const seen = new Set<number>();
  // Sampled until the run ends (its -c bounds it), every 20 ms, at most 30 s.
  for (let i = 0; i < 1500 && running; i++) {
    seen.add(promiscuity());
    await new Promise((ok) => setTimeout(ok, 20));
  }
  const [code] = (await exited) as [number | null];
  t.is(code, 0, out);
  t.true(out.includes('Received 4 response(s)'), out);
  t.deepEqual([...seen], [0]);
  const witness = await lab.tcpdump(h, 'ez0');
  t.true(promiscuity() > 0, 'tcpdump goes promiscuous: the reading works');
  await witness.stop();
});
