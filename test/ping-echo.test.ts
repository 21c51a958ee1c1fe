// ping$ on virtual time against a fake link whose peers answer echo requests like the Linux kernel: the next hop
// resolved by ARP first, the request frames (parsed back with the wire codecs, checksums verified), replies matched
// by identifier and sequence number, iputils ping's end conditions and exit codes, duplicates and RTT statistics.
import test from 'ava';
import { TestScheduler } from 'rxjs/testing';
import { of, Subject, timer, type Observable } from 'rxjs';
import {
  ArpOp,
  EtherType,
  EthernetFrame,
  EthernetRepr,
  IcmpEchoRepr,
  Icmpv4Packet,
  Ipv4,
  Ipv4Packet,
  Ipv4Repr,
  Mac,
  type Ipv4 as Ipv4T,
  type Mac as MacT,
} from '@ersatz/wire';
import { OptionError, ResolveTimeoutError, ping$, type IcmpLink, type IcmpObservation, type PingEvent, type PingOptions, type PingSummary } from '@ersatz/resolve';
import { FakeLink, type FakeHost } from '@ersatz/resolve/testing';

const US = { ip: Ipv4.parse('192.0.2.1'), mac: Mac.parse('02:00:00:00:00:0a') };
const PEER = { ip: Ipv4.parse('192.0.2.2'), mac: Mac.parse('02:00:00:00:00:0b') };
const GW = { ip: Ipv4.parse('192.0.2.254'), mac: Mac.parse('02:00:00:00:00:fe') };
const FAR = Ipv4.parse('198.51.100.7');
const OTHER = Mac.parse('02:00:00:00:00:0c');
const ID = 0x1234;

/** Answers echo requests for `ip` that reach `mac`, as a kernel (or, for a far `ip`, the router in front of it) does. */
interface EchoPeer {
  readonly ip: Ipv4T;
  readonly mac: MacT;
  /** Delay before the reply is captured (default 1 ms). */
  readonly delayMs?: number;
  /** Sequence numbers it does not answer (a lossy path). */
  readonly drop?: readonly number[];
  /** Sequence numbers it answers twice, the second time this much later. */
  readonly dup?: readonly number[];
  readonly ttl?: number;
}

interface SentEcho {
  readonly atMs: number;
  readonly bytes: Uint8Array;
  readonly eth: EthernetRepr;
  readonly ip: Ipv4Repr;
  readonly icmp: IcmpEchoRepr;
}

/** An IcmpLink on a TestScheduler: ARP goes to a FakeLink, echo requests are parsed, recorded and answered. */
class FakeIcmpLink implements IcmpLink {
  readonly arpLink: FakeLink;
  readonly echoes: SentEcho[] = [];
  readonly #icmp = new Subject<IcmpObservation>();
  readonly icmp$: Observable<IcmpObservation> = this.#icmp.asObservable();

  constructor(
    readonly ts: TestScheduler,
    readonly peers: readonly EchoPeer[],
    arpHosts: readonly FakeHost[],
    readonly departureDelayMs = 0,
    vlan?: number,
  ) {
    this.arpLink = new FakeLink({ scheduler: ts, ...US, hosts: arpHosts, ...(vlan === undefined ? {} : { vlan }) });
  }

  get ifname() {
    return this.arpLink.ifname;
  }
  get mac() {
    return this.arpLink.mac;
  }
  get ip() {
    return this.arpLink.ip;
  }
  get vlan() {
    return this.arpLink.vlan;
  }
  get arp$() {
    return this.arpLink.arp$;
  }
  /** Whether anyone listens to icmp$ (false after teardown). */
  get icmpObserved(): boolean {
    return this.#icmp.observed;
  }
  now(): bigint {
    return this.arpLink.now();
  }
  heardUntilNs(): bigint {
    return this.arpLink.now();
  }

  /** Per ticket: an ARP frame's ticket on arpLink, or when an echo request left (null while queued). */
  readonly #sent: ({ arp: number } | { leftNs: bigint | null })[] = [];

  send(bytes: Uint8Array, notBeforeNs?: bigint): number {
    const frame = EthernetFrame.checked(bytes.slice());
    const eth = EthernetRepr.parse(frame);
    const ticket = this.#sent.length;
    if (eth.kind === 'ethernet2' && eth.etherType === EtherType.Arp) {
      this.#sent.push({ arp: this.arpLink.send(bytes, notBeforeNs) });
      return ticket;
    }
    if (eth.kind !== 'ethernet2' || eth.etherType !== EtherType.Ipv4) throw new Error(`unexpected frame type ${frame.typeOrLength}`);
    const ipPacket = Ipv4Packet.checked(frame.payload);
    const ip = Ipv4Repr.parse(ipPacket); // verifies the header checksum
    const icmp = IcmpEchoRepr.parse(Icmpv4Packet.checked(ipPacket.payload)); // verifies the ICMP checksum
    this.echoes.push({ atMs: this.ts.now(), bytes: frame.bytes, eth, ip, icmp });
    const base = { ethSrc: eth.src, ethDst: eth.dst, src: ip.src, dst: ip.dst, ttl: ip.ttl, code: 0, id: icmp.id, seq: icmp.seq, bytes: ip.payloadLen };
    const sent: { leftNs: bigint | null } = { leftNs: null };
    this.#sent.push(sent);
    // It leaves after departureDelayMs, captured leaving too (as a link recording both directions shows it).
    this.ts.schedule(() => (sent.leftNs = this.now()), this.departureDelayMs);
    this.#emit({ ...base, type: 8 }, this.departureDelayMs);
    for (const p of this.peers) {
      if (p.ip !== ip.dst || p.mac !== eth.dst || p.drop?.includes(icmp.seq)) continue;
      const reply = { ethSrc: p.mac, ethDst: eth.src, src: ip.dst, dst: ip.src, ttl: p.ttl ?? 64, type: 0, code: 0, id: icmp.id, seq: icmp.seq, bytes: ip.payloadLen };
      this.#emit(reply, p.delayMs ?? 1);
      if (p.dup?.includes(icmp.seq)) this.#emit(reply, (p.delayMs ?? 1) + 5);
    }
    return ticket;
  }

  departures(): number {
    const queued = this.#sent.findIndex((s) => ('arp' in s ? s.arp >= this.arpLink.departures() : s.leftNs === null));
    return queued < 0 ? this.#sent.length : queued;
  }

  departedNs(ticket: number): bigint | null {
    const s = this.#sent[ticket];
    return s === undefined ? null : 'arp' in s ? this.arpLink.departedNs(s.arp) : s.leftNs;
  }

  /** Puts an ICMP frame on the wire after `delayMs`, as another station would. */
  inject(obs: Omit<IcmpObservation, 'tsNs'>, delayMs: number): void {
    this.#emit(obs, delayMs);
  }

  #emit(obs: Omit<IcmpObservation, 'tsNs'>, delayMs: number): void {
    this.ts.schedule(() => this.#icmp.next({ ...obs, tsNs: this.now() }), delayMs);
  }
}

const hex = (s: string): Uint8Array => Uint8Array.from(s.replace(/\s+/g, '').match(/../g)!, (h) => parseInt(h, 16));

// ping$ (id 0x1234, count 1) from va 02:00:00:00:00:0a 192.0.2.1/24 to vb 02:00:00:00:00:0b 192.0.2.2/24, a namespace
// pair; the Linux kernel on vb answered it. `tcpdump -i vb -n -e -xx icmp`:
// 02:00:00:00:00:0a > 02:00:00:00:00:0b, ethertype IPv4 (0x0800), length 98: 192.0.2.1 > 192.0.2.2: ICMP echo request, id 4660, seq 1, length 64
const ECHO_REQUEST = hex(`
  0200 0000 000b 0200 0000 000a 0800 4500 0054 0000 4000 4001 b6a5 c000 0201 c000 0202 0800 eeb7 1234 0001 0001
  0203 0405 0607 0809 0a0b 0c0d 0e0f 1011 1213 1415 1617 1819 1a1b 1c1d 1e1f 2021 2223 2425 2627 2829 2a2b 2c2d
  2e2f 3031 3233 3435 3637`);

interface Run {
  link: FakeIcmpLink;
  events: [number, PingEvent][];
  summary: PingSummary | undefined;
  completedAt: number | null;
  error: unknown;
}

function run(
  target: Ipv4T,
  options: Omit<PingOptions, 'scheduler'>,
  o: { peers?: EchoPeer[]; arp?: FakeHost[]; setup?: (link: FakeIcmpLink) => void; departureDelayMs?: number; vlan?: number; unsubscribeAt?: number } = {},
): Run {
  const ts = new TestScheduler(() => undefined);
  const link = new FakeIcmpLink(ts, o.peers ?? [{ ...PEER }], o.arp ?? [{ ...PEER, delayMs: 1 }], o.departureDelayMs, o.vlan);
  const events: [number, PingEvent][] = [];
  let completedAt: number | null = null;
  let error: unknown;
  ts.run(() => {
    o.setup?.(link);
    const sub = ping$(link, target, { scheduler: ts, id: ID, ...options }).subscribe({
      next: (e) => events.push([ts.now(), e]),
      complete: () => (completedAt = ts.now()),
      error: (e: unknown) => (error = e),
    });
    if (o.unsubscribeAt !== undefined) ts.schedule(() => sub.unsubscribe(), o.unsubscribeAt);
  });
  const last = events.at(-1)?.[1];
  return { link, events, summary: last?.type === 'done' ? last.summary : undefined, completedAt, error };
}

const timeline = (r: Run) => r.events.map(([ms, e]) => `${e.type}${e.type === 'sent' || e.type === 'reply' ? e.seq : ''}${e.type === 'reply' && e.dup ? 'dup' : ''}@${ms}`);

test('resolves the next hop by ARP, then sends echo requests to its MAC that parse back with valid checksums', (t) => {
  const r = run(PEER.ip, { count: 3 });
  // The ARP query went first: who-has 192.0.2.2 tell 192.0.2.1, broadcast.
  t.is(r.link.arpLink.sent.length, 1);
  t.like(r.link.arpLink.sent[0]!.frame, { ethDst: Mac.BROADCAST, arp: { operation: ArpOp.Request, senderIp: US.ip, targetIp: PEER.ip } });
  t.like(r.events[0]![1], { type: 'resolved', nextHop: PEER.ip, mac: PEER.mac, rttNs: 1_000_000n });
  t.is(r.link.echoes.length, 3);
  r.link.echoes.forEach((e, i) => {
    t.like(e.eth, { dst: PEER.mac, src: US.mac, vlan: [], etherType: EtherType.Ipv4 });
    t.like(e.ip, { src: US.ip, dst: PEER.ip, protocol: 1, ttl: 64, payloadLen: 64, dontFragment: true, moreFragments: false, fragmentOffset: 0 });
    t.like(e.icmp, { type: 'request', id: ID, seq: i + 1 });
    // ping's default 56 data bytes, the pattern 0x00, 0x01, ...
    t.deepEqual(Uint8Array.from(e.icmp.payload), Uint8Array.from({ length: 56 }, (_, j) => j));
    t.is(e.bytes.length, 14 + 20 + 8 + 56);
  });
  // Byte for byte the request the kernel answered (id 0x1234, seq 1).
  t.deepEqual(Uint8Array.from(r.link.echoes[0]!.bytes), ECHO_REQUEST);
});

test('replies are matched by id and seq; it ends at the count-th reply with a summary like ping', (t) => {
  const r = run(PEER.ip, { count: 3 }, { peers: [{ ...PEER, delayMs: 2 }] });
  t.deepEqual(timeline(r), ['resolved@1', 'sent1@1', 'reply1@3', 'sent2@1001', 'reply2@1003', 'sent3@2001', 'reply3@2003', 'done@2003']);
  t.is(r.completedAt, 2003);
  t.like(r.events[2]![1], { type: 'reply', seq: 1, ip: PEER.ip, ttl: 64, bytes: 64, rttNs: 2_000_000n, dup: false });
  t.like(r.summary, { transmitted: 3, received: 3, duplicates: 0, lossPercent: 0, exitCode: 0, elapsedMs: 2002 });
  t.like(r.summary?.rtt, { count: 3, minMs: 2, avgMs: 2, maxMs: 2, stddevMs: 0 });
});

test('RTT runs from when our request left, not from when it was queued', (t) => {
  const r = run(PEER.ip, { count: 1 }, { peers: [{ ...PEER, delayMs: 5 }], departureDelayMs: 2 });
  t.like(r.events.find(([, e]) => e.type === 'reply')?.[1], { rttNs: 3_000_000n });
});

test('frames not answering our requests are ignored: other id, other source, not to our MAC, unknown seq, requests', (t) => {
  const reply = { ethSrc: PEER.mac, ethDst: US.mac, src: PEER.ip, dst: US.ip, ttl: 64, type: 0, code: 0, id: ID, seq: 1, bytes: 64 };
  const r = run(
    PEER.ip,
    { count: 1, timeoutMs: 100 },
    {
      peers: [],
      setup: (link) => {
        link.inject({ ...reply, id: ID + 1 }, 10);
        link.inject({ ...reply, src: Ipv4.parse('192.0.2.3') }, 11);
        link.inject({ ...reply, ethDst: OTHER }, 12); // seen only by a promiscuous capture
        link.inject({ ...reply, dst: Ipv4.parse('192.0.2.9') }, 13);
        link.inject({ ...reply, seq: 2 }, 14); // never sent
        link.inject({ ...reply, type: 8, ethSrc: OTHER }, 15); // someone else's request
        link.inject({ ...reply, code: 1 }, 16);
      },
    },
  );
  t.deepEqual(timeline(r), ['resolved@1', 'sent1@1', 'done@101']);
  t.like(r.summary, { transmitted: 1, received: 0, lossPercent: 100, rtt: null, exitCode: 1 });
});

test('a second reply to one seq is a duplicate: reported, counted apart, not in the RTTs', (t) => {
  const r = run(PEER.ip, { count: 2 }, { peers: [{ ...PEER, dup: [1] }] });
  t.deepEqual(timeline(r), ['resolved@1', 'sent1@1', 'reply1@2', 'reply1dup@7', 'sent2@1001', 'reply2@1002', 'done@1002']);
  t.like(r.summary, { transmitted: 2, received: 2, duplicates: 1, exitCode: 0 });
  t.is(r.summary?.rtt?.count, 2);
});

test('with a lost reply it waits max(2 × longest RTT, interval) after the last request, then exits 0', (t) => {
  const r = run(PEER.ip, { count: 3 }, { peers: [{ ...PEER, delayMs: 1, drop: [2] }] });
  t.deepEqual(timeline(r), ['resolved@1', 'sent1@1', 'reply1@2', 'sent2@1001', 'sent3@2001', 'reply3@2002', 'done@3001']);
  t.like(r.summary, { transmitted: 3, received: 2, lossPercent: 100 / 3, exitCode: 0 });
});

test('with no reply at all it lingers -W after the last request and exits 1', (t) => {
  const dflt = run(PEER.ip, { count: 2 }, { peers: [] });
  t.deepEqual(timeline(dflt), ['resolved@1', 'sent1@1', 'sent2@1001', 'done@11001']);
  t.like(dflt.summary, { transmitted: 2, received: 0, exitCode: 1 });
  const short = run(PEER.ip, { count: 1, timeoutMs: 500 }, { peers: [] });
  t.deepEqual(timeline(short), ['resolved@1', 'sent1@1', 'done@501']);
});

test('-w with -c keeps sending past count until count replies come, exit 0; fewer by the deadline, exit 1', (t) => {
  const enough = run(PEER.ip, { count: 2, deadlineMs: 5000, intervalMs: 1000 }, { peers: [{ ...PEER, drop: [1, 2] }] });
  t.deepEqual(timeline(enough), ['resolved@1', 'sent1@1', 'sent2@1001', 'sent3@2001', 'reply3@2002', 'sent4@3001', 'reply4@3002', 'done@3002']);
  t.like(enough.summary, { transmitted: 4, received: 2, exitCode: 0 });
  const short = run(PEER.ip, { count: 3, deadlineMs: 2500 }, { peers: [{ ...PEER, drop: [1] }] });
  t.deepEqual(timeline(short), ['resolved@1', 'sent1@1', 'sent2@1001', 'reply2@1002', 'sent3@2001', 'reply3@2002', 'done@2500']);
  t.like(short.summary, { transmitted: 3, received: 2, exitCode: 1 });
  // -w alone: any reply means success.
  const alone = run(PEER.ip, { deadlineMs: 1500 }, { peers: [{ ...PEER, drop: [1] }] });
  t.like(alone.summary, { transmitted: 2, received: 1, exitCode: 0 });
});

test('stop$ ends it with a summary (SIGINT); unsubscribing stops requests and listening', (t) => {
  const stopped = run(PEER.ip, { stop$: timer(2500) });
  t.deepEqual(timeline(stopped).slice(-2), ['reply3@2002', 'done@2500']);
  t.like(stopped.summary, { transmitted: 3, received: 3, exitCode: 0 });
  t.is(stopped.link.icmpObserved, false);

  // Interrupted before it began (Ctrl-C during interface discovery): a summary, and nothing on the wire.
  const early = run(PEER.ip, { stop$: of(0) });
  t.deepEqual(timeline(early), ['done@0']);
  t.is(early.link.arpLink.sent.length + early.link.echoes.length, 0);
  t.like(early.summary, { transmitted: 0, received: 0, lossPercent: 0, exitCode: 1 });

  const dropped = run(PEER.ip, {}, { unsubscribeAt: 1500 });
  t.is(dropped.link.echoes.length, 2);
  t.is(dropped.summary, undefined);
  t.is(dropped.link.icmpObserved, false);
  t.is(dropped.link.arpLink.subscribers, 0);
});

test('an off-link target: ARP asks for the gateway, frames go to its MAC with the far target as IPv4 destination', (t) => {
  const r = run(FAR, { count: 1, nextHop: GW.ip }, { arp: [{ ...GW, delayMs: 1 }], peers: [{ ip: FAR, mac: GW.mac, ttl: 61 }] });
  t.like(r.link.arpLink.sent[0]!.frame.arp, { targetIp: GW.ip });
  t.like(r.events[0]![1], { type: 'resolved', nextHop: GW.ip, mac: GW.mac });
  t.like(r.link.echoes[0], { eth: { dst: GW.mac }, ip: { dst: FAR } });
  t.like(r.events.find(([, e]) => e.type === 'reply')?.[1], { ip: FAR, ttl: 61 });
  t.like(r.summary, { received: 1, exitCode: 0 });
});

test('a known next hop MAC skips ARP', (t) => {
  const r = run(PEER.ip, { count: 1, nextHopMac: PEER.mac }, { arp: [] });
  t.is(r.link.arpLink.sent.length, 0);
  t.like(r.events[0]![1], { type: 'resolved', mac: PEER.mac, rttNs: null });
  t.like(r.summary, { received: 1 });
});

test('a silent next hop errors with ResolveTimeoutError and sends no echo request', (t) => {
  const r = run(PEER.ip, { count: 1, resolve: { tries: 2, intervalMs: 100 } }, { arp: [] });
  t.true(r.error instanceof ResolveTimeoutError);
  t.is(r.link.arpLink.sent.length, 2);
  t.is(r.link.echoes.length, 0);
});

test('-s and -t shape the request; a tagged link tags it', (t) => {
  const r = run(PEER.ip, { count: 1, payloadBytes: 0, ttl: 3 }, { vlan: 42 });
  const e = r.link.echoes[0]!;
  t.deepEqual(e.eth.vlan.map((v) => [v.tpid, v.vid]), [[0x8100, 42]]);
  t.like(e.ip, { ttl: 3, payloadLen: 8 });
  t.is(e.icmp.payload.length, 0);
  // Padded to the 60-byte minimum plus the 4-byte tag.
  t.is(e.bytes.length, 64);
  t.like(r.summary, { received: 1 });
});

test('options outside their domain throw OptionError at once', (t) => {
  const link = new FakeIcmpLink(new TestScheduler(() => undefined), [], []);
  for (const o of [{ count: 0 }, { intervalMs: 0 }, { payloadBytes: 1473 }, { ttl: 0 }, { ttl: 256 }, { id: 65536 }, { timeoutMs: -1 }, { nextHopMac: Mac.BROADCAST }] as PingOptions[]) {
    t.throws(() => ping$(link, PEER.ip, o), { instanceOf: OptionError }, JSON.stringify(o));
  }
});
