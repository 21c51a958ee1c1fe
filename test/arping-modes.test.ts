// arping$ against FakeLink peers on virtual time: frame bytes per mode against iputils arping's own frames, the
// count/deadline/-f/-D/-U/-A end conditions and exit codes, reply filtering, and the RTT statistics.
import test from 'ava';
import { TestScheduler } from 'rxjs/testing';
import { timer } from 'rxjs';
import { ArpOp, Ipv4, Mac } from '@ersatz/wire';
import { arping$, arpingSource, ForeignSenderError, OptionError, RttAccumulator, type ArpingEvent, type ArpingOptions, type ArpingSummary } from '@ersatz/resolve';
import { FakeLink, type FakeHost } from '@ersatz/resolve/testing';

const US = { ip: Ipv4.parse('192.0.2.1'), mac: Mac.parse('02:00:00:00:00:0a') };
const PEER = { ip: Ipv4.parse('192.0.2.2'), mac: Mac.parse('02:00:00:00:00:0b') };
const OTHER = Mac.parse('02:00:00:00:00:0c');

const hex = (s: string): Uint8Array => Uint8Array.from(s.replace(/\s+/g, '').match(/../g)!, (h) => parseInt(h, 16));

// Fixtures: iputils arping 20221126 run in a namespace pair (va 02:00:00:00:00:0a 192.0.2.1/24, vb 02:00:00:00:00:0b
// 192.0.2.2/24), captured with `tcpdump -i va -n -e -xx`. arping sends 42 bytes through a SOCK_DGRAM packet socket;
// a NIC pads them to 60 with zeros, and emitArpFrame writes those zeros itself.
const IPUTILS = {
  // arping -I va -c 2 192.0.2.2 (first probe)
  // 02:00:00:00:00:0a > ff:ff:ff:ff:ff:ff, ARP, Request who-has 192.0.2.2 (ff:ff:ff:ff:ff:ff) tell 192.0.2.1, length 28
  request: hex('ffff ffff ffff 0200 0000 000a 0806 0001 0800 0604 0001 0200 0000 000a c000 0201 ffff ffff ffff c000 0202'),
  // arping -I va -c 2 192.0.2.2 (second probe, after a reply)
  // 02:00:00:00:00:0a > 02:00:00:00:00:0b, ARP, Request who-has 192.0.2.2 (02:00:00:00:00:0b) tell 192.0.2.1, length 28
  unicast: hex('0200 0000 000b 0200 0000 000a 0806 0001 0800 0604 0001 0200 0000 000a c000 0201 0200 0000 000b c000 0202'),
  // arping -I va -D -c 2 192.0.2.2
  // 02:00:00:00:00:0a > ff:ff:ff:ff:ff:ff, ARP, Request who-has 192.0.2.2 (ff:ff:ff:ff:ff:ff) tell 0.0.0.0, length 28
  dad: hex('ffff ffff ffff 0200 0000 000a 0806 0001 0800 0604 0001 0200 0000 000a 0000 0000 ffff ffff ffff c000 0202'),
  // the kernel's answer to that probe
  // 02:00:00:00:00:0b > 02:00:00:00:00:0a, ARP, Reply 192.0.2.2 is-at 02:00:00:00:00:0b, length 28
  dadReply: hex('0200 0000 000a 0200 0000 000b 0806 0001 0800 0604 0002 0200 0000 000b c000 0202 0200 0000 000a 0000 0000'),
  // arping -I va -U -c 1 192.0.2.1
  // 02:00:00:00:00:0a > ff:ff:ff:ff:ff:ff, ARP, Request who-has 192.0.2.1 (ff:ff:ff:ff:ff:ff) tell 192.0.2.1, length 28
  unsolicited: hex('ffff ffff ffff 0200 0000 000a 0806 0001 0800 0604 0001 0200 0000 000a c000 0201 ffff ffff ffff c000 0201'),
  // arping -I va -A -c 1 192.0.2.1
  // 02:00:00:00:00:0a > ff:ff:ff:ff:ff:ff, ARP, Reply 192.0.2.1 is-at 02:00:00:00:00:0a, length 28
  advert: hex('ffff ffff ffff 0200 0000 000a 0806 0001 0800 0604 0002 0200 0000 000a c000 0201 0200 0000 000a c000 0201'),
};

interface Run {
  link: FakeLink;
  events: [number, ArpingEvent][];
  summary: ArpingSummary | undefined;
  completedAt: number | null;
}

function run(target: Ipv4, options: Omit<ArpingOptions, 'scheduler'>, hosts: FakeHost[] = [], setup?: (link: FakeLink, ts: TestScheduler) => void, departureDelayMs = 0, addresses = [US.ip]): Run {
  const ts = new TestScheduler(() => undefined);
  const link = new FakeLink({ scheduler: ts, ...US, addresses, hosts, departureDelayMs, captureOwn: true });
  const events: [number, ArpingEvent][] = [];
  let completedAt: number | null = null;
  ts.run(() => {
    setup?.(link, ts);
    arping$(link, target, { scheduler: ts, ...options }).subscribe({ next: (e) => events.push([ts.now(), e]), complete: () => (completedAt = ts.now()) });
  });
  const last = events.at(-1)?.[1];
  return { link, events, summary: last?.type === 'done' ? last.summary : undefined, completedAt };
}

const timeline = (r: Run) => r.events.map(([ms, e]) => `${e.type}@${ms}`);

function sameAsIputils(t: import('ava').ExecutionContext, bytes: Uint8Array, fixture: Uint8Array, what: string): void {
  t.is(bytes.length, 60, what);
  t.deepEqual(bytes.slice(0, 42), fixture, what);
  t.deepEqual(bytes.slice(42), new Uint8Array(18), `${what}: padding`);
}

test('request: broadcast until the first reply, then unicast to the learned MAC, byte for byte as iputils', (t) => {
  const r = run(PEER.ip, { count: 2 }, [{ ...PEER, delayMs: 1 }]);
  sameAsIputils(t, r.link.sent[0]!.bytes, IPUTILS.request, 'first probe');
  sameAsIputils(t, r.link.sent[1]!.bytes, IPUTILS.unicast, 'second probe');
  // iputils: "Sent 2 probes (1 broadcast(s))", "Received 2 response(s)"; it waits one interval after the last probe.
  t.deepEqual(timeline(r), ['sent@0', 'reply@1', 'sent@1000', 'reply@1001', 'done@2000']);
  t.like(r.summary, { sent: 2, broadcasts: 1, received: 2, broadcastReplies: 0, requestReplies: 0, dad: null, exitCode: 0, elapsedMs: 2000 });
  t.is(r.completedAt, 2000);
  t.like(r.events[1]![1], { type: 'reply', ip: PEER.ip, mac: PEER.mac, operation: ArpOp.Reply, broadcast: false, rttNs: 1_000_000n });
});

test('-b keeps broadcasting', (t) => {
  const r = run(PEER.ip, { count: 2, broadcastOnly: true }, [PEER]);
  sameAsIputils(t, r.link.sent[0]!.bytes, IPUTILS.request, 'first probe');
  sameAsIputils(t, r.link.sent[1]!.bytes, IPUTILS.request, 'second probe');
  t.like(r.summary, { sent: 2, broadcasts: 2, received: 2, exitCode: 0 });
});

test('-D: an RFC 5227 probe; the first answer means taken (exit 1) and ends the run', (t) => {
  const r = run(PEER.ip, { mode: 'dad', count: 2 }, [{ ...PEER, delayMs: 1 }]);
  sameAsIputils(t, r.link.sent[0]!.bytes, IPUTILS.dad, 'probe');
  t.deepEqual(timeline(r), ['sent@0', 'reply@1', 'done@1']);
  // iputils: "Sent 1 probes (1 broadcast(s))", "Received 1 response(s)", exit 1.
  t.like(r.summary, { sent: 1, broadcasts: 1, received: 1, dad: 'taken', exitCode: 1 });
  // The fake peer answered as the kernel did: to our MAC, ar$tpa 0.0.0.0.
  const reply = r.events[1]![1];
  t.true(reply.type === 'reply');
  if (reply.type === 'reply') t.deepEqual(FakeLink.bytesOf({ dst: reply.reply.ethDst, src: reply.reply.ethSrc, arp: reply.reply.arp }).slice(0, 42), IPUTILS.dadReply);
});

test('-D with no answer: free (exit 0) after count probes and one more interval', (t) => {
  const r = run(PEER.ip, { mode: 'dad', count: 2 });
  t.deepEqual(timeline(r), ['sent@0', 'sent@1000', 'done@2000']);
  t.like(r.summary, { sent: 2, broadcasts: 2, received: 0, dad: 'free', exitCode: 0, rtt: null });
});

test('-D ignores our own probe and a peer probing the same address (sender IP 0.0.0.0), as iputils does', (t) => {
  const r = run(PEER.ip, { mode: 'dad', count: 1 }, [], (link) => {
    link.inject({ ethSrc: OTHER, ethDst: Mac.BROADCAST, arp: { operation: ArpOp.Request, senderMac: OTHER, senderIp: Ipv4.UNSPECIFIED, targetMac: Mac.ZERO, targetIp: PEER.ip } }, 5);
  });
  t.like(r.summary, { received: 0, dad: 'free', exitCode: 0 });
});

test('-D catches a conflicting announcement (gratuitous ARP from another MAC)', (t) => {
  const r = run(PEER.ip, { mode: 'dad', count: 3 }, [], (link) => {
    link.inject({ ethSrc: OTHER, ethDst: Mac.BROADCAST, arp: { operation: ArpOp.Request, senderMac: OTHER, senderIp: PEER.ip, targetMac: Mac.ZERO, targetIp: PEER.ip } }, 1500);
  });
  t.deepEqual(timeline(r), ['sent@0', 'sent@1000', 'reply@1500', 'done@1500']);
  t.like(r.summary, { received: 1, requestReplies: 1, broadcastReplies: 1, dad: 'taken', exitCode: 1 });
});

test('-U: a gratuitous request (sender IP = target IP); done right after the count-th probe, exit 0', (t) => {
  const one = run(US.ip, { mode: 'unsolicited', count: 1 });
  sameAsIputils(t, one.link.sent[0]!.bytes, IPUTILS.unsolicited, '-U');
  t.deepEqual(timeline(one), ['sent@0', 'done@0']);
  t.like(one.summary, { sent: 1, received: 0, exitCode: 0 });
  const three = run(US.ip, { mode: 'unsolicited', count: 3 });
  t.deepEqual(timeline(three), ['sent@0', 'sent@1000', 'sent@2000', 'done@2000']);
});

test('-A: a gratuitous reply (target MAC = ours); our own frame seen by the capture is not an answer', (t) => {
  const r = run(US.ip, { mode: 'advert', count: 2 }, [], undefined, 1);
  sameAsIputils(t, r.link.sent[0]!.bytes, IPUTILS.advert, '-A');
  // The capture shows our reply at 1 ms: it names us in every field iputils checks, but it is ours.
  t.deepEqual(timeline(r), ['sent@0', 'sent@1000', 'done@1000']);
  t.like(r.summary, { sent: 2, received: 0, exitCode: 0 });
});

test('-s sets the sender IP, and answers must be addressed to it', (t) => {
  const source = Ipv4.parse('192.0.2.77'); // a second address of the interface
  const r = run(PEER.ip, { count: 1, source }, [PEER], (link) => {
    // A reply naming our link IP instead of the -s source does not count.
    link.inject({ ethSrc: PEER.mac, ethDst: US.mac, arp: { operation: ArpOp.Reply, senderMac: PEER.mac, senderIp: PEER.ip, targetMac: US.mac, targetIp: US.ip } }, 500);
  }, 0, [US.ip, source]);
  t.is(r.link.sent[0]!.frame.arp.senderIp, source);
  t.deepEqual(timeline(r), ['sent@0', 'reply@1', 'done@1000']);
});

test('-f ends at the first reply', (t) => {
  const r = run(PEER.ip, { quitOnReply: true }, [{ ...PEER, drop: 2, delayMs: 3 }]);
  t.deepEqual(timeline(r), ['sent@0', 'sent@1000', 'sent@2000', 'reply@2003', 'done@2003']);
  t.like(r.summary, { sent: 3, received: 1, exitCode: 0 });
});

test('-w with -c: ends at the count-th reply; at the deadline short of it, exit 1', (t) => {
  const reached = run(PEER.ip, { count: 2, deadlineMs: 10_000 }, [PEER]);
  t.deepEqual(timeline(reached), ['sent@0', 'reply@1', 'sent@1000', 'reply@1001', 'done@1001']);
  t.is(reached.summary?.exitCode, 0);
  const short = run(PEER.ip, { count: 5, deadlineMs: 2500 }, [PEER]);
  t.is(short.completedAt, 2500);
  t.like(short.summary, { sent: 3, received: 3, exitCode: 1 });
});

test('a deadline on an interval boundary still lets that probe out first (-c 2 -w 1, as iputils)', (t) => {
  const r = run(PEER.ip, { count: 2, deadlineMs: 1000 });
  t.deepEqual(timeline(r), ['sent@0', 'sent@1000', 'done@1000']);
  t.like(r.summary, { sent: 2, received: 0, exitCode: 1 });
});

test('without -c the deadline ends it; no reply means exit 1', (t) => {
  const r = run(PEER.ip, { deadlineMs: 3500 });
  t.deepEqual(timeline(r), ['sent@0', 'sent@1000', 'sent@2000', 'sent@3000', 'done@3500']);
  t.like(r.summary, { sent: 4, broadcasts: 4, received: 0, exitCode: 1, rtt: null, elapsedMs: 3500 });
});

test('answers: a request naming us counts, broadcast answers are flagged, frames for others are dropped', (t) => {
  const reply = { operation: ArpOp.Reply, senderMac: PEER.mac, senderIp: PEER.ip, targetMac: US.mac, targetIp: US.ip } as const;
  const r = run(PEER.ip, { count: 1 }, [], (link) => {
    link.inject({ ethSrc: PEER.mac, ethDst: OTHER, arp: reply }, 100); // unicast to another station
    link.inject({ ethSrc: PEER.mac, ethDst: US.mac, arp: { ...reply, targetMac: OTHER } }, 200); // names another MAC
    link.inject({ ethSrc: PEER.mac, ethDst: US.mac, arp: { ...reply, senderIp: Ipv4.parse('192.0.2.3') } }, 300); // another sender
    link.inject({ ethSrc: PEER.mac, ethDst: Mac.BROADCAST, arp: reply }, 400); // broadcast reply: counts
    link.inject({ ethSrc: PEER.mac, ethDst: US.mac, arp: { ...reply, operation: ArpOp.Request } }, 500); // request naming us: counts
    link.inject({ ethSrc: PEER.mac, ethDst: US.mac, vlan: 7, arp: reply }, 600); // another VLAN
  });
  t.deepEqual(timeline(r), ['sent@0', 'reply@400', 'reply@500', 'done@1000']);
  t.like(r.summary, { received: 2, broadcastReplies: 1, requestReplies: 1, exitCode: 0 });
});

test('RTT runs from when the probe left; the summary holds min/avg/max/stddev of the replies', (t) => {
  // Each probe leaves 1 ms after it is queued; the peer answers 2 ms, then 4 ms, then 9 ms later.
  const delays = [2, 4, 9];
  const r = run(PEER.ip, { count: 3, broadcastOnly: true }, [], (link, ts) => {
    delays.forEach((d, i) => ts.schedule(() => link.inject({ ethSrc: PEER.mac, ethDst: US.mac, arp: { operation: ArpOp.Reply, senderMac: PEER.mac, senderIp: PEER.ip, targetMac: US.mac, targetIp: US.ip } }), i * 1000 + 1 + d));
  }, 1);
  const rtts = r.events.flatMap(([, e]) => (e.type === 'reply' ? [Number(e.rttNs) / 1e6] : []));
  t.deepEqual(rtts, [2, 4, 9]);
  const avg = 5;
  t.like(r.summary?.rtt, { count: 3, minMs: 2, maxMs: 9 });
  t.true(Math.abs(r.summary!.rtt!.avgMs - avg) < 1e-12);
  t.true(Math.abs(r.summary!.rtt!.stddevMs - Math.sqrt(((2 - avg) ** 2 + (4 - avg) ** 2 + (9 - avg) ** 2) / 3)) < 1e-12);
});

test('RttAccumulator: population stddev, stable for large values, null when empty', (t) => {
  const acc = new RttAccumulator();
  t.is(acc.stats(), null);
  for (const ms of [1, 2, 3, 4]) acc.add(BigInt(ms * 1e6));
  t.deepEqual(acc.stats(), { count: 4, minMs: 1, avgMs: 2.5, maxMs: 4, stddevMs: Math.sqrt(1.25) });
  // Samples near 10^9 ms with a spread of 0.001 ms: the sum-of-squares formula loses this entirely.
  const big = new RttAccumulator();
  for (const ns of [1_000_000_000_000_000n, 1_000_000_000_000_000n + 1000n]) big.add(ns);
  t.true(Math.abs(big.stats()!.stddevMs - 0.0005) < 1e-6, String(big.stats()!.stddevMs));
});

test('stop$ ends the run with a summary (SIGINT); unsubscribing stops probing', (t) => {
  const stopped = run(PEER.ip, { stop$: timer(2500) }, [PEER]);
  t.deepEqual(timeline(stopped).slice(-2), ['reply@2001', 'done@2500']);
  t.like(stopped.summary, { sent: 3, received: 3, exitCode: 0 });

  const ts = new TestScheduler(() => undefined);
  const link = new FakeLink({ scheduler: ts, ...US });
  ts.run(() => {
    const sub = arping$(link, PEER.ip, { scheduler: ts }).subscribe();
    ts.schedule(() => sub.unsubscribe(), 1500);
  });
  t.deepEqual(
    link.sent.map((s) => s.atMs),
    [0, 1000],
  );
  t.is(link.subscribers, 0);
});

test('options outside their domain throw OptionError', (t) => {
  const link = new FakeLink({ scheduler: new TestScheduler(() => undefined) });
  t.throws(() => arping$(link, PEER.ip, { count: 0 }), { instanceOf: OptionError, message: 'arping: invalid count 0: expected an integer >= 1' });
  t.throws(() => arping$(link, PEER.ip, { intervalMs: 0 }), { instanceOf: OptionError });
  t.throws(() => arping$(link, PEER.ip, { deadlineMs: -1 }), { instanceOf: OptionError });
  t.throws(() => arping$(link, PEER.ip, { mode: 'flood' as never }), { instanceOf: OptionError, message: 'arping: invalid mode flood: expected request, dad, unsolicited, advert' });
});

test('the sender address must be the interface\'s: -U/-A for another host\'s address or -s foreign throw and send nothing', (t) => {
  const ts = new TestScheduler(() => undefined);
  const link = new FakeLink({ scheduler: ts, ...US, hosts: [PEER] });
  const gateway = PEER.ip; // announcing it would teach the LAN that the gateway is at our MAC
  const foreign = Ipv4.parse('192.0.2.99');
  const cases: ArpingOptions[] = [
    { mode: 'unsolicited', count: 1 },
    { mode: 'advert', count: 1 },
    { count: 1, source: foreign },
    { mode: 'dad', count: 1, source: foreign },
    { mode: 'unsolicited', count: 1, source: foreign },
  ];
  for (const options of cases) {
    const err = t.throws(() => arping$(link, gateway, { scheduler: ts, ...options }), { instanceOf: ForeignSenderError }, JSON.stringify(options));
    t.regex(err?.message ?? '', /^arping: 192\.0\.2\.(2|99) is not an address of fake0 \(it has 192\.0\.2\.1\): refusing/);
  }
  t.is(link.sent.length, 0);
  // What stays allowed: our own address, DAD from 0.0.0.0 (explicit or default), and the loud lab-only override.
  t.is(arpingSource(link, US.ip, { mode: 'unsolicited' }), US.ip);
  t.is(arpingSource(link, gateway, { mode: 'dad' }), Ipv4.UNSPECIFIED);
  t.is(arpingSource(link, gateway, { mode: 'dad', source: Ipv4.UNSPECIFIED }), Ipv4.UNSPECIFIED);
  t.is(arpingSource(link, gateway, { mode: 'unsolicited', spoofSender: true }), gateway);
  // An interface without an address yet (RFC 5227 probing) may run DAD, and nothing else.
  const bare = { ifname: 'e1', ip: Ipv4.UNSPECIFIED, addresses: [] };
  t.is(arpingSource(bare, gateway, { mode: 'dad' }), Ipv4.UNSPECIFIED);
  t.throws(() => arpingSource(bare, gateway, {}), { instanceOf: ForeignSenderError, message: /^arping: 0\.0\.0\.0 is not an address of e1 \(it has no IPv4 address\)/ });
});
