// The live pipeline on the code paths ersatz takes on Windows, run here on Linux against libpcap.so in a
// two-namespace lab (198.51.100.0/24 on a veth pair) with a real kernel peer: transmit through libpcap's
// pcap_sendpacket (transmitVia 'pcap'), capture in the wait-loop (captureWaitVia 'wait-loop':
// nonblocking pcap_dispatch plus a bounded wait on the capture thread), because wpcap.dll has no selectable
// descriptor. On Windows the library (wpcap.dll), the device name and the wait primitive (WaitForSingleObject on
// pcap_getevent instead of poll(2)) differ. Nothing is sent outside the lab; without root these tests fail.
import test, { type ExecutionContext } from 'ava';
import { twoHostLab, type Host, type Lab } from '@ersatz/lab';
import { ArpOp, Ipv4 } from '@ersatz/wire';
import { closedCleanly, endpoints, runProbe as runPipelineProbe, WINDOWS_PATHS_PROBE } from './helpers/pipeline-lab.js';

const runProbe = <T>(lab: Lab, ns: string, scenario: string, args: object, argvPrefix: string[] = []) => runPipelineProbe<T>(lab, ns, scenario, args, argvPrefix, WINDOWS_PATHS_PROBE);

interface ArpEventJson {
  kind: 'arp';
  tsNs: string;
  ethSrc: string;
  ethDst: string;
  arp: { operation: number; senderMac: string; senderIp: number; targetMac: string; targetIp: number };
}
interface Stats {
  capture: { frames: number; pcap: { dropped: number }; opens: number };
  decode: { arp: number };
  transmit: { sent: number; failed: number; paced: number; open: boolean };
}
interface ErrorJson {
  name: string;
  message: string;
  className: string;
  code: string;
  operation: string;
}

const WINDOWS_PATHS = { transmitVia: 'pcap', captureWaitVia: 'wait-loop' } as const;

function lab(t: ExecutionContext): { lab: Lab; host: Host; peer: Host } {
  const l = twoHostLab('wpath');
  t.teardown(() => l.lab.destroy());
  return l;
}

function isPeerReply(t: ExecutionContext, ev: ArpEventJson, host: Host, peer: Host): void {
  t.like(ev, {
    kind: 'arp',
    ethSrc: peer.mac,
    ethDst: host.mac,
    arp: { operation: ArpOp.Reply, senderMac: peer.mac, senderIp: Ipv4.parse(peer.ip), targetMac: host.mac, targetIp: Ipv4.parse(host.ip) },
  });
}

test.serial('pcap transmit + wait-loop capture: requests reach the peer kernel, its replies come out of events$', async (t) => {
  const { lab: l, host, peer } = lab(t);
  const run = await runProbe<{ replies: ArpEventJson[]; link: Record<string, unknown>; transmitInfo: Record<string, unknown>; stats: Stats }>(l, host.ns, 'resolve', {
    ...endpoints(host, peer),
    count: 3,
    options: WINDOWS_PATHS,
  });
  const { replies, link, transmitInfo, stats } = run.result;
  t.is(replies.length, 3);
  for (const r of replies) isPeerReply(t, r, host, peer);
  t.like(link, { ifname: host.ifname, waitVia: 'wait-loop', filter: 'arp' });
  t.like(transmitInfo, { ifname: host.ifname, via: 'pcap' });
  t.true((transmitInfo['ifindex'] as number) > 0, 'the Linux pcap backend still reports the ifindex');
  t.like(stats.transmit, { sent: 3, failed: 0 });
  // The capture sees our requests leave (sent on another handle) as well as the replies.
  t.is(stats.decode.arp, 6);
  t.is(stats.capture.pcap.dropped, 0);
  closedCleanly(t, run);
});

test.serial('each backend alone: pcap transmit with the poll capture, packet socket with the wait-loop capture', async (t) => {
  const { lab: l, host, peer } = lab(t);
  for (const options of [{ transmitVia: 'pcap' }, { captureWaitVia: 'wait-loop' }]) {
    const run = await runProbe<{ replies: ArpEventJson[]; link: Record<string, unknown>; transmitInfo: Record<string, unknown>; stats: Stats }>(l, host.ns, 'resolve', {
      ...endpoints(host, peer),
      count: 2,
      options,
    });
    t.is(run.result.replies.length, 2);
    for (const r of run.result.replies) isPeerReply(t, r, host, peer);
    t.is(run.result.link['waitVia'], options.captureWaitVia ?? 'selectable-fd');
    t.is(run.result.transmitInfo['via'], options.transmitVia ?? 'packet-socket');
    closedCleanly(t, run);
  }
});

test.serial('the pcap backend honours a frame’s not-before time: the reply comes after it', async (t) => {
  const { lab: l, host, peer } = lab(t);
  const run = await runProbe<{ notBeforeNs: string; reply: ArpEventJson; stats: Stats }>(l, host.ns, 'paced', { ...endpoints(host, peer), delayMs: 300, options: WINDOWS_PATHS });
  const { notBeforeNs, reply, stats } = run.result;
  isPeerReply(t, reply, host, peer);
  t.true(BigInt(reply.tsNs) > BigInt(notBeforeNs), `reply at ${reply.tsNs}, not before ${notBeforeNs}`);
  t.is(stats.transmit.paced, 1);
  t.is(stats.transmit.sent, 1);
  closedCleanly(t, run);
});

test.serial('link down and up: the wait-loop capture stops and reopens, pcap sends fail with ENETDOWN, then work again', async (t) => {
  const { lab: l, host, peer } = lab(t);
  const run = await runProbe<{ before: ArpEventJson; stoppedWarning: string; failingWarning: string; after: ArpEventJson; stats: Stats & { transmit: { lastError?: string } } }>(l, host.ns, 'linkdown', {
    ...endpoints(host, peer),
    options: WINDOWS_PATHS,
  });
  const { before, stoppedWarning, failingWarning, after, stats } = run.result;
  isPeerReply(t, before, host, peer);
  t.regex(stoppedWarning, /^capture stopped: ez0 is down \(.*went down.*\)/);
  t.is(failingWarning, 'transmit failing: cannot send on ez0: it is down (pcap_sendpacket: ENETDOWN); bring it up (ip link set ez0 up)');
  // The first send after the link came back meets the socket's stale ENETDOWN: the backend retries it.
  t.like(stats.transmit, { sent: 2, failed: 1, lastError: 'ENETDOWN' });
  isPeerReply(t, after, host, peer);
  t.is(stats.capture.opens, 2);
  closedCleanly(t, run);
});

test.serial('pcap transmit without CAP_NET_RAW: TransmitError EPERM that says how to fix it', async (t) => {
  const { lab: l, host } = lab(t);
  const noRaw = ['setpriv', '--inh-caps=-all', '--bounding-set=-net_raw', '--'];
  const run = await runProbe<{ ok: boolean; error: ErrorJson; isTransmitError: boolean }>(l, host.ns, 'transmit', { ifname: host.ifname, options: { via: 'pcap' } }, noRaw);
  t.false(run.result.ok);
  t.true(run.result.isTransmitError);
  t.like(run.result.error, { className: 'TransmitError', code: 'EPERM' });
  t.regex(run.result.error.operation, /^pcap_activate: /);
  t.regex(run.result.error.message, /CAP_NET_RAW \(setcap cap_net_raw/);
});

test.serial('pcap transmit on an interface that does not exist: TransmitError ENODEV', async (t) => {
  const { lab: l, host } = lab(t);
  const run = await runProbe<{ ok: boolean; error: ErrorJson; isTransmitError: boolean }>(l, host.ns, 'transmit', { ifname: 'nosuch0', options: { via: 'pcap' } });
  t.false(run.result.ok);
  t.like(run.result.error, { className: 'TransmitError', code: 'ENODEV' });
  t.regex(run.result.error.message, /does not exist/);
});

test.serial('an unknown transmit backend is refused with EINVAL before anything opens', async (t) => {
  const { lab: l, host } = lab(t);
  const run = await runProbe<{ ok: boolean; error: ErrorJson }>(l, host.ns, 'transmit', { ifname: host.ifname, options: { via: 'raw' } });
  t.false(run.result.ok);
  t.like(run.result.error, { className: 'TransmitError', code: 'EINVAL' });
});
