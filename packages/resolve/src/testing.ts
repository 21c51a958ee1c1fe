// Test doubles for code built on ArpLink: a link on a virtual clock whose peers answer like the Linux kernel.
import { defer, finalize, Subject, type Observable, type SchedulerLike } from 'rxjs';
import { ArpOp, emitArpFrame, Ipv4, Mac, parseArpFrame, type ArpFrame, type ArpRepr } from '@ersatz/wire';
import type { ArpLink, ArpObservation } from './link.js';

/** A neighbour on the fake link. */
export interface FakeHost {
  readonly ip: Ipv4;
  readonly mac: Mac;
  /** Delay before it answers (default 1 ms of scheduler time). */
  readonly delayMs?: number;
  /** Requests it ignores before answering (default 0): a lossy path. */
  readonly drop?: number;
  /** Ethernet source of its replies when not `mac` (a proxy, or a spoofer). */
  readonly ethSrc?: Mac;
  /** Broadcast its replies (some stacks do) instead of unicasting them to the asker. */
  readonly broadcastReplies?: boolean;
}

export interface FakeLinkOptions {
  readonly scheduler: SchedulerLike;
  readonly mac?: Mac;
  readonly ip?: Ipv4;
  /** The interface's addresses (default: `[ip]`). */
  readonly addresses?: readonly Ipv4[];
  readonly ifname?: string;
  readonly vlan?: number;
  readonly hosts?: readonly FakeHost[];
  /**
   * Delay before a frame leaves (and is answered), past its notBeforeNs: a transmit queue running behind the
   * schedule. Default 0, i.e. the next turn of the scheduler.
   */
  readonly departureDelayMs?: number;
  /** Show our own frames on `arp$` as they leave, as a link capturing both directions does (default false). */
  readonly captureOwn?: boolean;
  /**
   * How far behind the capture the consumer is: a frame captured at t reaches `arp$` at t + this, stamped t, and
   * heardUntilNs() trails now() by it (default 0). A main thread that has fallen behind a sweep.
   */
  readonly deliveryLagMs?: number;
}

/** One `send` call, as the fake recorded it. */
export interface SentFrame {
  /** Scheduler time of the call. */
  readonly atMs: number;
  readonly bytes: Uint8Array;
  readonly notBeforeNs: bigint | undefined;
  /** The bytes parsed back with @ersatz/wire (so a test also proves they parse). */
  readonly frame: ArpFrame;
}

// Time zero of the fake monotonic clock: far from 0 so that a bug computing from 0n shows.
const EPOCH_NS = 1_000_000_000_000n;

/**
 * An ArpLink on a scheduler's clock (a TestScheduler in tests). What is sent is recorded, leaves (departedNs) on
 * the next turn of the scheduler or later, and is echoed on `arp$` with `captureOwn`; each FakeHost answers
 * requests for its IP as Linux's arp_process does: only a request
 * that is broadcast or unicast to it, never a gratuitous one (sender IP = target IP), a reply to the request's
 * `ar$sha` with `ar$tpa` = the request's `ar$spa` (0.0.0.0 for an RFC 5227 probe). Nothing touches a real network.
 */
export class FakeLink implements ArpLink {
  readonly ifname: string;
  readonly mac: Mac;
  readonly ip: Ipv4;
  readonly addresses: readonly Ipv4[];
  readonly vlan?: number;
  readonly arp$: Observable<ArpObservation>;
  readonly sent: SentFrame[] = [];
  /** `subscribe@t`, `unsubscribe@t`, `send@t`: the order things happened in, with scheduler times. */
  readonly log: string[] = [];
  readonly #subject = new Subject<ArpObservation>();
  readonly #scheduler: SchedulerLike;
  readonly #hosts: FakeHost[];
  readonly #asked = new Map<FakeHost, number>();
  readonly #departureDelayMs: number;
  readonly #captureOwn: boolean;
  readonly #deliveryLagMs: number;
  /** Per ticket: when it left (ns), -1n while queued, 0n lost. */
  readonly #left: bigint[] = [];
  #departures = 0;
  readonly #recovered = new Subject<void>();
  #subscribers = 0;
  #losing = false;

  /** See ArpLink.recovered$: emits on `recover()`. */
  readonly recovered$: Observable<void> = this.#recovered.asObservable();

  constructor(options: FakeLinkOptions) {
    this.#scheduler = options.scheduler;
    this.ifname = options.ifname ?? 'fake0';
    this.mac = options.mac ?? Mac.parse('02:00:00:00:00:0a');
    this.ip = options.ip ?? Ipv4.parse('192.0.2.1');
    this.addresses = options.addresses ?? [this.ip];
    if (options.vlan !== undefined) this.vlan = options.vlan;
    this.#hosts = [...(options.hosts ?? [])];
    this.#departureDelayMs = options.departureDelayMs ?? 0;
    this.#captureOwn = options.captureOwn ?? false;
    this.#deliveryLagMs = options.deliveryLagMs ?? 0;
    this.arp$ = defer(() => {
      this.#subscribers++;
      this.log.push(`subscribe@${this.#scheduler.now()}`);
      return this.#subject.pipe(
        finalize(() => {
          this.#subscribers--;
          this.log.push(`unsubscribe@${this.#scheduler.now()}`);
        }),
      );
    });
  }

  /** Subscribers to `arp$` right now. */
  get subscribers(): number {
    return this.#subscribers;
  }

  now(): bigint {
    return EPOCH_NS + BigInt(Math.round(this.#scheduler.now() * 1e6));
  }

  /** Converts a scheduler time (ms) to this link's clock. */
  nsAt(ms: number): bigint {
    return EPOCH_NS + BigInt(Math.round(ms * 1e6));
  }

  send(bytes: Uint8Array, notBeforeNs?: bigint): number {
    const copy = bytes.slice();
    const frame = parseArpFrame(copy);
    this.log.push(`send@${this.#scheduler.now()}`);
    this.sent.push({ atMs: this.#scheduler.now(), bytes: copy, notBeforeNs, frame });
    const ticket = this.#left.length;
    if (this.#losing) {
      this.#left.push(0n); // a dead worker: recorded as sent, never on the wire
      return ticket;
    }
    this.#left.push(-1n);
    // A paced frame leaves (and is captured, and answered) no earlier than notBeforeNs.
    const waitMs = notBeforeNs === undefined ? 0 : Math.max(0, Number(notBeforeNs - this.now()) / 1e6);
    this.#scheduler.schedule(() => {
      this.#left[ticket] = this.now();
      if (this.#captureOwn) this.#emit(frame);
      this.#answer(frame);
    }, waitMs + this.#departureDelayMs);
    return ticket;
  }

  heardUntilNs(): bigint {
    return this.nsAt(this.#scheduler.now() - this.#deliveryLagMs);
  }

  departures(): number {
    while (this.#departures < this.#left.length && this.#left[this.#departures] !== -1n) this.#departures++;
    return this.#departures;
  }

  departedNs(ticket: number): bigint | null {
    const ns = this.#left[ticket];
    return ns === undefined || ns <= 0n ? null : ns;
  }

  /**
   * From now on, until `recover()`, frames sent are lost (recorded in `sent` but never captured or answered), as
   * when a pipeline worker dies with them.
   */
  fail(): void {
    this.#losing = true;
  }

  /** Ends a `fail()` and emits on recovered$, as a pipeline does once it has restarted a worker. */
  recover(): void {
    this.#losing = false;
    this.#recovered.next();
  }

  /** Adds a neighbour (for example a second MAC claiming an address) from now on. */
  addHost(host: FakeHost): void {
    this.#hosts.push(host);
  }

  /**
   * Puts a frame on the wire after `delayMs` (default 0), as another station would: captured with that time. `vlan`
   * undefined means the link's own tag; null means untagged.
   */
  inject(frame: { ethSrc: Mac; ethDst: Mac; vlan?: number | null; arp: ArpRepr }, delayMs = 0): void {
    this.#scheduler.schedule(() => this.#emit({ ethSrc: frame.ethSrc, ethDst: frame.ethDst, vlan: frame.vlan === undefined ? (this.vlan ?? null) : frame.vlan, arp: frame.arp }), delayMs);
  }

  /** Frames this link has sent, as Ethernet frames a host would emit (for byte-level assertions). */
  static bytesOf(frame: { dst: Mac; src: Mac; vlan?: number; arp: ArpRepr }): Uint8Array {
    const buf = new Uint8Array(64);
    return buf.slice(0, emitArpFrame(buf, frame));
  }

  #emit(f: ArpFrame): void {
    const obs = { tsNs: this.now(), ethSrc: f.ethSrc, ethDst: f.ethDst, vlan: f.vlan, arp: f.arp };
    if (this.#deliveryLagMs === 0) this.#subject.next(obs);
    else this.#scheduler.schedule(() => this.#subject.next(obs), this.#deliveryLagMs);
  }

  #answer(req: ArpFrame): void {
    const a = req.arp;
    if (a.operation !== ArpOp.Request || a.senderIp === a.targetIp) return;
    for (const host of this.#hosts) {
      if (a.targetIp !== host.ip || (req.ethDst !== Mac.BROADCAST && req.ethDst !== host.mac)) continue;
      const asked = (this.#asked.get(host) ?? 0) + 1;
      this.#asked.set(host, asked);
      if (asked <= (host.drop ?? 0)) continue;
      const reply: ArpRepr = { operation: ArpOp.Reply, senderMac: host.mac, senderIp: host.ip, targetMac: a.senderMac, targetIp: a.senderIp };
      this.inject({ ethSrc: host.ethSrc ?? host.mac, ethDst: host.broadcastReplies ? Mac.BROADCAST : a.senderMac, vlan: req.vlan, arp: reply }, host.delayMs ?? 1);
    }
  }
}
