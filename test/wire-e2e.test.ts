// End to end against a real Linux kernel in network namespaces this file creates: captured traffic decodes, and
// frames the emit builders write get answers. Needs root, iproute2, tcpdump, arping, ping and the cap addon; it
// fails (never skips) without them.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { twoHostLab, type Host, type Lab } from '@ersatz/lab';
import { ArpOp, Ipv4, Mac, decodeFrame, emitArpFrame, emitIcmpEchoFrame, parseArpFrame, EthernetFrame, Ipv4Packet, Icmpv4Packet, IcmpEchoRepr, Ipv4Repr } from '@ersatz/wire';
import { readPcapFile, toHex } from './fixtures/wire/helpers.js';
import { stillNeighbours } from './helpers/still-neighbours.js';

let lab: Lab;
let host: Host;
let peer: Host;
let dir: string;

test.before(() => {
  ({ lab, host, peer } = twoHostLab('wire'));
  // The captures below take the first replies they see: no probe of the peer's (~5 s after a ping) may have the host's
  // kernel send one of its own among them.
  stillNeighbours(lab, host, peer);
  dir = mkdtempSync(join(tmpdir(), 'ersatz-wire-'));
});
test.after.always(() => {
  lab?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test.serial('arping and ping traffic captured next to a Linux peer decodes cleanly', async (t) => {
  const pcap = join(dir, 'live.pcap');
  // --immediate-mode: otherwise the last second of traffic can still sit in a ring block when tcpdump is stopped.
  const tcpdump = lab.start(peer.ns, ['tcpdump', '-i', peer.ifname, '-n', '-Z', 'root', '--immediate-mode', '-U', '-w', pcap]);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('tcpdump did not start within 10 s')), 10_000);
    tcpdump.stderr?.setEncoding('utf8').on('data', (s: string) => s.includes('listening on') && (clearTimeout(timer), resolve()));
    tcpdump.once('exit', (code) => reject(new Error(`tcpdump exited (${code})`)));
  });
  t.is(lab.run(host.ns, ['arping', '-c', '1', '-w', '3', '-I', host.ifname, peer.ip]).code, 0, 'arping got a reply');
  t.is(lab.run(host.ns, ['ping', '-c', '1', '-W', '3', '-s', '37', peer.ip]).code, 0, 'ping got a reply');
  // The replies reached arping and ping, but tcpdump may not have read them from its own socket yet: frames still in
  // its kernel ring at SIGINT are lost (seen under load). Stop it once the file holds both replies, or after 5 s.
  await until(5000, () => {
    const seen = pcapFrames(pcap).map((f) => decodeFrame(f));
    return seen.some((d) => d.arp?.op === ArpOp.Reply) && seen.some((d) => d.icmp?.type === 0);
  });
  const exited = new Promise((r) => tcpdump.once('exit', r));
  tcpdump.kill('SIGINT');
  await exited;

  const frames = readPcapFile(pcap);
  const decoded = frames.map((f) => decodeFrame(f));
  t.deepEqual(decoded.filter((d) => d.malformed), [], 'no frame is malformed');
  const replies = frames.filter((f) => decodeFrame(f).arp?.op === ArpOp.Reply).map(parseArpFrame);
  t.true(replies.length >= 1);
  // The peer's MAC is random (the kernel picked it): only reading it off the wire gets it right.
  t.like(replies[0], { ethSrc: peer.mac, arp: { senderMac: peer.mac, senderIp: Ipv4.parse(peer.ip), targetMac: host.mac, targetIp: Ipv4.parse(host.ip) } });
  const echo = decoded.find((d) => d.icmp?.type === 0);
  t.like(echo, { eth: { src: peer.mac, dst: host.mac }, ipv4: { src: peer.ip, dst: host.ip, proto: 1 }, icmp: { code: 0 } });
});

/** The frames tcpdump has written so far (none while the file header is not there yet). */
function pcapFrames(path: string): Uint8Array[] {
  try {
    return readPcapFile(path);
  } catch {
    return [];
  }
}

/** Resolves once `done()` holds, or after `ms` (the assertions that follow then say what was missing). */
async function until(ms: number, done: () => boolean): Promise<void> {
  for (const end = Date.now() + ms; !done() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
}

// Runs in the host namespace: sends the given frames with cap, prints each captured ARP reply or ICMP echo reply
// as a hex line, and exits after `want` of them or 5 s.
const CAP_PROBE = `
import { createRequire } from 'node:module';
const { Cap } = createRequire(process.cwd() + '/')('cap');
const [ifname, want, ...frames] = process.argv.slice(1);
const c = new Cap();
const buf = Buffer.alloc(65536);
c.open(ifname, 'arp[6:2] = 2 or icmp[icmptype] = icmp-echoreply', 1 << 20, buf);
let seen = 0;
const done = () => { c.close(); process.exit(0); };
c.on('packet', (n) => { process.stdout.write(buf.toString('hex', 0, n) + '\\n'); if (++seen >= Number(want)) done(); });
setTimeout(done, 5000);
for (const hex of frames) { const f = Buffer.from(hex, 'hex'); c.send(f, f.length); }
`;

test.serial('frames from emitArpFrame and emitIcmpEchoFrame get answers from the Linux peer', async (t) => {
  const hostMac = Mac.parse(host.mac);
  const peerMac = Mac.parse(peer.mac);
  const arpBuf = new Uint8Array(60);
  const arpLen = emitArpFrame(arpBuf, {
    dst: Mac.BROADCAST, src: hostMac,
    arp: { operation: ArpOp.Request, senderMac: hostMac, senderIp: Ipv4.parse(host.ip), targetMac: Mac.ZERO, targetIp: Ipv4.parse(peer.ip) },
  });
  const payload = Uint8Array.from({ length: 45 }, (_, i) => (i * 7) & 0xff); // odd length: exercises checksum padding
  const icmpBuf = new Uint8Array(128);
  const icmpLen = emitIcmpEchoFrame(icmpBuf, { dst: peerMac, src: hostMac, ipSrc: Ipv4.parse(host.ip), ipDst: Ipv4.parse(peer.ip), type: 'request', id: 0xe5a7, seq: 7, payload });

  const r = await lab.exec(host.ns, ['node', '--input-type=module', '-e', CAP_PROBE, host.ifname, '2', toHex(arpBuf.subarray(0, arpLen)), toHex(icmpBuf.subarray(0, icmpLen))], { timeoutMs: 20_000 });
  t.is(r.code, 0, r.stderr);
  const replies = r.stdout.trim().split('\n').filter(Boolean).map((h) => Uint8Array.from(Buffer.from(h, 'hex')));
  t.is(replies.length, 2, r.stdout);

  const arp = replies.map((f) => decodeFrame(f)).findIndex((d) => d.arp !== undefined);
  t.not(arp, -1, 'an ARP reply came back');
  t.deepEqual(parseArpFrame(replies[arp]!), {
    ethSrc: peerMac, ethDst: hostMac, vlan: null,
    arp: { operation: ArpOp.Reply, senderMac: peerMac, senderIp: Ipv4.parse(peer.ip), targetMac: hostMac, targetIp: Ipv4.parse(host.ip) },
  });

  // The kernel answers an echo only when both checksums verify, and echoes id, seq and data.
  const reply = replies[1 - arp]!;
  const ip = Ipv4Packet.checked(EthernetFrame.checked(reply).payload);
  t.like(Ipv4Repr.parse(ip), { src: Ipv4.parse(peer.ip), dst: Ipv4.parse(host.ip), protocol: 1 });
  t.deepEqual(IcmpEchoRepr.parse(Icmpv4Packet.checked(ip.payload)), { type: 'reply', id: 0xe5a7, seq: 7, payload });
});
