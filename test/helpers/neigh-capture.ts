/**
 * Prints the raw datagrams the kernel answers to a few rtnetlink requests, as hex, one JSON line per request: the
 * provenance of the byte fixtures in test/helpers/neigh-fixtures.ts. It builds its own lab (two namespaces on one
 * veth, fixed MACs so the bytes are stable), runs itself inside the first namespace and deletes the lab:
 *   npx tsc -p test/tsconfig.json && node build/test/helpers/neigh-capture.js
 * The lab: ez0 02:00:5e:10:00:01 198.51.100.1/24, default via 198.51.100.2 (ez1 02:00:5e:10:00:02, no address).
 */
import { fileURLToPath } from 'node:url';
import { Ipv4, Mac } from '@ersatz/wire';
import { Lab } from '@ersatz/lab';
import { NetlinkSocket, RtnlGrp, addNeighbour, addresses, deleteNeighbour, link, neighbour, neighbourBatch, neighbours, route } from '@ersatz/netlink';

if (process.argv[2] !== '--inside') {
  const lab = new Lab('ncap');
  try {
    const host = lab.namespace('h');
    const peer = lab.namespace('p');
    lab.veth({ ns: host, ifname: 'ez0', mac: '02:00:5e:10:00:01' }, { ns: peer, ifname: 'ez1', mac: '02:00:5e:10:00:02' });
    lab.sh(host, ['ip', 'addr', 'add', '198.51.100.1/24', 'dev', 'ez0']);
    lab.sh(host, ['ip', 'route', 'add', 'default', 'via', '198.51.100.2']);
    const r = lab.run(host, ['node', fileURLToPath(import.meta.url), '--inside'], { timeoutMs: 20_000 });
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    process.exitCode = r.code ?? 1;
  } finally {
    lab.destroy();
  }
} else {
  // Log every datagram any socket of this process receives (a view of the socket's buffer: copy it now).
  const receive = NetlinkSocket.prototype.receive;
  let log: string[] = [];
  NetlinkSocket.prototype.receive = function (this: NetlinkSocket, operation: string) {
    const d = receive.call(this, operation);
    if (d) log.push(Buffer.from(d).toString('hex'));
    return d;
  };

  const capture = (what: string, fn: () => unknown): void => {
    log = [];
    let error: string | undefined;
    try {
      fn();
    } catch (err) {
      error = (err as Error).message;
    }
    process.stdout.write(`${JSON.stringify({ what, datagrams: log, ...(error && { error }) })}\n`);
  };

  const ez0 = { ifname: 'ez0' };
  const ip = Ipv4.parse;
  // Joined before the changes below, read after them: the kernel's RTNLGRP_NEIGH events for them.
  const events = NetlinkSocket.open({ groups: [RtnlGrp.NEIGH], nonBlocking: true });
  capture('link ez0', () => link('ez0'));
  capture('addresses', () => addresses());
  capture('route 198.51.100.7', () => route(ip('198.51.100.7')));
  capture('route 203.0.113.9', () => route(ip('203.0.113.9')));
  capture('add 198.51.100.9', () => addNeighbour({ ...ez0, ip: ip('198.51.100.9'), mac: Mac.parse('02:00:5e:10:00:09') }));
  capture('add 198.51.100.9 again', () => addNeighbour({ ...ez0, ip: ip('198.51.100.9'), mac: Mac.parse('02:00:5e:10:00:09') }));
  capture('neighbours', () => neighbours());
  capture('add proxy 198.51.100.77', () => addNeighbour({ ...ez0, ip: ip('198.51.100.77'), proxy: true }));
  capture('proxy neighbours', () => neighbours({ proxy: true }));
  capture('get neighbour on ifindex 999', () => neighbour({ ip: ip('198.51.100.9'), ifindex: 999 }));
  capture('batch add 198.51.100.10, 198.51.100.9 (exists), del 198.51.100.11 (missing)', () =>
    neighbourBatch([
      { op: 'add', ...ez0, ip: ip('198.51.100.10'), mac: Mac.parse('02:00:5e:10:00:0a') },
      { op: 'add', ...ez0, ip: ip('198.51.100.9'), mac: Mac.parse('02:00:5e:10:00:09') },
      { op: 'del', ...ez0, ip: ip('198.51.100.11') },
    ]),
  );
  capture('delete 198.51.100.10', () => deleteNeighbour({ ...ez0, ip: ip('198.51.100.10') }));
  capture('events', () => {
    while (events.receive('watch') !== null);
  });
  events.close();
}
