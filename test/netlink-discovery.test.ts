// Interface discovery against the kernel of a lab namespace, checked against iproute2 (`ip -j`), /proc/net/route and
// /sys/class/net. Every netlink call runs in a helper process inside the namespace (netlink acts on the caller's).
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { twoHostLab, type Host, type Lab } from '@ersatz/lab';
import type { ApiCall, ApiResult } from './helpers/neigh-api.js';
import { ersatz } from './helpers/cmd-run.js';

const HELPER = fileURLToPath(new URL('./helpers/neigh-api.js', import.meta.url));
const ARPHRD: Record<string, number> = { ether: 1, loopback: 772 };

let lab: Lab;
let host: Host;
let peer: Host;
test.before(() => {
  ({ lab, host, peer } = twoHostLab('nld'));
  // ez2 (host) — ez3 (peer): an interface without an IPv4 address, later made NOARP, down, carrier-less.
  lab.veth({ ns: host.ns, ifname: 'ez2' }, { ns: peer.ns, ifname: 'ez3' });
  // A second subnet with a broadcast address and a secondary address on ez0 (addresses are picked by subnet).
  lab.sh(host.ns, ['ip', 'addr', 'add', '192.0.2.1/24', 'brd', '+', 'dev', host.ifname]);
  lab.sh(host.ns, ['ip', 'addr', 'add', '198.51.100.50/24', 'dev', host.ifname]);
  // A worse default route: the one via the peer (metric 0) must win. And a blackhole inside the routed range.
  lab.sh(host.ns, ['ip', 'route', 'add', 'default', 'via', '192.0.2.254', 'metric', '200']);
  lab.sh(host.ns, ['ip', 'route', 'add', 'blackhole', '203.0.113.128/25']);
});
test.after.always(() => lab?.destroy());

async function api(ns: string, list: ApiCall[]): Promise<ApiResult[]> {
  const r = await lab.exec(ns, ['node', HELPER, JSON.stringify(list)]);
  if (r.code !== 0) throw new Error(`neigh-api helper exited ${r.code ?? r.signal}: ${r.stderr}`);
  return r.stdout.trim().split('\n').map((line) => JSON.parse(line) as ApiResult);
}
async function value<T>(ns: string, c: ApiCall): Promise<T> {
  const [r] = await api(ns, [c]);
  if (!r?.ok) throw new Error(`${c.op} failed: ${JSON.stringify(r)}`);
  return r.value as T;
}
const ipj = <T>(ns: string, args: string[]): T => JSON.parse(lab.sh(ns, ['ip', '-j', ...args])) as T;
const sys = (ns: string, ifname: string, file: string) => lab.sh(ns, ['cat', `/sys/class/net/${ifname}/${file}`]).trim();

interface IpLink { ifindex: number; ifname: string; flags: string[]; mtu: number; link_type: string; address?: string }
interface Link { index: number; name: string; mac: string | null; flags: number; up: boolean; running: boolean; noarp: boolean; loopback: boolean; mtu: number; master: number | null; type: number }

test.serial('links() and link() equal ip -j link and /sys/class/net', async (t) => {
  const ours = await value<Link[]>(host.ns, { op: 'links' });
  const theirs = ipj<IpLink[]>(host.ns, ['link', 'show']);
  t.deepEqual(
    ours.map((l) => ({ ifindex: l.index, ifname: l.name, mtu: l.mtu, type: l.type, mac: l.mac, up: l.up, noarp: l.noarp, loopback: l.loopback })),
    theirs.map((l) => ({ ifindex: l.ifindex, ifname: l.ifname, mtu: l.mtu, type: ARPHRD[l.link_type] ?? -1, mac: l.address ?? null, up: l.flags.includes('UP'), noarp: l.flags.includes('NOARP'), loopback: l.flags.includes('LOOPBACK') })),
  );
  t.deepEqual(ours.map((l) => l.name), ['lo', 'ez0', 'ez2']);
  // sysfs `flags` is dev->flags; netlink reports dev_get_flags(), which computes these bits from the link state.
  const computed = 0x40 | 0x10000 | 0x20000 | 0x100 | 0x200; // RUNNING, LOWER_UP, DORMANT, PROMISC, ALLMULTI
  for (const l of ours) {
    t.is(sys(host.ns, l.name, 'address') as string | null, l.mac, l.name);
    t.is(Number(sys(host.ns, l.name, 'ifindex')), l.index);
    t.is(Number(sys(host.ns, l.name, 'mtu')), l.mtu);
    t.is(Number(sys(host.ns, l.name, 'type')), l.type);
    t.is(Number(sys(host.ns, l.name, 'flags')) & ~computed, l.flags & ~computed);
  }
  t.is(ours.find((l) => l.name === 'ez0')?.mac, host.mac);

  const [byName, byIndex, noName, noIndex] = await api(host.ns, [{ op: 'link', id: 'ez0' }, { op: 'link', id: 2 }, { op: 'link', id: 'nope0' }, { op: 'link', id: 999 }]);
  t.deepEqual(byName, { ok: true, value: ours[1] });
  t.deepEqual(byIndex, { ok: true, value: ours[1] });
  t.like(noName, { ok: false, error: { name: 'UnknownInterfaceError', interfaceId: 'nope0', message: `no interface "nope0" in this network namespace: list them with 'ip link'` } });
  t.like(noIndex, { ok: false, error: { name: 'UnknownInterfaceError', interfaceId: 999 } });
});

interface IpAddr { ifindex: number; addr_info: { family: string; local: string; address?: string; prefixlen: number; broadcast?: string; label?: string; secondary?: boolean; scope: string }[] }

test.serial('addresses() equals ip -j -4 addr, primary before secondary, a point-to-point one with its peer', async (t) => {
  lab.sh(host.ns, ['ip', 'addr', 'add', '10.41.0.1', 'peer', '10.41.0.4/30', 'dev', 'ez0']);
  t.teardown(() => lab.sh(host.ns, ['ip', 'addr', 'del', '10.41.0.1', 'peer', '10.41.0.4/30', 'dev', 'ez0']));
  const ours = await value<{ ifindex: number; address: string; prefixLen: number; peer?: string; broadcast?: string; label?: string; secondary: boolean }[]>(host.ns, { op: 'addresses' });
  const theirs = ipj<IpAddr[]>(host.ns, ['-4', 'addr', 'show']).flatMap((i) =>
    i.addr_info.map((a) => ({ ifindex: i.ifindex, address: a.local, prefixLen: a.prefixlen, ...(a.address && { peer: a.address }), ...(a.broadcast && { broadcast: a.broadcast }), ...(a.label && { label: a.label }), secondary: a.secondary === true })),
  );
  t.deepEqual(ours.map(({ ifindex, address, prefixLen, peer, broadcast, label, secondary }) => ({ ifindex, address, prefixLen, ...(peer && { peer }), ...(broadcast && { broadcast }), ...(label && { label }), secondary })), theirs);
  t.deepEqual(
    ours.filter((a) => a.ifindex === 2).map((a) => [a.address, a.secondary, a.broadcast ?? null, a.peer ?? null]),
    [
      ['198.51.100.1', false, null, null],
      ['192.0.2.1', false, '192.0.2.255', null],
      ['10.41.0.1', false, null, '10.41.0.4'],
      ['198.51.100.50', true, null, null],
    ],
  );
  t.deepEqual(await value(host.ns, { op: 'addresses', ifindex: 3 }), []); // ez2 has none
});

interface IpRoute { dst: string; gateway?: string; dev: string; prefsrc?: string; type?: string }

test.serial('route() equals ip -j route get, for on-link, routed, second-subnet and local destinations', async (t) => {
  const targets = ['198.51.100.7', '203.0.113.9', '192.0.2.7', '198.51.100.1'];
  const ours = await api(host.ns, targets.map((ip) => ({ op: 'route', ip })));
  targets.forEach((ip, i) => {
    const [r] = ipj<IpRoute[]>(host.ns, ['route', 'get', ip]);
    t.like(ours[i], { ok: true, value: { ifname: r!.dev, gateway: r!.gateway ?? null, onLink: r!.gateway === undefined, prefsrc: r!.prefsrc ?? null } }, ip);
  });
  t.like(ours[0], { value: { ifname: 'ez0', gateway: null, onLink: true, prefsrc: '198.51.100.1', type: 1, table: 254 } });
  t.like(ours[1], { value: { ifname: 'ez0', gateway: '198.51.100.2', onLink: false } });
  t.like(ours[2], { value: { prefsrc: '192.0.2.1' } });
  t.like(ours[3], { value: { ifname: 'lo', type: 2 } }); // RTN_LOCAL, answered through lo as ip shows
  // Through a given interface, a destination with no route of its own is taken as on-link (like `ip route get ... oif`).
  const [viaEz2] = await api(host.ns, [{ op: 'route', ip: '198.51.100.7', ifname: 'ez2' }]);
  const [ipViaEz2] = ipj<IpRoute[]>(host.ns, ['route', 'get', '198.51.100.7', 'oif', 'ez2']);
  t.like(viaEz2, { ok: true, value: { ifname: ipViaEz2!.dev, gateway: null, onLink: true } });
});

test.serial('defaultRoute() is the lowest-metric default, as ip -j route and /proc/net/route show it', async (t) => {
  const ours = await value<{ gateway: string; ifindex: number; ifname: string; metric: number }>(host.ns, { op: 'defaultRoute' });
  const defaults = ipj<{ gateway: string; dev: string; metric?: number }[]>(host.ns, ['route', 'show', 'default']).sort((a, b) => (a.metric ?? 0) - (b.metric ?? 0));
  t.deepEqual(ours, { gateway: defaults[0]!.gateway, ifindex: 2, ifname: defaults[0]!.dev, metric: defaults[0]!.metric ?? 0 });
  t.is(ours.gateway, peer.ip);
  // /proc/net/route: Iface Destination Gateway Flags RefCnt Use Metric ...; addresses in little-endian hex.
  const rows = lab.sh(host.ns, ['cat', '/proc/net/route']).trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
  const best = rows.filter((r) => r[1] === '00000000').sort((a, b) => Number(a[6]) - Number(b[6]))[0]!;
  const gw = Buffer.from(best[2]!, 'hex').reverse().join('.');
  t.deepEqual([best[0], gw, Number(best[6])], [ours.ifname, ours.gateway, ours.metric]);
  t.like((await api(host.ns, [{ op: 'defaultRoute', ifname: 'ez2' }]))[0], { ok: false, error: { name: 'NoDefaultRouteError', message: 'no default route through ez2: pass --target IP' } });
});

test.serial('discoverInterface() picks the interface, source address and next hop the kernel would', async (t) => {
  const [gateway, onLink, routed, second, byName] = await api(host.ns, [
    { op: 'discoverInterface' },
    { op: 'discoverInterface', target: '198.51.100.7' },
    { op: 'discoverInterface', target: '203.0.113.9' },
    { op: 'discoverInterface', target: '192.0.2.7' },
    { op: 'discoverInterface', ifname: 'ez0', target: '198.51.100.2' },
  ]);
  // Every address of ez0, in the kernel's order (`ip -4 addr show ez0`).
  const base = { ifname: 'ez0', ifindex: 2, mac: host.mac, addresses: ['198.51.100.1', '192.0.2.1', '198.51.100.50'] };
  t.deepEqual(gateway, { ok: true, value: { ...base, ip: '198.51.100.1', prefixLen: 24, gateway: '198.51.100.2', target: '198.51.100.2' } });
  t.deepEqual(onLink, { ok: true, value: { ...base, ip: '198.51.100.1', prefixLen: 24, gateway: null, target: '198.51.100.7' } });
  t.deepEqual(routed, { ok: true, value: { ...base, ip: '198.51.100.1', prefixLen: 24, gateway: '198.51.100.2', target: '198.51.100.2' } });
  t.deepEqual(second, { ok: true, value: { ...base, ip: '192.0.2.1', prefixLen: 24, gateway: null, target: '192.0.2.7' } });
  t.deepEqual(byName, { ok: true, value: { ...base, ip: '198.51.100.1', prefixLen: 24, gateway: null, target: '198.51.100.2' } });
  // The same answers the kernel gives `ip route get`.
  t.is(ipj<IpRoute[]>(host.ns, ['route', 'get', '192.0.2.7'])[0]!.prefsrc, '192.0.2.1');
});

test.serial('discoverInterface() errors say what is wrong and what to do', async (t) => {
  const [lo, bare, unknown, local, blackhole, bcast] = await api(host.ns, [
    { op: 'discoverInterface', ifname: 'lo' },
    { op: 'discoverInterface', ifname: 'ez2', target: '198.51.100.2' },
    { op: 'discoverInterface', ifname: 'nope0' },
    { op: 'discoverInterface', target: '198.51.100.1' },
    { op: 'discoverInterface', target: '203.0.113.200' },
    { op: 'discoverInterface', target: '198.51.100.255' },
  ]);
  t.like(lo, { ok: false, error: { name: 'NoLinkLayerError', reason: 'loopback', ifname: 'lo', type: 772 } });
  t.regex((lo as { error: { message: string } }).error.message, /^cannot ARP on lo: it has no link-layer address/);
  t.like(bare, { ok: false, error: { name: 'NoIpv4AddressError', ifname: 'ez2', message: "ez2 has no IPv4 address: add one with 'ip addr add ADDRESS/PREFIX dev ez2' or pick another interface" } });
  t.like(unknown, { ok: false, error: { name: 'UnknownInterfaceError' } });
  t.like(local, { ok: false, error: { name: 'UnresolvableTargetError', reason: 'local', target: '198.51.100.1' } });
  t.like(blackhole, { ok: false, error: { name: 'UnresolvableTargetError', reason: 'unreachable' } });
  t.like(bcast, { ok: false, error: { name: 'UnresolvableTargetError', reason: 'broadcast' } }); // the subnet's broadcast: RTN_BROADCAST

  // The peer has no default route at all.
  const [noDefault, noRoute] = await api(peer.ns, [{ op: 'discoverInterface' }, { op: 'discoverInterface', target: '203.0.113.9' }]);
  t.like(noDefault, { ok: false, error: { name: 'NoDefaultRouteError', message: 'no default route: pass --target IP and --interface IF' } });
  t.like(noRoute, { ok: false, error: { name: 'NoRouteError', target: '203.0.113.9', code: 'ERSATZ_NO_ROUTE', errno: 101 } });
  t.regex((noRoute as { error: { message: string } }).error.message, /^no route to 203\.0\.113\.9 \(ENETUNREACH\): add one \(ip route\) or pass --interface IF$/);
});

test.serial('discoverInterface() refuses NOARP, down and carrier-less interfaces', async (t) => {
  lab.sh(host.ns, ['ip', 'addr', 'add', '203.0.113.1/28', 'dev', 'ez2']);
  t.like((await api(host.ns, [{ op: 'discoverInterface', ifname: 'ez2', target: '203.0.113.2' }]))[0], { ok: true, value: { ifname: 'ez2', ip: '203.0.113.1', target: '203.0.113.2' } });
  lab.sh(host.ns, ['ip', 'link', 'set', 'ez2', 'arp', 'off']);
  const [noarp] = await api(host.ns, [{ op: 'discoverInterface', ifname: 'ez2', target: '203.0.113.2' }]);
  t.like(noarp, { ok: false, error: { name: 'NoLinkLayerError', reason: 'noarp', message: "cannot ARP on ez2: it is marked NOARP: turn ARP on with 'ip link set ez2 arp on' or pick another interface" } });
  lab.sh(host.ns, ['ip', 'link', 'set', 'ez2', 'arp', 'on', 'down']);
  const [down] = await api(host.ns, [{ op: 'discoverInterface', ifname: 'ez2', target: '203.0.113.2' }]);
  t.like(down, { ok: false, error: { name: 'InterfaceDownError', reason: 'admin', message: "ez2 is down: bring it up with 'ip link set ez2 up'" } });
  lab.sh(host.ns, ['ip', 'link', 'set', 'ez2', 'up']);
  lab.sh(peer.ns, ['ip', 'link', 'set', 'ez3', 'down']);
  const [carrier] = await api(host.ns, [{ op: 'discoverInterface', ifname: 'ez2', target: '203.0.113.2' }]);
  t.like(carrier, { ok: false, error: { name: 'InterfaceDownError', reason: 'carrier' } });
  t.false(ipj<IpLink[]>(host.ns, ['link', 'show', 'ez2'])[0]!.flags.includes('LOWER_UP'));
});

test.serial('a bridge port holds no address of its own: links() names its master as ip does, and discovery points at the bridge', async (t) => {
  lab.sh(host.ns, ['ip', 'link', 'add', 'ezb0', 'type', 'bridge']);
  lab.sh(host.ns, ['ip', 'link', 'add', 'ezp0', 'type', 'veth', 'peer', 'name', 'ezp1']);
  lab.sh(host.ns, ['ip', 'link', 'set', 'ezp0', 'master', 'ezb0']);
  for (const dev of ['ezb0', 'ezp0', 'ezp1']) lab.sh(host.ns, ['ip', 'link', 'set', dev, 'up']);
  lab.sh(host.ns, ['ip', 'addr', 'add', '203.0.113.33/28', 'dev', 'ezb0']);
  const ours = await value<Link[]>(host.ns, { op: 'links' });
  const theirs = ipj<(IpLink & { master?: string })[]>(host.ns, ['link', 'show']);
  const nameOf = (index: number | null) => ours.find((l) => l.index === index)?.name;
  t.deepEqual(ours.map((l) => [l.name, nameOf(l.master)]), theirs.map((l) => [l.ifname, l.master]));
  t.is(nameOf(ours.find((l) => l.name === 'ezp0')!.master), 'ezb0');
  const [port] = await api(host.ns, [{ op: 'discoverInterface', ifname: 'ezp0', target: '203.0.113.34' }]);
  t.like(port, { ok: false, error: { name: 'NoIpv4AddressError', master: 'ezb0', message: 'ezp0 has no IPv4 address: it is a port of ezb0, which holds the addresses: pick ezb0 with --interface' } });
  // The CLI says so wherever it looks for our address: a resolve, and a watch (which, given a port, stops there).
  const said = 'ersatz: ezp0 has no IPv4 address: it is a port of ezb0, which holds the addresses: pick ezb0 with --interface\n';
  for (const args of [['--target', '203.0.113.34', '-I', 'ezp0'], ['watch', '-I', 'ezp0']]) t.like(await ersatz(lab, host.ns, args), { code: 2, stdout: '', stderr: said }, args.join(' '));
  const [unenslaved] = await api(host.ns, [{ op: 'discoverInterface', ifname: 'ezp1', target: '203.0.113.34' }]);
  t.like(unenslaved, { ok: false, error: { name: 'NoIpv4AddressError', message: "ezp1 has no IPv4 address: add one with 'ip addr add ADDRESS/PREFIX dev ezp1' or pick another interface" } });
});
