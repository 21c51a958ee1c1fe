import test from 'ava';
import { fileURLToPath } from 'node:url';
import { twoHostLab, type Host, type Lab } from '@ersatz/lab';
import type { IoctlCall, IoctlResult } from './helpers/ioctl-arp.js';
import { procArp as procArpOf } from './helpers/proc-arp.js';

// The process calling ioctl must live inside the lab namespace, so every call goes through this helper.
const HELPER = fileURLToPath(new URL('./helpers/ioctl-arp.js', import.meta.url));
// setpriv drops CAP_NET_ADMIN from the bounding set, so the root-owned node it execs runs without it.
const NO_NET_ADMIN = ['setpriv', '--inh-caps=-all', '--bounding-set=-net_admin', '--'];

let lab: Lab;
let host: Host;
test.before(() => {
  ({ lab, host } = twoHostLab('ioc'));
});
test.after.always(() => lab?.destroy());

async function calls(list: IoctlCall[], prefix: string[] = []): Promise<IoctlResult[]> {
  const r = await lab.exec(host.ns, [...prefix, 'node', HELPER, JSON.stringify(list)]);
  if (r.code !== 0) throw new Error(`ioctl helper exited ${r.code ?? r.signal}: ${r.stderr}`);
  return r.stdout.trim().split('\n').map((line) => JSON.parse(line) as IoctlResult);
}

interface Neigh { dst: string; dev?: string; lladdr?: string; state: string[] }
function neighbours(): Neigh[] {
  return JSON.parse(lab.sh(host.ns, ['ip', '-j', 'neigh', 'show', 'dev', host.ifname])) as Neigh[];
}
const procArp = (ip: string): string[][] => procArpOf(lab, host.ns, ip);

test('a permanent entry is set, seen by the kernel, read back and deleted', async (t) => {
  const ip = '198.51.100.20';
  const mac = '02:a5:80:ff:7f:c3'; // octets ≥ 0x80 must survive sa_data
  const [set] = await calls([{ op: 'set', ip, mac, ifname: host.ifname }]);
  t.deepEqual(set, { ok: true, value: null });

  const seen = neighbours().filter((n) => n.dst === ip);
  t.deepEqual(seen, [{ dst: ip, lladdr: mac, state: ['PERMANENT'] }]);
  t.deepEqual(procArp(ip), [[ip, '0x1', '0x6', mac, '*', host.ifname]]);

  const [got, del, after] = await calls([{ op: 'get', ip, ifname: host.ifname }, { op: 'delete', ip, ifname: host.ifname }, { op: 'get', ip, ifname: host.ifname }]);
  t.deepEqual(got, { ok: true, value: { ip, mac, flags: 0x6, complete: true, permanent: true } });
  t.deepEqual(del, { ok: true, value: null });
  t.deepEqual(after, { ok: true, value: null });
  t.deepEqual(neighbours().filter((n) => n.dst === ip), []);
  t.deepEqual(procArp(ip), []);
});

test('a non-permanent entry is STALE, and setting again replaces it', async (t) => {
  const ip = '198.51.100.21';
  const [set, got] = await calls([{ op: 'set', ip, mac: '02:00:5e:c0:ff:ee', ifname: host.ifname, permanent: false }, { op: 'get', ip, ifname: host.ifname }]);
  t.deepEqual(set, { ok: true, value: null });
  // arp_req_set (net/ipv4/arp.c) files a non-permanent entry as NUD_STALE: valid, re-verified before use.
  const [entry] = neighbours().filter((n) => n.dst === ip);
  t.is(entry?.lladdr, '02:00:5e:c0:ff:ee');
  t.deepEqual(entry?.state, ['STALE']);
  t.deepEqual(procArp(ip), [[ip, '0x1', '0x2', '02:00:5e:c0:ff:ee', '*', host.ifname]]);
  t.deepEqual(got, { ok: true, value: { ip, mac: '02:00:5e:c0:ff:ee', flags: 0x2, complete: true, permanent: false } });

  const [again, got2] = await calls([{ op: 'set', ip, mac: '02:00:5e:00:00:99', ifname: host.ifname, permanent: true }, { op: 'get', ip, ifname: host.ifname }]);
  t.true(again?.ok);
  t.deepEqual(neighbours().filter((n) => n.dst === ip), [{ dst: ip, lladdr: '02:00:5e:00:00:99', state: ['PERMANENT'] }]);
  t.deepEqual(got2, { ok: true, value: { ip, mac: '02:00:5e:00:00:99', flags: 0x6, complete: true, permanent: true } });
});

test('unknown interfaces, missing entries and non-Ethernet links give typed errors', async (t) => {
  const ip = '198.51.100.22';
  const [setNoDev, getNoDev, getMissing, delMissing, setLo] = await calls([
    { op: 'set', ip, mac: '02:00:5e:00:00:22', ifname: 'ez9' },
    { op: 'get', ip, ifname: 'ez9' },
    { op: 'get', ip, ifname: host.ifname },
    { op: 'delete', ip, ifname: host.ifname },
    { op: 'set', ip, mac: '02:00:5e:00:00:22', ifname: 'lo' },
  ]);
  t.like(setNoDev, { ok: false, error: { name: 'ArpNoDeviceError', code: 'ENODEV', errno: 19, ifname: 'ez9' } });
  t.regex((setNoDev as { error: { message: string } }).error.message, /^arp set 198\.51\.100\.22 dev ez9: .*\(ENODEV\): no interface named "ez9" in this network namespace: list them with 'ip link'$/);
  t.like(getNoDev, { ok: false, error: { name: 'ArpNoDeviceError', code: 'ENODEV' } });
  t.deepEqual(getMissing, { ok: true, value: null });
  t.like(delMissing, { ok: false, error: { name: 'ArpNoEntryError', code: 'ENXIO', errno: 6, operation: 'delete' } });
  t.regex((delMissing as { error: { message: string } }).error.message, /no ARP entry for that address on ez0: list the cache with 'ip neigh show dev ez0'$/);
  // The kernel's own refusal: lo is ARPHRD_LOOPBACK, the entry says ARPHRD_ETHER.
  t.like(setLo, { ok: false, error: { name: 'ArpInvalidError', code: 'EINVAL', errno: 22 } });
  t.regex((setLo as { error: { message: string } }).error.message, /lo is not an Ethernet \(ARPHRD_ETHER\) interface/);
  t.deepEqual(neighbours().filter((n) => n.dst === ip), []);
});

test('without CAP_NET_ADMIN set and delete say how to grant it, get still works', async (t) => {
  const ip = '198.51.100.23';
  const mac = '02:00:5e:00:00:23';
  await calls([{ op: 'set', ip, mac, ifname: host.ifname }]);
  const [set, del, get] = await calls(
    [{ op: 'set', ip, mac: '02:00:5e:00:00:99', ifname: host.ifname }, { op: 'delete', ip, ifname: host.ifname }, { op: 'get', ip, ifname: host.ifname }],
    NO_NET_ADMIN,
  );
  t.like(set, { ok: false, error: { name: 'ArpPermissionError', code: 'EPERM', errno: 1, operation: 'set' } });
  t.regex((set as { error: { message: string } }).error.message, /^arp set 198\.51\.100\.23 dev ez0: operation not permitted \(EPERM\): changing the ARP cache needs CAP_NET_ADMIN: run as root or grant it \(sudo setcap cap_net_admin\+ep \/.+\)$/);
  t.like(del, { ok: false, error: { name: 'ArpPermissionError', code: 'EPERM', operation: 'delete' } });
  t.deepEqual(get, { ok: true, value: { ip, mac, flags: 0x6, complete: true, permanent: true } });
  // Nothing changed.
  t.deepEqual(neighbours().filter((n) => n.dst === ip), [{ dst: ip, lladdr: mac, state: ['PERMANENT'] }]);
});
