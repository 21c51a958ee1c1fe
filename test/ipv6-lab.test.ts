// Issue #17 against real kernels: IPv6 on veths in namespaces (the host, a peer that is also a router, a host behind
// it), with DAD off so every address is usable at once. Resolve by Neighbor Discovery (global, link-local, off-link),
// beside ndisc6; DAD free and taken; the unsolicited advertisement as the peer's kernel takes it; forged
// advertisements that break one receiver rule each, refused, beside the same one unbroken, believed.
import test from 'ava';
import { Lab } from '@ersatz/lab';
import { Ipv6, Mac, emitNdpFrame } from '@ersatz/wire';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { ersatz, scratchDir, startErsatz, tcpdump } from './helpers/cmd-run.js';
import { startAttacker, UNTIL_STOPPED_MS } from './helpers/hardening-run.js';
import { stretchNeighbourTimers } from './helpers/still-neighbours.js';

interface Node6 {
  readonly ns: string;
  readonly ifname: string;
  readonly ip: string;
  readonly mac: string;
  readonly ll: string;
}

/** h (2001:db8:1::1) — p (2001:db8:1::2, a router) — r (2001:db8:2::2); h's default route via p. */
function v6Lab(prefix: string): { lab: Lab; h: Node6; p: Node6; r: Node6 } {
  const lab = new Lab(prefix);
  try {
    const [h, p, r] = ['h', 'p', 'r'].map((n) => lab.namespace(n)) as [string, string, string];
    for (const ns of [h, p, r]) lab.sh(ns, ['sysctl', '-q', '-w', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
    lab.veth({ ns: h, ifname: 'ez0' }, { ns: p, ifname: 'ez1' });
    lab.veth({ ns: p, ifname: 'ez2' }, { ns: r, ifname: 'ez3' });
    const node = (ns: string, ifname: string, ip: string): Node6 => {
      lab.sh(ns, ['ip', 'addr', 'add', `${ip}/64`, 'dev', ifname, 'nodad']);
      const ll = /inet6 (fe80::[0-9a-f:]+)\//.exec(lab.sh(ns, ['ip', '-6', 'addr', 'show', 'dev', ifname, 'scope', 'link']))![1]!;
      return { ns, ifname, ip, mac: lab.mac(ns, ifname), ll };
    };
    const nodes = { h: node(h, 'ez0', '2001:db8:1::1'), p: node(p, 'ez1', '2001:db8:1::2'), r: node(r, 'ez3', '2001:db8:2::2') };
    lab.sh(p, ['ip', 'addr', 'add', '2001:db8:2::1/64', 'dev', 'ez2', 'nodad']);
    lab.sh(p, ['sysctl', '-q', '-w', 'net.ipv6.conf.all.forwarding=1']);
    lab.sh(h, ['ip', '-6', 'route', 'add', 'default', 'via', nodes.p.ip, 'dev', 'ez0']);
    return { lab, ...nodes };
  } catch (err) {
    lab.destroy();
    throw err;
  }
}

const json = (stdout: string): Record<string, unknown> => JSON.parse(stdout) as Record<string, unknown>;

test('resolve: a global, a link-local (zone or -I) and an off-link address, each as ndisc6 finds it', async (t) => {
  const { lab, h, p } = v6Lab('v6r');
  t.teardown(() => lab.destroy());
  const ndisc6 = lab.sh(h.ns, ['ndisc6', '-1', '-q', p.ip, 'ez0']).trim().toLowerCase();
  t.is(ndisc6, p.mac);
  for (const args of [[p.ip], [`${p.ll}%ez0`], [p.ll, '-I', 'ez0']]) {
    const r = await ersatz(lab, h.ns, ['resolve', ...args, '--json']);
    t.is(r.code, 0, r.stderr);
    t.like(json(r.stdout), { ip: args[0]!.split('%')[0], mac: p.mac, interface: 'ez0', router: true, tier: 'raw' });
  }
  const off = await ersatz(lab, h.ns, ['resolve', '2001:db8:2::2', '--inject']);
  t.is(off.code, 0, off.stderr);
  t.regex(off.stdout, new RegExp(`^2001:db8:2::2 via ${p.ip} is at ${p.mac} on ez0 \\(\\d+\\.\\d{3} ms\\), a router, stored in the kernel neighbour table\\n$`));
  t.regex(lab.sh(h.ns, ['ip', '-6', 'neigh', 'show', p.ip, 'dev', 'ez0']), new RegExp(`lladdr ${p.mac} .*PERMANENT`), '--inject stored the next hop');
  const none = await ersatz(lab, h.ns, ['resolve', '2001:db8:1::99', '--tries', '2', '--timeout', '200']);
  t.is(none.code, 1);
  t.regex(none.stderr, /^ersatz: no neighbor advertisement for 2001:db8:1::99 after 2 tries \(\d+ ms\): check that the host is up and on the same link, or raise --tries\/--timeout\n$/);
  const bare = await ersatz(lab, h.ns, ['resolve', p.ll]);
  t.is(bare.code, 2);
  t.regex(bare.stderr, /^ersatz: resolve: a link-local address is on every link: name one, as fe80::.*%eth0 or -I eth0\n$/);
});

test("scan: ff02::1 and a /120 find the peer once, with its link-local, global and subnet-router anycast addresses; the kernel's table apart; a /64 is refused", async (t) => {
  const { lab, h, p } = v6Lab('v6s');
  t.teardown(() => lab.destroy());
  const all = await ersatz(lab, h.ns, ['scan', '-I', 'ez0', 'ff02::1', '--json']);
  t.is(all.code, 0, all.stderr);
  const [host, summary] = all.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.like(host, { type: 'host', mac: p.mac, addresses: [p.ll], dup: false, interface: 'ez0' });
  t.like(summary, { type: 'summary', summary: { asked: 0, responders: 1, addresses: 1 } });
  const swept = await ersatz(lab, h.ns, ['scan', '-I', 'ez0', '2001:db8:1::/120', '--json']);
  t.is(swept.code, 0, swept.stderr);
  const lines = swept.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.is(lines.length, 2, 'one responder, then the summary');
  // p forwards, so it also answers for its subnet's Subnet-Router anycast address (RFC 4291 §2.6.1).
  t.like(lines[0], { mac: p.mac, addresses: [p.ll, '2001:db8:1::', p.ip], dup: false });
  t.like(lines[1], { summary: { asked: 256, responders: 1, addresses: 3 } });
  // What the kernel's table knows and nobody answered for here: listed apart.
  lab.sh(h.ns, ['ip', '-6', 'neigh', 'add', '2001:db8:1::60', 'lladdr', '02:00:5e:00:53:60', 'dev', 'ez0', 'nud', 'stale']);
  const known = await ersatz(lab, h.ns, ['scan', '-I', 'ez0', 'ff02::1', '--json']);
  const hosts = known.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.type === 'host');
  t.like(hosts.find((x) => x.mac === '02:00:5e:00:53:60'), { addresses: [], kernelOnly: ['2001:db8:1::60'] });
  t.like(hosts.find((x) => x.mac === p.mac), { addresses: [p.ll] });
  const wide = await ersatz(lab, h.ns, ['scan', '-I', 'ez0', '2001:db8:1::/64']);
  t.is(wide.code, 2);
  t.regex(wide.stderr, /^ersatz: scan: 2001:db8:1::\/64 holds 2\^64 addresses: give \/112 or longer/);
});

test("our solicitation is ndisc6's but for the source address (ours is in the target's prefix, as the kernel's) and the flow label", async (t) => {
  const { lab, h, p } = v6Lab('v6n');
  t.teardown(() => lab.destroy());
  // The host's own (the peer probes the host ~5 s after ndisc6's solicitation taught it the host's address).
  const cap = await tcpdump(lab, h.ns, 'ez0', join(scratchDir(t), 'ns.pcap'), ['icmp6 and ip6[40] == 135 and ether src', h.mac]);
  lab.sh(h.ns, ['ndisc6', '-1', '-q', p.ip, 'ez0']);
  t.is((await ersatz(lab, h.ns, ['resolve', p.ip])).code, 0);
  const [theirs, ours] = await cap.stop();
  t.truthy(theirs && ours, 'both solicitations captured');
  const strip = (f: Uint8Array): string => Buffer.from([...f.subarray(0, 15), ...f.subarray(18, 22), ...f.subarray(38, 56), ...f.subarray(58)]).toString('hex');
  t.is(strip(ours!.data), strip(theirs!.data));
  t.is<string, string>(Ipv6.fromBytes(ours!.data, 22), h.ip);
});

test('arping -D: free, and taken when the peer holds the address; arping -U: the peer takes our new MAC, and a foreign address is refused', async (t) => {
  const { lab, h, p } = v6Lab('v6d');
  t.teardown(() => lab.destroy());
  const free = await ersatz(lab, h.ns, ['arping', '-D', '-I', 'ez0', '2001:db8:1::77']);
  t.is(free.code, 0, free.stderr);
  t.is(free.stdout, '2001:db8:1::77 is free on ez0: no answer to 1 duplicate address detection probe\n');
  const taken = await ersatz(lab, h.ns, ['arping', '-D', '-I', 'ez0', p.ip, '--json']);
  t.is(taken.code, 1, taken.stderr);
  t.like(json(taken.stdout), { ip: p.ip, free: false, mac: p.mac, how: 'advertisement' });

  // The peer learns our MAC, we change it, and tell the peer.
  lab.sh(p.ns, ['ping', '-6', '-c', '1', '-W', '2', h.ip]);
  const entry = (): string => lab.sh(p.ns, ['ip', '-6', 'neigh', 'show', h.ip, 'dev', 'ez1']);
  t.regex(entry(), new RegExp(`lladdr ${h.mac}`));
  const newMac = '02:00:5e:00:53:61';
  lab.sh(h.ns, ['ip', 'link', 'set', 'dev', 'ez0', 'address', newMac]);
  t.regex(entry(), new RegExp(`lladdr ${h.mac}`), 'the peer still has the old MAC');
  const u = await ersatz(lab, h.ns, ['arping', '-U', '-I', 'ez0', h.ip]);
  t.is(u.code, 0, u.stderr);
  t.is(u.stdout, `unsolicited advertisement 1: ${h.ip} is at ${newMac} (override)\n`);
  t.regex(entry(), new RegExp(`lladdr ${newMac}`), "the peer's kernel took the new MAC");
  const foreign = await ersatz(lab, h.ns, ['arping', '-U', '-I', 'ez0', p.ip]);
  t.is(foreign.code, 2);
  t.regex(foreign.stderr, /^ersatz: arping: -U announces one of ez0's own addresses, and 2001:db8:1::2 is not one of them: /);
});

test("neigh with IPv6: watch -6 sees an add, show -6 is 'ip -6 -j neigh' entry for entry (state, router flag), flush -6 and del remove", async (t) => {
  const { lab, h, p } = v6Lab('v6t');
  t.teardown(() => lab.destroy());
  // The kernel's entries must not change state between `ip neigh` and ours reading them (the peer's link-local entry
  // read 'delay' in one and not the other once, under load): neighbour timers that outlast the test.
  stretchNeighbourTimers(lab, h.ns, ['ez0'], 6);
  lab.sh(h.ns, ['ping', '-6', '-c', '1', '-W', '2', p.ip]); // an entry for the router, learned by the kernel
  // Until SIGTERM: the kernel may announce other changes (the router's entry ageing) before ours.
  const watch = startErsatz(lab, h.ns, ['neigh', 'watch', '-6', '-I', 'ez0', '--json']);
  const exited = new Promise((done) => watch.once('exit', done));
  let out = '';
  const added = (): Record<string, unknown> | undefined =>
    out
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { entry: { ip: string } })
      .find((e) => e.entry.ip === '2001:db8:1::50');
  let seen: () => void = () => {};
  watch.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    if (added() !== undefined) seen();
  });
  await new Promise<void>((ok) => watch.stderr!.setEncoding('utf8').on('data', (d: string) => d.includes('watching IPv6 neighbour changes') && ok()));
  const add = await ersatz(lab, h.ns, ['neigh', 'add', '2001:db8:1::50', '02:00:5e:00:53:50', '-I', 'ez0', '--state', 'stale']);
  t.is(add.code, 0, add.stderr);
  await new Promise<void>((ok) => (added() !== undefined ? ok() : (seen = ok)));
  watch.kill('SIGTERM');
  t.is(await exited, 143);
  t.like(added(), { type: 'new', entry: { ip: '2001:db8:1::50', mac: '02:00:5e:00:53:50', ifname: 'ez0', state: 'stale' } });

  // The kernel may learn an entry between two reads (the peer's link-local one, from a solicitation the peer sent us):
  // ours is compared with ip's table when ip reads the same table just before and just after ours (a few tries).
  type IpEntry = { dst: string; dev: string; lladdr?: string; router?: null; state: string[] };
  const key = (e: { ip: unknown; ifname: unknown }) => `${String(e.ip)} ${String(e.ifname)}`;
  const ipTable = () =>
    (JSON.parse(lab.sh(h.ns, ['ip', '-6', '-j', 'neigh', 'show'])) as IpEntry[])
      .map((e) => ({ ip: e.dst, ifname: e.dev, mac: e.lladdr ?? null, state: e.state[0]!.toLowerCase(), router: 'router' in e }))
      .sort((a, b) => key(a).localeCompare(key(b)));
  let ours: Record<string, unknown>[] = [];
  let before: ReturnType<typeof ipTable> = [];
  let after: ReturnType<typeof ipTable> = [];
  for (let i = 0; i < 5 && (i === 0 || !isDeepStrictEqual(before, after)); i++) {
    before = ipTable();
    ours = JSON.parse((await ersatz(lab, h.ns, ['neigh', 'show', '-6', '--json'])).stdout) as Record<string, unknown>[];
    after = ipTable();
  }
  t.deepEqual(before, after, "the kernel's table kept changing under five reads");
  t.deepEqual(ours.map((e) => ({ ip: e.ip, ifname: e.ifname, mac: e.mac, state: e.state, router: e.router })).sort((a, b) => key(a).localeCompare(key(b))), after);
  t.like(ours.find((e) => e.ip === p.ip), { mac: p.mac, router: true, state: 'reachable' });
  t.like(ours.find((e) => e.ip === '2001:db8:1::50'), { mac: '02:00:5e:00:53:50', router: false, state: 'stale' });
  t.is((await ersatz(lab, h.ns, ['neigh', 'show', p.ip])).stdout, `${p.ip} dev ez0 lladdr ${p.mac} router REACHABLE\n`);

  const entry = (): string => lab.sh(h.ns, ['ip', '-6', 'neigh', 'show', '2001:db8:1::50']).trim();
  t.is((await ersatz(lab, h.ns, ['neigh', 'flush', '2001:db8:1::50/128', '-I', 'ez0'])).code, 0);
  t.is(entry(), '', 'flushed');
  t.regex(lab.sh(h.ns, ['ip', '-6', 'neigh', 'show', p.ip]), /REACHABLE/, 'outside the prefix: kept');
  t.is((await ersatz(lab, h.ns, ['neigh', 'add', '2001:db8:1::50', '02:00:5e:00:53:50', '-I', 'ez0'])).code, 0);
  t.is((await ersatz(lab, h.ns, ['neigh', 'del', '2001:db8:1::50', '-I', 'ez0'])).code, 0);
  t.is(entry(), '', 'deleted');
  const again = await ersatz(lab, h.ns, ['neigh', 'del', '2001:db8:1::50', '-I', 'ez0']);
  t.is(again.code, 1);
  t.is(again.stderr, 'ersatz: neigh del: no entry for 2001:db8:1::50 on ez0\n');
});

test('RFC 4861 §7.1.2 on the wire: advertisements with hop limit 64 or a bad checksum are refused, the same one unbroken is believed', async (t) => {
  const { lab, h, p } = v6Lab('v6f');
  t.teardown(() => lab.destroy());
  const FAKE = Mac.parse('02:00:5e:00:53:66');
  const target = Ipv6.parse('2001:db8:1::99'); // nobody's: only the forger speaks for it
  const na = (edit: (f: Uint8Array) => void): string => {
    const f = new Uint8Array(86);
    emitNdpFrame(f, { ethDst: Mac.parse(h.mac), ethSrc: Mac.parse(p.mac), src: target, dst: Ipv6.parse(h.ip), message: { type: 'na', target, router: false, solicited: true, override: true, targetLinkAddress: FAKE } });
    edit(f);
    return Buffer.from(f).toString('hex');
  };
  const resolveWhile = async (frame: string): Promise<{ code: number | null; stdout: string; stderr: string }> => {
    const forger = await startAttacker(lab, p.ns, 'repeat', { ifname: 'ez1', frames: [frame], everyMs: 20, ms: UNTIL_STOPPED_MS });
    try {
      return await ersatz(lab, h.ns, ['resolve', target, '--tries', '3', '--timeout', '300', '-v']);
    } finally {
      await forger.stop();
    }
  };
  const hop64 = await resolveWhile(na((f) => (f[21] = 64)));
  t.is(hop64.code, 1, hop64.stdout);
  t.regex(hop64.stderr, /"ndp invalid hop limit":\d+/);
  const badSum = await resolveWhile(na((f) => (f[57]! ^= 0x01)));
  t.is(badSum.code, 1, badSum.stdout);
  t.regex(badSum.stderr, /"ndp checksum":\d+/);
  const good = await resolveWhile(na(() => {}));
  t.is(good.code, 0, good.stderr);
  t.regex(good.stdout, new RegExp(`^${target} is at ${FAKE} on ez0`));
});
