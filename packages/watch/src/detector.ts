// What the ARP on a LAN says about its stations, judged: new stations, addresses that moved, MACs that took another
// address, stations gone silent and back, senders that cannot be stations (bogons), MACs flooding ARP. Pure: it is fed
// sightings with their own clock (live: the wall clock; replay: the capture's timestamps), so a capture replayed
// twice gives the same events, and every rule is testable without a network.
//
// A move (an IP seen from another MAC than its station's) is not reported at once: it is a suspect until it is
// verified, by asking both MACs directly (live; see Detector.settle) or, replaying a capture, by what the capture shows
// in the window after it. Only the new MAC answers: the station was replaced. Only the old one: the new MAC claims an
// address it does not answer for, a spoofer. Both: two stations hold one address, a conflict, or spoofing when the
// new MAC is a station with an address of its own (a host that claims a second one it was never seen to use).
import { Ipv4, Mac, type Cidr } from '@ersatz/wire';

/** How a station was seen: ARP request or reply from it, a gratuitous ARP, an answer to our sweep, the kernel's table. */
export type SeenAs = 'request' | 'reply' | 'gratuitous' | 'sweep' | 'kernel';

/** One station speaking for one address (0.0.0.0: an RFC 5227 probe, which claims none but counts as a frame). */
export interface Sighting {
  readonly atMs: number;
  readonly ifname: string;
  readonly ip: Ipv4;
  readonly mac: Mac;
  readonly seenAs: SeenAs;
  /** A frame's Ethernet source (absent for a sweep's or the kernel's answer): who sent it, whatever ARP says. */
  readonly ethSrc?: Mac;
  /** A frame's outermost 802.1Q VLAN id: another broadcast domain, whose stations are kept apart as `IF.VID`. */
  readonly vlan?: number | null;
  /** The ids of the tags under it (802.1ad Q-in-Q: the customer's VLAN), outermost first: `IF.SVID.CVID`. */
  readonly innerVlans?: readonly number[];
}

/**
 * Why a sender cannot be a station: outside every local subnet (link-local 169.254/16 is on every link, RFC 3927),
 * not a host address (0/8, loopback, 224/3, a subnet's network or broadcast address; RFC 1122 3.2.1.3), or a group or
 * all-zero MAC (a router must not believe an ARP reply that gives a host a broadcast or multicast address, RFC 1812
 * 3.3.2: Microsoft NLB's multicast mode is reported here, not kept).
 */
export type BogonReason = 'outside' | 'address' | 'group-mac' | 'zero-mac';

export interface Station {
  readonly ifname: string;
  readonly ip: Ipv4;
  mac: Mac;
  vendor: string | null;
  firstSeenMs: number;
  lastSeenMs: number;
  /** Every way it has been seen, in first-seen order. */
  seenAs: SeenAs[];
  silent: boolean;
}

export type Verdict = 'replaced' | 'conflict' | 'spoofing' | 'unverified';
export type Severity = 'info' | 'warning' | 'alarm';

interface EventBase {
  readonly atMs: number;
  readonly ifname: string;
  readonly severity: Severity;
}
export type WatchEvent = EventBase &
  (
    | { readonly kind: 'new'; readonly ip: Ipv4; readonly mac: Mac; readonly vendor: string | null; readonly seenAs: SeenAs }
    | { readonly kind: 'new-ip'; readonly ip: Ipv4; readonly mac: Mac; readonly vendor: string | null; readonly previousIps: readonly Ipv4[] }
    | {
        /** `gateway-moved`: the same, for the interface's default gateway. */
        readonly kind: 'moved' | 'gateway-moved';
        readonly ip: Ipv4;
        readonly from: Mac;
        readonly to: Mac;
        readonly verdict: Verdict;
        /** How it was verified: unicast requests to both MACs, or what the capture showed after the move. */
        readonly verifiedBy: 'probe' | 'capture';
        /** The MACs that answered for (probe) or spoke for (capture) the address. */
        readonly answered: readonly Mac[];
        /** spoofing: the MAC claiming an address that is not its own. */
        readonly forger: Mac | null;
        /** The station's MAC from now on. */
        readonly mac: Mac;
      }
    | { readonly kind: 'silent'; readonly ip: Ipv4; readonly mac: Mac; readonly lastSeenMs: number }
    | { readonly kind: 'back'; readonly ip: Ipv4; readonly mac: Mac; readonly silentForMs: number }
    /** A sender that cannot be a station (see BogonReason): reported, not kept. An alarm when it claims the gateway. */
    | { readonly kind: 'bogon'; readonly ip: Ipv4; readonly mac: Mac; readonly seenAs: SeenAs; readonly reason: BogonReason }
    /**
     * arpwatch's "ethernet mismatch": the frame's Ethernet source is not the MAC its ARP names. Said once per
     * address, MAC and source; the sighting still counts, under the ARP's MAC (the one a neighbour caches), since
     * MAC-NAT bridges and bonding (balance-alb) do this for a living and a forger does it to poison a cache.
     */
    | { readonly kind: 'mismatch'; readonly ip: Ipv4; readonly mac: Mac; readonly ethSrc: Mac; readonly seenAs: SeenAs }
    /** `mac`: the frames' Ethernet source, whatever MACs their ARP named. */
    | { readonly kind: 'flood'; readonly mac: Mac; readonly frames: number; readonly windowMs: number }
  );
export type EventKind = WatchEvent['kind'];
export const EVENT_KINDS: readonly EventKind[] = ['new', 'new-ip', 'moved', 'gateway-moved', 'silent', 'back', 'bogon', 'mismatch', 'flood'];

/** What the detector knows of one watched interface. */
export interface WatchedInterface {
  readonly ifname: string;
  /** Ours, whose frames never count as a flood; null replaying (no frame in a capture is ours). */
  readonly mac: Mac | null;
  /** Its IPv4 subnets: a sender outside all of them is a bogon (none: no such rule, a replay told no subnet). */
  readonly subnets: readonly Cidr[];
  readonly gateway: Ipv4 | null;
}

export interface DetectorOptions {
  /** A station unseen this long is reported silent (default 10 minutes). */
  readonly silentAfterMs?: number;
  /** ARP frames from one Ethernet source within a second above which it is reported flooding (default 100; ours never count). */
  readonly floodPerSecond?: number;
  /** Replay: how long after a move the capture is watched for the old MAC (default 2 s). */
  readonly captureVerifyMs?: number;
  /** After a conflict or spoofing verdict, the same claim is not judged again for this long (default 60 s). */
  readonly repeatAfterMs?: number;
  readonly vendorOf?: (mac: Mac) => string | null;
}

/** A move waiting for its verdict. */
export interface Suspect {
  readonly ifname: string;
  readonly ip: Ipv4;
  readonly from: Mac;
  readonly to: Mac;
  readonly atMs: number;
}

interface PendingMove extends Suspect {
  /** Capture evidence: each MAC spoke for the address after the move. */
  fromSpoke: boolean;
  toSpoke: boolean;
}

const key = (ifname: string, ip: Ipv4): string => `${ifname}/${ip}`;
const UNTAGGED: readonly number[] = [];
/** Bogon and mismatch senders remembered (reported once each); past this the oldest is forgotten, so a spray stays bounded. */
const MAX_SAID = 4096;
/** How long a MAC's rate window, or a judged claim, is kept after it last mattered. */
const FORGET_MS = 60_000;

export class Detector {
  readonly #interfaces = new Map<string, WatchedInterface>();
  /** `IF.VID` per tagged domain seen: no subnet or gateway is known there. */
  readonly #tagged = new Map<string, WatchedInterface>();
  readonly #stations = new Map<string, Station>();
  /** The addresses each MAC holds, per interface (`ifname/mac`). */
  readonly #ipsOf = new Map<string, Set<Ipv4>>();
  readonly #pending = new Map<string, PendingMove>();
  /** `ifname/ip/mac` → until when a judged claim is not judged again. */
  readonly #judged = new Map<string, number>();
  /** The bogons and mismatches already reported (see #once), in insertion order: the oldest first. */
  readonly #said = new Set<string>();
  readonly #rate = new Map<string, { windowStartMs: number; frames: number; reportedMs: number }>();
  #dirty = new Set<Station>();
  #events: WatchEvent[] = [];
  #lastTickMs = -Infinity;
  /** The first clock reading: stations loaded from an earlier run fall silent no earlier than this one began. */
  #sinceMs = NaN;
  readonly #silentAfterMs: number;
  readonly #floodPerSecond: number;
  readonly #captureVerifyMs: number;
  readonly #repeatAfterMs: number;
  readonly #vendorOf: (mac: Mac) => string | null;

  constructor(interfaces: readonly WatchedInterface[], options: DetectorOptions = {}) {
    for (const i of interfaces) this.#interfaces.set(i.ifname, i);
    this.#silentAfterMs = options.silentAfterMs ?? 600_000;
    this.#floodPerSecond = options.floodPerSecond ?? 100;
    this.#captureVerifyMs = options.captureVerifyMs ?? 2000;
    this.#repeatAfterMs = options.repeatAfterMs ?? 60_000;
    this.#vendorOf = options.vendorOf ?? (() => null);
  }

  /** Watches one more interface (a capture's second one); one already watched stays as it is. */
  watch(i: WatchedInterface): void {
    if (!this.#interfaces.has(i.ifname)) this.#interfaces.set(i.ifname, i);
  }

  /** Stations known from an earlier run (the database): they are not new. */
  load(stations: Iterable<Station>): void {
    for (const s of stations) {
      this.#stations.set(key(s.ifname, s.ip), s);
      this.#holds(s.ifname, s.mac).add(s.ip);
    }
  }

  get stations(): IterableIterator<Station> {
    return this.#stations.values();
  }

  /**
   * One ARP frame's sender, or a sweep's or the kernel's answer. Returns the suspect move it raised, if any: the caller
   * verifies it (settle) or, replaying, leaves it to the capture (`verifyByCapture`).
   */
  observe(s: Sighting, verifyByCapture = false): Suspect | null {
    this.tick(s.atMs);
    const base = this.#interfaces.get(s.ifname);
    if (base === undefined) return null;
    // VLAN 0 is a priority tag (802.1Q), as VoIP phones send: the network it is in, not one of its own. A VLAN that
    // is itself watched (-I eth0 -I eth0.10, or eth0.200 for eth0.200.2001) is judged there, not twice.
    const ids = s.vlan === undefined || s.vlan === null ? UNTAGGED : [s.vlan, ...(s.innerVlans ?? [])].filter((v) => v !== 0);
    let domain = base.ifname;
    for (const id of ids) {
      domain += `.${id}`;
      if (this.#interfaces.has(domain)) return null;
    }
    const iface = ids.length > 0 ? this.#taggedOf(base, domain) : base;
    // Every frame counts towards a flood, probes and bogons too: a flood need not claim addresses. Once a source's
    // flood is reported, its frames are the flood's for a minute, counted and not judged one by one (a spray of
    // sender MACs would be a line, a station or a move each).
    if (s.seenAs !== 'sweep' && s.seenAs !== 'kernel' && this.#countRate(s, iface)) return null;
    if (Ipv4.isUnspecified(s.ip)) return null;
    // Keyed by the domain it was seen in: the same address on two VLANs is two stations.
    if (iface !== base) s = { ...s, ifname: iface.ifname };
    const reason = bogonReason(s, iface);
    if (reason !== null) {
      this.#bogon(s, iface, reason);
      return null;
    }
    if (s.ethSrc !== undefined && s.ethSrc !== s.mac) {
      this.#once(`${s.ifname}/${s.ip}/${s.mac}/${s.ethSrc}`, { kind: 'mismatch', atMs: s.atMs, ifname: s.ifname, severity: 'warning', ip: s.ip, mac: s.mac, ethSrc: s.ethSrc, seenAs: s.seenAs });
    }
    const k = key(s.ifname, s.ip);
    const pending = this.#pending.get(k);
    if (pending !== undefined) {
      if (s.mac === pending.from) pending.fromSpoke = true;
      else if (s.mac === pending.to) pending.toSpoke = true;
    }
    const station = this.#stations.get(k);
    if (station === undefined) {
      this.#add(s);
      return null;
    }
    if (station.mac === s.mac) {
      this.#seen(station, s);
      return null;
    }
    // Another MAC speaks for a known address.
    if (pending !== undefined) return null; // already being judged
    const judged = `${k}/${s.mac}`;
    if ((this.#judged.get(judged) ?? -Infinity) > s.atMs) return null;
    // The claim itself is not an answer: like the questions it stands in for, only what follows it counts.
    const move: PendingMove = { ifname: s.ifname, ip: s.ip, from: station.mac, to: s.mac, atMs: s.atMs, fromSpoke: false, toSpoke: false };
    this.#pending.set(k, move);
    // On another VLAN there is no asking (we have no address there): the capture decides.
    return verifyByCapture || iface !== base ? null : move;
  }

  /**
   * The verdict on `suspect` from unicast requests to both MACs: `answered` holds those that answered for its
   * address. Emits the move event and, unless the old station kept the address, moves the station.
   */
  settle(suspect: Suspect, answered: readonly Mac[], atMs: number): void {
    const k = key(suspect.ifname, suspect.ip);
    if (this.#pending.get(k) !== suspect) return;
    this.#pending.delete(k);
    this.#judge(suspect, answered.includes(suspect.from), answered.includes(suspect.to), 'probe', atMs);
  }

  /**
   * Moves the clock: judges the moves whose capture window has passed (a VLAN's, a replay's, a live one whose probes
   * never came back), and at most once a second of `nowMs` reports every station unseen for the silence threshold
   * and forgets rate windows and judged claims no longer needed: memory follows the stations, not the frames.
   */
  tick(nowMs: number): void {
    if (Number.isNaN(this.#sinceMs)) this.#sinceMs = nowMs;
    this.#settleByCapture(nowMs);
    if (nowMs - this.#lastTickMs < 1000) return;
    this.#lastTickMs = nowMs;
    for (const [k, r] of this.#rate) if (nowMs - r.windowStartMs > FORGET_MS && nowMs - r.reportedMs > FORGET_MS) this.#rate.delete(k);
    for (const [k, until] of this.#judged) if (until <= nowMs) this.#judged.delete(k);
    for (const st of this.#stations.values()) {
      if (st.silent || nowMs - st.lastSeenMs <= this.#silentAfterMs) continue;
      st.silent = true;
      this.#dirty.add(st);
      // Stamped when it fell silent (a tick comes up to a second later), or when this run began for a station that
      // was already silent when it was loaded: no earlier than anyone watched.
      const atMs = Math.max(st.lastSeenMs + this.#silentAfterMs, this.#sinceMs);
      this.#emit({ kind: 'silent', atMs, ifname: st.ifname, severity: 'info', ip: st.ip, mac: st.mac, lastSeenMs: st.lastSeenMs });
    }
  }

  /**
   * The events and changed stations since the last call, the events in time order (a silence or a verdict is stamped
   * when it happened, which can be before events raised since): one batch for the database and the outputs.
   */
  take(): { events: WatchEvent[]; stations: Station[] } {
    const out = { events: this.#events.sort((a, b) => a.atMs - b.atMs), stations: [...this.#dirty] };
    this.#events = [];
    this.#dirty = new Set();
    return out;
  }

  /** Replay's end: the moves still waiting are judged on what the capture showed. */
  finish(): void {
    this.#settleByCapture(Infinity);
  }

  #settleByCapture(nowMs: number): void {
    if (this.#pending.size === 0) return;
    for (const [k, m] of this.#pending) {
      // Live moves are settled by their probes, which fire long before this (a missed settle must not hang them).
      if (nowMs - m.atMs < this.#captureVerifyMs) continue;
      this.#pending.delete(k);
      this.#judge(m, m.fromSpoke, m.toSpoke, 'capture', Math.min(nowMs, m.atMs + this.#captureVerifyMs));
    }
  }

  #judge(m: Suspect, fromAnswered: boolean, toAnswered: boolean, verifiedBy: 'probe' | 'capture', atMs: number): void {
    const station = this.#stations.get(key(m.ifname, m.ip));
    if (station === undefined) return;
    let verdict: Verdict;
    let forger: Mac | null = null;
    if (toAnswered && !fromAnswered) verdict = 'replaced';
    else if (fromAnswered && !toAnswered) {
      verdict = 'spoofing';
      forger = m.to;
    } else if (fromAnswered && toAnswered) {
      const toHoldsOther = [...(this.#ipsOf.get(`${m.ifname}/${m.to}`) ?? [])].some((ip) => ip !== m.ip);
      verdict = toHoldsOther ? 'spoofing' : 'conflict';
      if (toHoldsOther) forger = m.to;
    } else verdict = 'unverified';
    const keeps = verdict === 'conflict' || verdict === 'spoofing';
    if (keeps) this.#judged.set(`${key(m.ifname, m.ip)}/${m.to}`, atMs + this.#repeatAfterMs);
    else this.#move(station, m.to, atMs);
    const gateway = this.#interfaces.get(m.ifname)?.gateway === m.ip;
    const answered = [fromAnswered && m.from, toAnswered && m.to].filter((x): x is Mac => x !== false);
    const severity: Severity = gateway || verdict === 'spoofing' ? 'alarm' : 'warning';
    this.#emit({ kind: gateway ? 'gateway-moved' : 'moved', atMs, ifname: m.ifname, severity, ip: m.ip, from: m.from, to: m.to, verdict, verifiedBy, answered, forger, mac: station.mac });
  }

  #add(s: Sighting): void {
    const vendor = this.#vendorOf(s.mac);
    const st: Station = { ifname: s.ifname, ip: s.ip, mac: s.mac, vendor, firstSeenMs: s.atMs, lastSeenMs: s.atMs, seenAs: [s.seenAs], silent: false };
    this.#stations.set(key(s.ifname, s.ip), st);
    this.#dirty.add(st);
    const held = this.#holds(s.ifname, s.mac);
    const previousIps = [...held];
    held.add(s.ip);
    if (previousIps.length === 0) this.#emit({ kind: 'new', atMs: s.atMs, ifname: s.ifname, severity: 'info', ip: s.ip, mac: s.mac, vendor, seenAs: s.seenAs });
    else this.#emit({ kind: 'new-ip', atMs: s.atMs, ifname: s.ifname, severity: 'info', ip: s.ip, mac: s.mac, vendor, previousIps });
  }

  #seen(st: Station, s: Sighting): void {
    if (st.silent) {
      st.silent = false;
      this.#emit({ kind: 'back', atMs: s.atMs, ifname: s.ifname, severity: 'info', ip: st.ip, mac: st.mac, silentForMs: s.atMs - st.lastSeenMs });
    }
    if (s.atMs > st.lastSeenMs) st.lastSeenMs = s.atMs;
    if (!st.seenAs.includes(s.seenAs)) st.seenAs.push(s.seenAs);
    this.#dirty.add(st);
  }

  #move(st: Station, to: Mac, atMs: number): void {
    const held = this.#holds(st.ifname, st.mac);
    held.delete(st.ip);
    if (held.size === 0) this.#ipsOf.delete(`${st.ifname}/${st.mac}`);
    st.mac = to;
    st.vendor = this.#vendorOf(to);
    st.lastSeenMs = Math.max(st.lastSeenMs, atMs);
    st.silent = false;
    this.#holds(st.ifname, to).add(st.ip);
    this.#dirty.add(st);
  }

  /**
   * A bogon sender, reported once; but one claiming a station's or the gateway's address (a group or zero MAC there is
   * a blackholing attack's shape; the gateway's, an alarm) is said again each repeatAfterMs while it goes on, as a
   * judged move is.
   */
  #bogon(s: Sighting, iface: WatchedInterface, reason: BogonReason): void {
    const event: WatchEvent = { kind: 'bogon', atMs: s.atMs, ifname: iface.ifname, severity: 'warning', ip: s.ip, mac: s.mac, seenAs: s.seenAs, reason };
    const k = key(iface.ifname, s.ip);
    const gateway = iface.gateway === s.ip;
    if (!gateway && !this.#stations.has(k)) return this.#once(`${k}/${s.mac}/${reason}`, event);
    const judged = `${k}/${s.mac}`;
    if ((this.#judged.get(judged) ?? -Infinity) > s.atMs) return;
    this.#judged.set(judged, s.atMs + this.#repeatAfterMs);
    this.#emit(gateway ? { ...event, severity: 'alarm' } : event);
  }

  /** Emits `e` the first time `what` is seen (a bounded memory: the oldest is forgotten first). */
  #once(what: string, e: WatchEvent): void {
    if (this.#said.has(what)) return;
    this.#said.add(what);
    if (this.#said.size > MAX_SAID) this.#said.delete(this.#said.values().next().value!);
    this.#emit(e);
  }

  #taggedOf(base: WatchedInterface, ifname: string): WatchedInterface {
    let iface = this.#tagged.get(ifname);
    if (iface === undefined) this.#tagged.set(ifname, (iface = { ifname, mac: base.mac, subnets: [], gateway: null }));
    return iface;
  }

  // Keyed by the Ethernet source: a flooder that writes another sender MAC into each frame is still one sender.
  // Returns whether that source is flooding (reported within the last FORGET_MS).
  #countRate(s: Sighting, iface: WatchedInterface): boolean {
    const from = s.ethSrc ?? s.mac;
    if (from === iface.mac) return false;
    const k = `${iface.ifname}/${from}`;
    let r = this.#rate.get(k);
    if (r === undefined || s.atMs - r.windowStartMs >= 1000) {
      r = { windowStartMs: s.atMs, frames: 0, reportedMs: r?.reportedMs ?? -Infinity };
      this.#rate.set(k, r);
    }
    // Once a minute at most per source: a flood is one incident, not one line per frame.
    if (++r.frames > this.#floodPerSecond && s.atMs - r.reportedMs >= FORGET_MS) {
      r.reportedMs = s.atMs;
      this.#emit({ kind: 'flood', atMs: s.atMs, ifname: iface.ifname, severity: 'warning', mac: from, frames: r.frames, windowMs: s.atMs - r.windowStartMs });
    }
    return s.atMs - r.reportedMs < FORGET_MS;
  }

  #holds(ifname: string, mac: Mac): Set<Ipv4> {
    const k = `${ifname}/${mac}`;
    let set = this.#ipsOf.get(k);
    if (set === undefined) this.#ipsOf.set(k, (set = new Set()));
    return set;
  }

  #emit(e: WatchEvent): void {
    this.#events.push(e);
  }
}

/** Why `s` cannot be a station on `iface`, or null when it can (see BogonReason). */
function bogonReason(s: Sighting, iface: WatchedInterface): BogonReason | null {
  if (Mac.isZero(s.mac)) return 'zero-mac';
  if (Mac.isMulticast(s.mac)) return 'group-mac';
  const ip = s.ip;
  const first = ip >>> 24;
  if (first === 0 || Ipv4.isLoopback(ip) || first >= 224) return 'address';
  if (Ipv4.isLinkLocal(ip) || iface.subnets.length === 0) return null;
  const homes = iface.subnets.filter((n) => n.contains(ip));
  if (homes.length === 0) return 'outside';
  // A network or broadcast address in every subnet that holds it (a /24 inside a /16 leaves .0 a /16 host); a /31
  // or /32 has neither (RFC 3021).
  return homes.every((n) => n.prefix <= 30 && (ip === n.network || ip === n.broadcast)) ? 'address' : null;
}
