// Results and events print and serialise: JSON.stringify and console.log (util.inspect) of every kind the API emits
// show IPv4 addresses as dotted text and times as ms numbers, while the values keep their branded numbers and
// bigints. Fixtures for the generic conversion; then every kind from a real link and kernel peer in a namespace lab.
import test from 'ava';
import { inspect } from 'node:util';
import { twoHostLab } from '@ersatz/lab';
import { Ipv4, Mac } from '@ersatz/api';
import { printable, printableValue } from '@ersatz/wire';

const PROBE = 'build/test/helpers/printable-probe.js';
const ip = Ipv4.parse('192.0.2.7');
const mac = Mac.parse('02:00:5e:10:00:07');

test('printableValue: IPv4 keys as dotted text, …Ns times as …Ms numbers, bytes as hex, nested and in arrays', (t) => {
  const value = {
    type: 'error',
    seq: 3,
    from: ip,
    code: 1,
    info: 0,
    error: { tsNs: 1_700_000_000_123_456_789n, src: ip, dst: Ipv4.parse('192.0.2.1'), ttl: 64, error: { quotedSrc: ip, quotedDst: Ipv4.parse('198.51.100.9'), info: 0 } },
    hops: [{ gateway: ip }],
    rttNs: 1_250_000n,
    elapsedNs: 500,
    notBeforeNs: null,
    luid: 1234567890123456789n,
    payload: new Uint8Array([0xde, 0xad]),
    missing: null,
  };
  t.deepEqual(printableValue(value), {
    type: 'error',
    seq: 3,
    from: '192.0.2.7',
    code: 1,
    info: 0,
    error: { tsMs: 1_700_000_000_123.4568, src: '192.0.2.7', dst: '192.0.2.1', ttl: 64, error: { quotedSrc: '192.0.2.7', quotedDst: '198.51.100.9', info: 0 } },
    hops: [{ gateway: '192.0.2.7' }],
    rttMs: 1.25,
    elapsedMs: 0.0005,
    notBeforeMs: null,
    luid: '1234567890123456789',
    payload: 'de:ad',
    missing: null,
  });
});

test('printable: JSON.stringify and inspect show the text forms; the fields and deep equality stay as they were', (t) => {
  const fields = { ip, mac, rttNs: 2_000_000n, tries: 1, reply: { tsNs: 5n, arp: { senderIp: ip, targetIp: Ipv4.parse('192.0.2.1') } } };
  const value = printable({ ...fields });
  t.deepEqual(value, fields);
  t.is(value.ip, ip);
  t.is(value.rttNs, 2_000_000n);
  t.deepEqual(Object.keys(value), Object.keys(fields));
  t.deepEqual(JSON.parse(JSON.stringify(value)), { ip: '192.0.2.7', mac: '02:00:5e:10:00:07', rttMs: 2, tries: 1, reply: { tsMs: 0.000005, arp: { senderIp: '192.0.2.7', targetIp: '192.0.2.1' } } });
  t.is(inspect(value), inspect(JSON.parse(JSON.stringify(value))));
  t.throws(() => JSON.stringify(fields), { instanceOf: TypeError }, 'the plain object would not serialise');
});

test('every result and event kind from a real link serialises and prints with dotted addresses and ms times', async (t) => {
  const { lab, host, peer } = twoHostLab('prt');
  t.teardown(() => lab.destroy());
  lab.sh(host.ns, ['ip', 'neigh', 'replace', peer.ip, 'lladdr', peer.mac, 'dev', host.ifname, 'nud', 'permanent']);
  const r = await lab.exec(host.ns, ['node', PROBE, peer.ip], { timeoutMs: 90_000 });
  t.is(r.code, 0, r.stderr);
  const kinds = JSON.parse(r.stdout) as { what: string; json: string; inspected: string }[];
  t.deepEqual(
    kinds.map((k) => k.what),
    ['ResolveResult', 'ResolveResult (cached)', 'scan host', 'scan done', 'arping sent', 'arping reply', 'arping done', 'ping resolved', 'ping sent', 'ping reply', 'ping done', 'claim probing', 'claim conflict', 'NeighbourEntry'],
  );
  const byKind = new Map(kinds.map((k) => [k.what, JSON.parse(k.json) as Record<string, unknown>]));
  for (const k of kinds) {
    t.notRegex(k.inspected, /\d+n\b/, `${k.what}: no bigint shown`);
    t.notRegex(k.json, /Ns"/, `${k.what}: no ns key left`);
  }
  t.like(byKind.get('ResolveResult'), { ip: peer.ip, mac: peer.mac, fromCache: false, reply: { ethSrc: peer.mac, arp: { senderIp: peer.ip, targetIp: host.ip, operation: 2 } } });
  t.true(typeof byKind.get('ResolveResult')!['rttMs'] === 'number');
  t.like(byKind.get('ResolveResult (cached)'), { ip: peer.ip, mac: peer.mac, rttMs: null, fromCache: true, reply: null });
  t.like(byKind.get('scan host'), { ip: peer.ip, mac: peer.mac, reply: { arp: { senderIp: peer.ip } } });
  t.true(typeof byKind.get('scan host')!['rttMs'] === 'number');
  t.like(byKind.get('arping sent'), { arp: { senderIp: host.ip, targetIp: peer.ip } });
  t.like(byKind.get('arping reply'), { ip: peer.ip, mac: peer.mac });
  t.like(byKind.get('ping resolved'), { nextHop: peer.ip, mac: peer.mac });
  t.like(byKind.get('ping reply'), { ip: peer.ip, reply: { src: peer.ip, dst: host.ip } });
  t.like(byKind.get('claim conflict'), { mac: peer.mac, observation: { arp: { senderIp: peer.ip } } });
  t.like(byKind.get('NeighbourEntry'), { ip: peer.ip, mac: peer.mac, ifname: host.ifname, state: 'permanent' });
  for (const what of ['ResolveResult', 'scan host', 'arping reply', 'ping reply', 'NeighbourEntry']) {
    t.true(kinds.find((k) => k.what === what)!.inspected.includes(`'${peer.ip}'`), `${what} shows the dotted address`);
  }
});
