// ping$ and ICMP errors, on frames a Linux router sent about ersatz's echo requests (namespace lab: us 198.51.100.1,
// router 198.51.100.2; MACs rewritten to 02:00:00:00:00:0a/0b). Each frame goes through the decode worker's
// FrameDecoder and readEvent, as the pipeline hands it to the main thread, then to ping$: the matching rule
// (identifier, sequence, the quoted request's addresses), iputils' end conditions and counts, and the MTU limit.
import test from 'ava';
import { NEVER, Subject, VirtualTimeScheduler, type Observable } from 'rxjs';
import { FrameDecoder, Outcome, readEvent } from '@ersatz/decode-worker';
import { emitIcmpEchoFrame, EthernetFrame, IcmpEchoRepr, Icmpv4Packet, Ipv4, Ipv4Packet, Mac, type Mac as MacT } from '@ersatz/wire';
import { OptionError, ping$, type IcmpLink, type IcmpObservation, type PingEvent, type PingOptions } from '@ersatz/resolve';
import { hex } from './fixtures/wire/helpers.js';

const US = { ip: Ipv4.parse('198.51.100.1'), mac: Mac.parse('02:00:00:00:00:0a') };
const ROUTER = { ip: Ipv4.parse('198.51.100.2'), mac: Mac.parse('02:00:00:00:00:0b') };
const ETH = '0200 0000 000a 0200 0000 000b 0800';
const QUOTED_DATA = `0001 0203 0405 0607 0809 0a0b 0c0d 0e0f 1011 1213 1415 1617 1819 1a1b 1c1d 1e1f 2021 2223 2425 2627 2829
  2a2b 2c2d 2e2f 3031 3233 3435 3637`;

// `ip route add unreachable 10.9.0.0/16` on the router. tcpdump -n -e: 198.51.100.2 > 198.51.100.1: ICMP host
// 10.9.0.5 unreachable, length 92 (quoting our echo request id 22939, seq 1)
const UNREACHABLE = { target: Ipv4.parse('10.9.0.5'), id: 22939 };
const HOST_UNREACHABLE = hex(`${ETH} 45c0 0070 5b99 0000 4001 c9c9 c633 6402 c633 6401
  0301 fcfe 0000 0000 4500 0054 0000 4000 4001 0667 c633 6401 0a09 0005 0800 a750 599b 0001 ${QUOTED_DATA}`);
// Our request with TTL 1 through the router: ICMP time exceeded in-transit, length 92 (id 61776, seq 1)
const TIME_EXCEEDED = hex(`${ETH} 45c0 0070 5c00 0000 4001 c962 c633 6402 c633 6401
  0b00 f4ff 0000 0000 4500 0054 0000 4000 0101 1327 c633 6401 cb00 714d 0800 0f9b f150 0001 ${QUOTED_DATA}`);
// The router's route to 203.0.113.0/24 points back at us: ICMP redirect 203.0.113.77 to host 198.51.100.1 (id 32957)
const REDIRECT = hex(`${ETH} 45c0 0070 5c7b 0000 4001 c8e7 c633 6402 c633 6401
  0501 d0c9 c633 6401 4500 0054 0000 4000 3f01 d526 c633 6401 cb00 714d 0800 802e 80bd 0001 ${QUOTED_DATA}`);
const FAR = Ipv4.parse('203.0.113.77');

// Byte offsets in these frames: the ICMP error at 34, the quoted IPv4 header at 42, the quoted echo at 62.
const AT = { ETH_DST: 0, IP_DST: 30, QUOTED_SRC: 54, QUOTED_DST: 58, QUOTED_ID: 66, QUOTED_SEQ: 68 } as const;

/** The frame with bytes replaced at `at`, its checksums refreshed (so the decoder takes it: only the edit differs). */
function edited(frame: Uint8Array, at: number, bytes: readonly number[]): Uint8Array {
  const copy = frame.slice();
  copy.set(bytes, at);
  const ip = Ipv4Packet.checked(EthernetFrame.checked(copy).payload);
  ip.fillChecksum();
  Icmpv4Packet.checked(ip.payload).fillChecksum();
  return copy;
}

/** An IcmpLink whose captured frames go through the decode worker's decoder; ARP is never needed (nextHopMac). */
class DecodingLink implements IcmpLink {
  readonly ifname = 'ez0';
  readonly mac = US.mac;
  readonly ip = US.ip;
  readonly arp$ = NEVER;
  readonly sent: Uint8Array[] = [];
  readonly #icmp = new Subject<IcmpObservation>();
  readonly icmp$: Observable<IcmpObservation> = this.#icmp.asObservable();
  readonly #decoder = new FrameDecoder();

  constructor(readonly onSend: (frame: Uint8Array) => void = () => {}) {}

  send(frame: Uint8Array): number {
    this.onSend(frame);
    return this.sent.push(frame.slice()) - 1;
  }
  departures(): number {
    return this.sent.length;
  }
  departedNs(): null {
    return null; // RTTs run from link.now() at send
  }
  now(): bigint {
    return 0n;
  }
  heardUntilNs(): bigint {
    return 0n;
  }
  /** Captures a frame: decoded as the worker does, handed on as the pipeline's event. Returns the decode outcome. */
  receive(frame: Uint8Array): Outcome {
    const outcome = this.#decoder.decode(frame);
    if (outcome === Outcome.Event) {
      const e = readEvent(this.#decoder.event, this.now());
      if (e.kind === 'icmp') this.#icmp.next(e);
    }
    return outcome;
  }
}

function run(link: DecodingLink, target: Ipv4, options: PingOptions, scheduler = new VirtualTimeScheduler()): { events: PingEvent[]; done: () => boolean; scheduler: VirtualTimeScheduler } {
  const events: PingEvent[] = [];
  let completed = false;
  ping$(link, target, { nextHopMac: ROUTER.mac, scheduler, ...options }).subscribe({ next: (e) => events.push(e), complete: () => (completed = true) });
  return { events, done: () => completed, scheduler };
}

const of = <T extends PingEvent['type']>(events: PingEvent[], type: T) => events.filter((e): e is Extract<PingEvent, { type: T }> => e.type === type);

test('an error that quotes our request ends the run at once: reported, counted as an error, exit 1', (t) => {
  const link = new DecodingLink();
  const r = run(link, UNREACHABLE.target, { id: UNREACHABLE.id, count: 1 });
  t.is(link.sent.length, 1);
  t.is(link.receive(HOST_UNREACHABLE), Outcome.Event);
  t.true(r.done(), 'no -W wait: the run completed on the error, with no virtual time passing');
  t.is(r.scheduler.now(), 0);
  t.like(of(r.events, 'error'), [{ seq: 1, from: ROUTER.ip, icmpType: 3, code: 1, info: 0 }]);
  t.like(of(r.events, 'done')[0]?.summary, { transmitted: 1, received: 0, errors: 1, lossPercent: 100, exitCode: 1 });
});

test('errors about other requests are ignored: identifier, sequence, quoted source or target, not addressed to us', (t) => {
  const link = new DecodingLink();
  const r = run(link, UNREACHABLE.target, { id: UNREACHABLE.id, count: 1 });
  const others = {
    'another identifier': edited(HOST_UNREACHABLE, AT.QUOTED_ID, [0x59, 0x9c]),
    'a sequence number never sent': edited(HOST_UNREACHABLE, AT.QUOTED_SEQ, [0x00, 0x02]),
    "another host's request": edited(HOST_UNREACHABLE, AT.QUOTED_SRC, [198, 51, 100, 3]),
    'a request to another target': edited(HOST_UNREACHABLE, AT.QUOTED_DST, [10, 9, 0, 6]),
    'unicast to another MAC': edited(HOST_UNREACHABLE, AT.ETH_DST, [2, 0, 0, 0, 0, 0x0c]),
    'addressed to another IP': edited(HOST_UNREACHABLE, AT.IP_DST, [198, 51, 100, 3]),
  };
  for (const [what, frame] of Object.entries(others)) {
    // The decoder hands each on (so this is ping$'s rule, not the decoder's), and ping$ drops it.
    t.is(link.receive(frame), Outcome.Event, what);
    t.deepEqual(of(r.events, 'error'), [], what);
    t.false(r.done(), what);
  }
  link.receive(HOST_UNREACHABLE);
  t.like(of(r.events, 'done')[0]?.summary, { errors: 1 });
});

test('Time Exceeded is an error; with a deadline the first error ends the run, as iputils', (t) => {
  const link = new DecodingLink();
  const r = run(link, FAR, { id: 61776, count: 3, deadlineMs: 10_000 });
  link.receive(TIME_EXCEEDED);
  t.like(of(r.events, 'error'), [{ seq: 1, icmpType: 11, code: 0 }]);
  t.true(r.done());
  t.like(of(r.events, 'done')[0]?.summary, { transmitted: 1, errors: 1, exitCode: 1 });
});

test('a Redirect is reported with its gateway but counted as nothing: the router forwarded the request', (t) => {
  const link = new DecodingLink();
  const stop$ = new Subject<void>();
  const r = run(link, FAR, { id: 32957, count: 1, stop$ });
  link.receive(REDIRECT);
  t.like(of(r.events, 'redirect'), [{ seq: 1, from: ROUTER.ip, code: 1, gateway: US.ip }]);
  t.false(r.done());
  stop$.next();
  t.like(of(r.events, 'done')[0]?.summary, { transmitted: 1, received: 0, errors: 0, exitCode: 1 });
});

test('replies + errors reach the count: one error and one reply end a -c 2 run with exit 0', (t) => {
  // The router answers the second request (as when a route comes back): an echo reply built with the wire codec.
  const reply = (frame: Uint8Array): void => {
    const echo = IcmpEchoRepr.parse(Icmpv4Packet.checked(Ipv4Packet.checked(EthernetFrame.checked(frame).payload).payload));
    if (echo.seq !== 2) return;
    const out = new Uint8Array(14 + 28 + echo.payload.length);
    emitIcmpEchoFrame(out, { dst: US.mac, src: ROUTER.mac as MacT, ipSrc: UNREACHABLE.target, ipDst: US.ip, type: 'reply', id: echo.id, seq: 2, payload: echo.payload });
    scheduler.schedule(() => link.receive(out), 1); // captured 1 ms later, long before the -W wait would end
  };
  const scheduler = new VirtualTimeScheduler();
  const link: DecodingLink = new DecodingLink((f) => reply(f));
  const r = run(link, UNREACHABLE.target, { id: UNREACHABLE.id, count: 2, intervalMs: 200 }, scheduler);
  link.receive(HOST_UNREACHABLE);
  t.false(r.done());
  scheduler.flush(); // the second request goes out at 200 ms, its reply comes at 201
  t.true(r.done());
  t.is(scheduler.now(), 201);
  t.like(of(r.events, 'done')[0]?.summary, { transmitted: 2, received: 1, errors: 1, lossPercent: 50, exitCode: 0 });
});

test('the payload limit is the MTU less 28 (IPv4 + ICMP headers): one unfragmented frame', (t) => {
  const link = new DecodingLink();
  t.throws(() => ping$(link, FAR, { payloadBytes: 1473 }), { instanceOf: OptionError, message: 'ping: invalid payloadBytes 1473: expected an integer in 0..1472' });
  t.throws(() => ping$(link, FAR, { mtu: 9000, payloadBytes: 8973 }), { instanceOf: OptionError });
  t.throws(() => ping$(link, FAR, { mtu: 67 }), { instanceOf: OptionError });
  const r = run(link, FAR, { mtu: 9000, payloadBytes: 8972, count: 1 });
  t.is(link.sent[0]?.length, 14 + 9000, 'a 9000-byte datagram in one frame');
  t.is(of(r.events, 'sent').length, 1);
  run(link, FAR, { payloadBytes: 0, count: 1 });
  t.is(link.sent[1]?.length, 60, 'padded to the Ethernet minimum');
});
