import type { Ipv4, Mac } from '@ersatz/wire';

/** Slots a table starts with when the number of targets is not known; and the most it starts with when it is. */
const DEFAULT_CAPACITY = 1024;
const MOST_CAPACITY = 65536;

/**
 * A sweep's per-host state (see scan$): one slot per host being asked, each field a typed array indexed by slot,
 * rather than an object per host. At 65534 hosts the objects (13 fields, their doubles boxed, an array for the MACs)
 * were ~20 MB that every scavenge of the sweep copied while they lived, and a sweep is a one-shot command's first
 * and only run: the main thread of a cold /16 CLI sweep spent 142 ms in GC, 94 ms with this (--trace-gc). Here a
 * host is ~90 bytes in a few large arrays that the scavenger never copies. Hosts are added only in the sweep's first
 * pass and forgotten only after it (scan$'s order), so a slot is never reused.
 *
 * Times are ns (or ms for dueMs) since the scan started, as plain numbers: exact below 2^53 ns (104 days).
 */
export class HostTable {
  ip = new Uint32Array(0);
  tries = new Uint32Array(0);
  /** Requests beyond `tries` it may still get: one per recovery of the link while it waited (see recovered$). */
  extra = new Uint32Array(0);
  /** When it was first queued: a reply captured before it is not an answer to us. */
  firstNs = new Float64Array(0);
  /** The latest request: its link ticket, when it may leave (its notBeforeNs), and when it left (-1: not known). */
  ticket = new Float64Array(0);
  sentNs = new Float64Array(0);
  leftNs = new Float64Array(0);
  /** Timing base of the try before the latest, for a late reply to it. */
  prevBaseNs = new Float64Array(0);
  /** When its current wait ends (ms since the scan started). */
  dueMs = new Float64Array(0);
  /** 1: the latest request's departure has been looked up (see waitOver). */
  departed = new Uint8Array(0);
  /** 1: its latest request holds one of the scan's credits (see CREDITS). */
  holding = new Uint8Array(0);
  /** 1: its last wait ended unanswered: an answer now is a late one (see LATE_HOSTS). */
  gaveUp = new Uint8Array(0);
  /** The first MAC that answered for it; undefined until one did. */
  readonly mac: (Mac | undefined)[] = [];
  /** MACs answering after the first (DUPs), for the few hosts that have any. */
  readonly #moreMacs = new Map<number, Mac[]>();
  /** Slot by IP (as int32: a small integer for V8, never a boxed number). */
  readonly #slots = new Map<number, number>();
  #used = 0;

  /** `targets`: how many hosts the sweep may ask, when known (a /16: the table never grows). */
  constructor(targets?: number) {
    this.#grow(Math.max(1, Math.min(targets ?? DEFAULT_CAPACITY, MOST_CAPACITY)));
  }

  /** The slot of `ip`, or -1 when it is not (or no longer) known. */
  slotOf(ip: Ipv4): number {
    return this.#slots.get(ip | 0) ?? -1;
  }

  /** A slot for `ip` (not known yet), unanswered and not asked yet. */
  add(ip: Ipv4, firstNs: number): number {
    if (this.#used === this.ip.length) this.#grow(this.#used * 2);
    const s = this.#used++;
    this.#slots.set(ip | 0, s);
    this.ip[s] = ip;
    this.tries[s] = 0;
    this.extra[s] = 0;
    this.firstNs[s] = firstNs;
    this.ticket[s] = -1;
    this.sentNs[s] = 0;
    this.leftNs[s] = -1;
    this.prevBaseNs[s] = 0;
    this.dueMs[s] = 0;
    this.departed[s] = 0;
    this.holding[s] = 0;
    this.gaveUp[s] = 0;
    this.mac[s] = undefined;
    return s;
  }

  /** Records that `mac` answered for the host in `s`. False when that MAC had already. */
  answered(s: number, mac: Mac): boolean {
    const first = this.mac[s];
    if (first === undefined) {
      this.mac[s] = mac;
      return true;
    }
    if (first === mac) return false;
    const more = this.#moreMacs.get(s);
    if (more === undefined) this.#moreMacs.set(s, [mac]);
    else if (more.includes(mac)) return false;
    else more.push(mac);
    return true;
  }

  /** Forgets the (unanswered) host in `s`: an answer from its IP is no longer one of ours. */
  forget(s: number): void {
    this.#slots.delete(this.ip[s]! | 0);
  }

  #grow(n: number): void {
    const more = <T extends Uint8Array | Uint32Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.set(a);
      return b;
    };
    this.ip = more(this.ip);
    this.tries = more(this.tries);
    this.extra = more(this.extra);
    this.firstNs = more(this.firstNs);
    this.ticket = more(this.ticket);
    this.sentNs = more(this.sentNs);
    this.leftNs = more(this.leftNs);
    this.prevBaseNs = more(this.prevBaseNs);
    this.dueMs = more(this.dueMs);
    this.departed = more(this.departed);
    this.holding = more(this.holding);
    this.gaveUp = more(this.gaveUp);
  }
}
