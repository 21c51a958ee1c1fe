// The pipeline end to end against a real Linux kernel peer: each test builds its own two-namespace lab
// (198.51.100.0/24 on a veth pair), runs test/helpers/pipeline-probe.js INSIDE the host namespace (the process that
// opens capture and transmit must live there) and checks what it printed. Nothing is sent outside the lab.
// These tests need root (namespaces, raw sockets): without it they fail, they do not skip.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import test, { type ExecutionContext } from 'ava';
import { twoHostLab, type Host, type Lab } from '@ersatz/lab';
import { ArpOp, Ipv4, Mac } from '@ersatz/wire';
import { closedCleanly, cpuLatencyUs, endpoints, PROBE, probeReady, runProbe, TRANSMIT_CLOSE_PROBE } from './helpers/pipeline-lab.js';
import { readableCheckout } from './helpers/readable-checkout.js';

interface Json {
  [k: string]: unknown;
}
interface ArpEventJson {
  kind: 'arp';
  tsNs: string;
  ethSrc: string;
  ethDst: string;
  vlan: number | null;
  arp: { operation: number; senderMac: string; senderIp: number; targetMac: string; targetIp: number };
  rttUs?: number;
  queuedNs?: string;
  departedNs?: string | null;
}
interface Stats {
  capture: { frames: number; pcap: { received: number; dropped: number }; opens: number };
  decode: { arp: number; icmp: number; malformed: Record<string, number> };
  transmit: { sent: number; failed: number; paced: number; lastError?: string };
  restarts: { capture: number; decode: number; transmit: number };
  main: { events: number; looks: number; looked: number };
}

function lab(t: ExecutionContext): { lab: Lab; host: Host; peer: Host } {
  const l = twoHostLab('pipe');
  t.teardown(() => l.lab.destroy());
  return l;
}

/** The kernel's reply to our request, as the coordinator will match it. */
function isPeerReply(t: ExecutionContext, ev: ArpEventJson, host: Host, peer: Host): void {
  t.like(ev, {
    kind: 'arp',
    ethSrc: peer.mac,
    ethDst: host.mac,
    vlan: null,
    arp: { operation: ArpOp.Reply, senderMac: peer.mac, senderIp: Ipv4.parse(peer.ip), targetMac: host.mac, targetIp: Ipv4.parse(host.ip) },
  });
}

/** What the probe's `held` scenario reports: each thread's CPUs, and with idlePoll the CPU latency the kernel keeps to (µs). */
interface Held {
  readonly main: string;
  readonly threads: string[];
  readonly cpuLatencyUs?: number;
}

interface OpenResult {
  ok: boolean;
  link?: { ring: boolean; bufferBytes: number };
  cpuLatencyUs?: number;
  error?: { name: string; className: string; code: string; message: string; ifname: string };
}

/**
 * The capture's two ways (see CaptureOptions.ring): libpcap's mapped ring (the default), and a socket of its own read
 * with recvmmsg (captureRing false). Each test of what the capture hands over, and of how it fails, runs with both.
 */
const CAPTURES = [
  { how: '', capture: {} },
  { how: ' (no ring)', capture: { captureRing: false } },
] as const;

for (const { how, capture } of CAPTURES) {
  test.serial(`requests put in the tx ring reach the peer kernel, whose replies come out of events$; close leaves nothing${how}`, async (t) => {
    const { lab: l, host, peer } = lab(t);
    const run = await runProbe<{ replies: ArpEventJson[]; stats: Stats; link: Json }>(l, host.ns, 'resolve', { ...endpoints(host, peer), count: 3, options: capture });
    const { replies, stats, link } = run.result;
    t.is(replies.length, 3);
    for (const r of replies) isPeerReply(t, r, host, peer);
    t.like(link, { ifname: host.ifname, linkType: 'EN10MB', filter: 'arp', ring: !('captureRing' in capture) });
    t.is(stats.transmit.sent, 3);
    t.is(stats.transmit.failed, 0);
    // The capture sees our own requests leave as well as the replies, and the kernel counted as many.
    t.is(stats.decode.arp, 6);
    t.is(stats.capture.pcap.received, 6);
    t.is(stats.capture.pcap.dropped, 0);
    // Each request was a lone frame due now: the main thread looked for its answer before parking (on more than one
    // CPU), once per request, or less where an answer came before the look could run and the next request's look
    // served both. How many it caught depends on the machine's timing (the bench reports it), not asserted here.
    if (availableParallelism() > 1) t.true(stats.main.looks >= 1 && stats.main.looks <= 3, `looks: ${stats.main.looks}`);
    else t.is(stats.main.looks, 0);
    closedCleanly(t, run);
  });

  test.serial(`with outgoing: false the kernel hands over only the replies; departedNs times each request between send() and its reply${how}`, async (t) => {
    const { lab: l, host, peer } = lab(t);
    const run = await runProbe<{ replies: ArpEventJson[]; stats: Stats; link: Json }>(l, host.ns, 'resolve', { ...endpoints(host, peer), count: 3, options: { ...capture, outgoing: false } });
    const { replies, stats, link } = run.result;
    t.is(replies.length, 3);
    t.like(link, { outgoing: false });
    for (const r of replies) {
      isPeerReply(t, r, host, peer);
      t.truthy(r.departedNs, 'the transmit worker recorded the departure');
      const [queued, left, captured] = [BigInt(r.queuedNs!), BigInt(r.departedNs!), BigInt(r.tsNs)];
      t.true(queued <= left && left <= captured, `queued ${queued} <= left ${left} <= reply captured ${captured}`);
    }
    t.is(stats.transmit.sent, 3);
    // Not even queued for us by the kernel (PACKET_IGNORE_OUTGOING): its count holds the replies only.
    t.is(stats.capture.pcap.received, 3);
    t.is(stats.decode.arp, 3);
    closedCleanly(t, run);
  });

  test.serial(`a snaplen shorter than the frames: each ICMP frame is delivered cut to it and counted as truncated${how}`, async (t) => {
    const { lab: l, host, peer } = lab(t);
    // Ten 98-byte frames (five requests out, five replies back), with the 64-byte snaplen. Through libpcap's callback,
    // caplen and len are read from its packet header, decoded for the first frames and then through a view of it;
    // without a ring, from recvmmsg's count and the kernel's PACKET_AUXDATA.
    const run = await runProbe<{ lengths: number[]; stats: Stats & { capture: { truncated: number } } }>(l, host.ns, 'snaplen', {
      ...endpoints(host, peer),
      count: 5,
      options: { ...capture, filter: 'arp or icmp', snaplen: 64, keepFrames: true },
    });
    t.deepEqual(run.result.lengths, Array(10).fill(64));
    t.is(run.result.stats.capture.truncated, 10);
    closedCleanly(t, run);
  });

  test.serial(`with keepFrames, frames$ delivers the raw frames: our request byte for byte, then the reply${how}`, async (t) => {
    const { lab: l, host, peer } = lab(t);
    const run = await runProbe<{ sent: number[]; frames: { tsNs: string; bytes: number[] }[]; reply: ArpEventJson }>(l, host.ns, 'frames', { ...endpoints(host, peer), options: { ...capture, keepFrames: true } });
    const { sent, frames, reply } = run.result;
    t.is(frames.length, 2);
    t.deepEqual(frames[0]!.bytes, sent);
    t.is(frames[1]!.tsNs, reply.tsNs, 'the reply frame carries the same capture time as its event');
    t.deepEqual(frames[1]!.bytes.slice(0, 6), Array.from(Mac.toBytes(Mac.parse(host.mac))));
    closedCleanly(t, run);
  });

  test.serial(`malformed frames are counted by reason and the pipeline goes on${how}`, async (t) => {
    const { lab: l, host, peer } = lab(t);
    const run = await runProbe<{ reply: ArpEventJson; stats: Stats }>(l, host.ns, 'bogus', { ...endpoints(host, peer), options: capture });
    isPeerReply(t, run.result.reply, host, peer);
    t.deepEqual(run.result.stats.decode.malformed, { 'arp hlen mismatch': 1, 'arp truncated': 1, 'arp unsupported ptype': 1 });
    closedCleanly(t, run);
  });

  test.serial(`a frame that came VLAN-tagged (802.1Q, 802.1ad) is handed over with its tag, as it crossed the wire${how}`, async (t) => {
    const { lab: l, host, peer } = lab(t);
    // The peer sends an ARP request tagged with each kind of tag. The host's kernel takes a tag off on receipt (into
    // the packet's metadata) whether or not a VLAN interface claims it; the capture must put it back, as tcpdump shows
    // it. (This kernel has no 8021q module: the frames go out through a packet socket, tag and all.)
    const tags = [
      { id: 100, tpid: [0x81, 0x00], spa: [192, 0, 2, 2] },
      { id: 200, tpid: [0x88, 0xa8], spa: [203, 0, 113, 2] },
    ];
    const peerMac = Array.from(Mac.toBytes(Mac.parse(peer.mac)));
    const frame = (v: (typeof tags)[number]): number[] => [
      ...Array(6).fill(0xff), ...peerMac, ...v.tpid, v.id >> 8, v.id & 0xff, 0x08, 0x06,
      0, 1, 0x08, 0, 6, 4, 0, ArpOp.Request, ...peerMac, ...v.spa, ...Array(6).fill(0), ...v.spa.slice(0, 3), 1,
    ];
    const child = l.start(host.ns, ['node', PROBE, 'listen', JSON.stringify({ ifname: host.ifname, count: tags.length, options: { ...capture, keepFrames: true } })]);
    const { stdout, exited } = await probeReady(child);
    const send = 'import socket, sys\ns = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)\ns.bind((sys.argv[1], 0))\nfor h in sys.argv[2:]: s.send(bytes.fromhex(h))';
    const sent = l.run(peer.ns, ['python3', '-c', send, peer.ifname, ...tags.map((v) => Buffer.from(frame(v)).toString('hex'))]);
    t.is(sent.code, 0, sent.stderr);
    t.is(await exited, 0);
    const { events, frames } = JSON.parse(stdout().split('\n').find((line) => line.startsWith('{"events"'))!) as { events: ArpEventJson[]; frames: number[][] };
    t.deepEqual(
      events.map((e) => [e.vlan, e.ethSrc, e.arp.operation]),
      tags.map((v) => [v.id, peer.mac, ArpOp.Request]),
    );
    t.deepEqual(frames, tags.map(frame), 'each frame byte for byte as sent, its tag where it was');
  });

  test.serial(`an unknown interface rejects with CaptureError ENODEV, rebuilt across the thread boundary${how}`, async (t) => {
    const { lab: l, host } = lab(t);
    const run = await runProbe<OpenResult>(l, host.ns, 'open', { ifname: 'nosuch0', options: capture });
    t.false(run.result.ok);
    t.like(run.result.error, { name: 'CaptureError', className: 'CaptureError', code: 'ENODEV', ifname: 'nosuch0' });
    t.regex(run.result.error!.message, /no interface named "nosuch0".*ip link/);
    closedCleanly(t, run);
  });

  test.serial(`an interface that is down rejects with CaptureError ENETDOWN${how}`, async (t) => {
    const { lab: l, host } = lab(t);
    l.sh(host.ns, ['ip', 'link', 'set', host.ifname, 'down']);
    const run = await runProbe<OpenResult>(l, host.ns, 'open', { ifname: host.ifname, options: capture });
    t.like(run.result, { ok: false, error: { className: 'CaptureError', code: 'ENETDOWN', ifname: host.ifname } });
    closedCleanly(t, run);
  });

  test.serial(`a capture filter that does not compile rejects with CaptureError EINVAL naming it${how}`, async (t) => {
    const { lab: l, host } = lab(t);
    const run = await runProbe<OpenResult>(l, host.ns, 'open', { ifname: host.ifname, options: { ...capture, filter: 'arp and and' } });
    t.like(run.result.error, { className: 'CaptureError', code: 'EINVAL' });
    t.regex(run.result.error!.message, /bad capture filter "arp and and"/);
    closedCleanly(t, run);
  });

  test.serial(`without CAP_NET_RAW, open rejects with EPERM and says how to grant it${how}`, async (t) => {
    const { lab: l, host } = lab(t);
    const nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all'];
    const run = await runProbe<OpenResult>(l, host.ns, 'open', { ifname: host.ifname, options: capture }, nobody, readableCheckout(t).path(PROBE));
    t.like(run.result.error, { className: 'CaptureError', code: 'EPERM' });
    t.regex(run.result.error!.message, /CAP_NET_RAW.*setcap cap_net_raw,cap_net_admin\+ep/);
    closedCleanly(t, run);
  });

  test.serial(`a worker that dies is restarted and the pipeline still delivers (decode, transmit, capture in turn)${how}`, async (t) => {
    const { lab: l, host, peer } = lab(t);
    const run = await runProbe<{ rounds: { crashed: string | null; reply: ArpEventJson }[]; stats: Stats; warnings: string[]; packetSockets: number }>(l, host.ns, 'restart', {
      ...endpoints(host, peer),
      crash: ['decode', 'transmit', 'capture'],
      options: capture,
    });
    const { rounds, stats, warnings, packetSockets } = run.result;
    t.deepEqual(
      rounds.map((r) => r.crashed),
      [null, 'decode', 'transmit', 'capture'],
    );
    for (const r of rounds) isPeerReply(t, r.reply, host, peer);
    t.deepEqual(stats.restarts, { capture: 1, decode: 1, transmit: 1 });
    for (const stage of ['capture', 'decode', 'transmit']) t.true(warnings.some((w) => w.startsWith(`${stage} worker died`)), stage);
    // The new capture and transmit threads' sockets: the dead threads' were closed by their successors.
    t.is(packetSockets, 2);
    closedCleanly(t, run);
  });

  test.serial(`the interface going down stops capture and transmit with ENETDOWN; back up, the pipeline reopens${how}`, async (t) => {
    const { lab: l, host, peer } = lab(t);
    const run = await runProbe<{ before: ArpEventJson; after: ArpEventJson; stoppedWarning: string; failingWarning: string; stats: Stats }>(l, host.ns, 'linkdown', { ...endpoints(host, peer), options: capture });
    const { before, after, stoppedWarning, failingWarning, stats } = run.result;
    isPeerReply(t, before, host, peer);
    isPeerReply(t, after, host, peer);
    t.regex(stoppedWarning, /ez0 is down \(The interface went down\)/);
    t.regex(failingWarning, /ENETDOWN/);
    t.like(stats.transmit, { failed: 1, lastError: 'ENETDOWN' });
    t.is(stats.capture.opens, 2);
    t.deepEqual(stats.restarts, { capture: 0, decode: 0, transmit: 0 }, 'reopened in place, no thread restarted');
    closedCleanly(t, run);
  });
}

test.serial('without CAP_NET_ADMIN, a capture asked to go without a ring keeps it where the socket could not get its buffer', async (t) => {
  const { lab: l, host } = lab(t);
  // Root without CAP_NET_ADMIN: a socket's receive buffer then stops at net.core.rmem_max, a ring's does not.
  const noAdmin = ['setpriv', '--inh-caps=-all', '--bounding-set=-net_admin', '--'];
  const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
  const open = (bufferBytes: number) => runProbe<OpenResult>(l, host.ns, 'open', { ifname: host.ifname, options: { captureRing: false, captureBufferBytes: bufferBytes } }, noAdmin);
  const within = await open(64 << 10);
  t.like(within.result, { ok: true, link: { ring: false } });
  t.true(within.result.link!.bufferBytes >= 2 * (64 << 10), 'the kernel keeps twice what is asked');
  const beyond = await open(rmemMax + (64 << 10));
  t.like(beyond.result, { ok: true, link: { ring: true, bufferBytes: rmemMax + (64 << 10) } });
  closedCleanly(t, beyond);
});

test.serial('ARP frames the peer sends (arping) come out of events$', async (t) => {
  const { lab: l, host, peer } = lab(t);
  const child = l.start(host.ns, ['node', PROBE, 'listen', JSON.stringify({ ifname: host.ifname, count: 6 })]);
  const { stdout, exited } = await probeReady(child);
  const arping = l.run(peer.ns, ['arping', '-c', '3', '-w', '10', '-I', peer.ifname, host.ip]);
  t.is(arping.code, 0, arping.stdout + arping.stderr);
  t.is(await exited, 0);
  const { events } = JSON.parse(stdout().split('\n').find((line) => line.startsWith('{"events"'))!) as { events: ArpEventJson[] };
  const requests = events.filter((e) => e.arp.operation === ArpOp.Request);
  const replies = events.filter((e) => e.arp.operation === ArpOp.Reply);
  t.is(requests.length, 3);
  t.is(replies.length, 3);
  for (const r of requests) t.like(r, { ethSrc: peer.mac, arp: { senderMac: peer.mac, senderIp: Ipv4.parse(peer.ip), targetIp: Ipv4.parse(host.ip) } });
  t.is(requests[0]!.ethDst, Mac.BROADCAST, 'arping starts with a broadcast');
  // And the host kernel's answers, captured on their way out.
  for (const r of replies) t.like(r, { ethSrc: host.mac, arp: { senderMac: host.mac, senderIp: Ipv4.parse(host.ip), targetMac: peer.mac } });
});

test.serial('with the filter `arp or icmp`, the peer kernel’s echo replies come out of events$', async (t) => {
  const { lab: l, host, peer } = lab(t);
  const run = await runProbe<{ replies: Json[]; stats: Stats }>(l, host.ns, 'ping', { ...endpoints(host, peer), count: 3, options: { filter: 'arp or icmp' } });
  const { replies, stats } = run.result;
  t.deepEqual(
    replies.map((r) => r['seq']),
    [1, 2, 3],
  );
  for (const r of replies) {
    t.like(r, { kind: 'icmp', ethSrc: peer.mac, ethDst: host.mac, src: Ipv4.parse(peer.ip), dst: Ipv4.parse(host.ip), type: 0, code: 0, id: 0x4242, bytes: 64 });
    t.true((r['ttl'] as number) > 0 && (r['ttl'] as number) <= 64);
  }
  t.is(stats.decode.icmp, 6, 'three requests seen leaving, three replies');
  closedCleanly(t, run);
});

test.serial('a frame whose not-before time lies ahead is held back until then', async (t) => {
  const { lab: l, host, peer } = lab(t);
  const run = await runProbe<{ notBeforeNs: string; reply: ArpEventJson; stats: Stats }>(l, host.ns, 'paced', { ...endpoints(host, peer), delayMs: 300 });
  const { notBeforeNs, reply, stats } = run.result;
  isPeerReply(t, reply, host, peer);
  // Causality, not speed: the peer cannot answer a request before it was sent.
  t.true(BigInt(reply.tsNs) > BigInt(notBeforeNs));
  t.is(stats.transmit.paced, 1);
  t.is(stats.main.looks, 0, 'nothing is looked for after a frame paced for later');
  closedCleanly(t, run);
});

test.serial('frames queued just before close still leave (a last announcement); one paced for later is cancelled', async (t) => {
  const { lab: l, host, peer } = lab(t);
  const dump = await l.tcpdump(peer.ns, peer.ifname, ['arp']);
  const run = await runProbe<{ sent: number; failed: number }>(l, host.ns, 'close', { ...endpoints(host, peer), count: 3 }, [], TRANSMIT_CLOSE_PROBE);
  const seen = (await dump.stop()).filter((line) => line.includes(`tell ${host.ip}`)).map((line) => /who-has (\S+) tell/.exec(line)?.[1]);
  t.like(run.result, { sent: 3, failed: 0 });
  const first = Ipv4.parse(peer.ip);
  t.deepEqual(seen, [0, 1, 2].map((i) => Ipv4.format(((first + i) >>> 0) as Ipv4)), 'the three due requests crossed the veth, the paced one did not');
});

/** The probe's `held` scenario: three resolves on a pipeline opened with `options`, what it holds open and closed. */
async function heldRun(t: ExecutionContext, options: { sameCpu?: boolean; idlePoll?: boolean }) {
  const { lab: l, host, peer } = lab(t);
  return runProbe<{ replies: number; open: Held; closed: Held; stats: Stats }>(l, host.ns, 'held', { ...endpoints(host, peer), count: 3, options });
}

/** The CPU latency request in force before a test's pipeline opens; a 0 µs one already held would hide ours. */
function latencyBefore(t: ExecutionContext): number {
  const before = cpuLatencyUs();
  t.not(before, 0, 'something else holds a 0 µs request on /dev/cpu_dma_latency: this test cannot tell ours from it');
  return before;
}

test.serial('sameCpu keeps the three threads and the opener on the opener\'s CPU while open, and gives the opener its CPUs back at close', async (t) => {
  const run = await heldRun(t, { sameCpu: true });
  const { replies, open, closed, stats } = run.result;
  t.is(replies, 3);
  t.is(stats.main.looks, 0, 'the main thread never looks for an answer on the CPU the threads it waits for share');
  const all = readFileSync('/proc/self/status', 'utf8').match(/Cpus_allowed_list:\s*(\S+)/)![1]!;
  // The opener (the probe's main thread) and exactly three more threads (capture, decode, transmit) keep to one CPU;
  // V8's and libuv's helper threads are left alone. On a one-CPU machine every thread has that CPU anyway.
  t.regex(open.main, /^\d+$/);
  if (availableParallelism() > 1) t.is(open.threads.filter((c) => c === open.main).length, 4, JSON.stringify(open));
  t.is(closed.main, all, 'the opener may use every CPU again after close');
  closedCleanly(t, run);
});

test.serial('idlePoll holds a 0 µs CPU latency request while open and drops it at close', async (t) => {
  const before = latencyBefore(t);
  const run = await heldRun(t, { idlePoll: true });
  const { replies, open, closed, stats } = run.result;
  t.is(replies, 3);
  t.is(stats.main.looks, 0, 'with idle CPUs polling the main thread parks at once');
  t.is(open.cpuLatencyUs, 0, 'idle CPUs poll while the pipeline is open');
  t.is(closed.cpuLatencyUs, before, 'the request ends with close');
  closedCleanly(t, run);
});

test.serial('idlePoll: an open that fails later (an unknown interface) lets the request go', async (t) => {
  const before = latencyBefore(t);
  const { lab: l, host } = lab(t);
  const run = await runProbe<OpenResult>(l, host.ns, 'open', { ifname: 'nosuch0', options: { idlePoll: true } });
  t.like(run.result.error, { className: 'CaptureError', code: 'ENODEV' });
  t.is(run.result.cpuLatencyUs, before, 'released by the failed open, before the process ends');
  closedCleanly(t, run);
});

test.serial('idlePoll without root: open rejects with a PipelineError that says why, and nothing is left open', async (t) => {
  const { lab: l, host } = lab(t);
  const nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all'];
  const run = await runProbe<OpenResult>(l, host.ns, 'open', { ifname: host.ifname, options: { idlePoll: true } }, nobody, readableCheckout(t).path(PROBE));
  t.like(run.result.error, { className: 'PipelineError' });
  t.regex(run.result.error!.message, /^idlePoll: cannot hold a CPU latency request on \/dev\/cpu_dma_latency \(EACCES\): it is root's alone/);
  closedCleanly(t, run);
});
