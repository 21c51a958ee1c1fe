import type { Ipv4, Mac, TargetSet } from '@ersatz/wire';

/** A slot's place in the sweep: not asked yet, being asked (or answered), or forgotten (see forget). */
const UNASKED = 0;
const ASKED = 1;
const FORGOTTEN = 2;

/**
 * A sweep's per-host state (see scan$): each field a typed array indexed by the host's place in the target set
 * (TargetSet.indexOf), rather than an object per host and a map from IP to slot. At 65534 hosts the objects (13 fields,
 * their doubles boxed, an array for the MACs) were ~20 MB that every scavenge of the sweep copied while they lived,
 * and a sweep is a one-shot command's first and only run: the main thread of a cold /16 CLI sweep spent 142 ms in
 * GC, 94 ms with typed arrays (--trace-gc); finding the slot by arithmetic instead of a Map of 65534 IPs took another
 * ~40 ms of that thread's CPU off the sweep (14 interleaved runs). Here a host is ~90 bytes in a few large arrays that
 * the scavenger never copies. Hosts are added only in the sweep's first pass and forgotten only after it (scan$'s
 * order), so a forgotten slot is never asked again.
 *
 * Times are ns (or ms for dueMs) since the scan started, as plain numbers: exact below 2^53 ns (104 days).
 */
export class HostTable {
  readonly #targets: TargetSet;
  /** UNASKED, ASKED or FORGOTTEN. */
  readonly #state: Uint8Array;
  readonly ip: Uint32Array;
  readonly tries: Uint32Array;
  /** Requests beyond `tries` it may still get: one per recovery of the link while it waited (see recovered$). */
  readonly extra: Uint32Array;
  /** When it was first queued: a reply captured before it is not an answer to us. */
  readonly firstNs: Float64Array;
  /** The latest request: its link ticket, when it may leave (its notBeforeNs), and when it left (-1: not known). */
  readonly ticket: Float64Array;
  readonly sentNs: Float64Array;
  readonly leftNs: Float64Array;
  /** Timing base of the try before the latest, for a late reply to it. */
  readonly prevBaseNs: Float64Array;
  /** When its current wait ends (ms since the scan started). */
  readonly dueMs: Float64Array;
  /** 1: the latest request's departure has been looked up (see waitOver). */
  readonly departed: Uint8Array;
  /** 1: its latest request holds one of the scan's credits (see CREDITS). */
  readonly holding: Uint8Array;
  /** 1: its last wait ended unanswered: an answer now is a late one (see LATE_HOSTS). */
  readonly gaveUp: Uint8Array;
  /** The first MAC that answered for it; undefined until one did. */
  readonly mac: (Mac | undefined)[];
  /** MACs answering after the first (DUPs), for the few hosts that have any. */
  readonly #moreMacs = new Map<number, Mac[]>();

  /** A slot for every host of `targets` (the typed arrays are zeroed memory the kernel maps in as it is touched). */
  constructor(targets: TargetSet) {
    const n = targets.size;
    this.#targets = targets;
    this.#state = new Uint8Array(n);
    this.ip = new Uint32Array(n);
    this.tries = new Uint32Array(n);
    this.extra = new Uint32Array(n);
    this.firstNs = new Float64Array(n);
    this.ticket = new Float64Array(n);
    this.sentNs = new Float64Array(n);
    this.leftNs = new Float64Array(n);
    this.prevBaseNs = new Float64Array(n);
    this.dueMs = new Float64Array(n);
    this.departed = new Uint8Array(n);
    this.holding = new Uint8Array(n);
    this.gaveUp = new Uint8Array(n);
    // Holey but preallocated (slots are not filled in order when the sweep is random).
    this.mac = new Array<Mac | undefined>(n);
  }

  /** The slot of `ip` while it is being asked, or -1 (not a target, not asked yet, or forgotten). */
  slotOf(ip: Ipv4): number {
    const s = this.#targets.indexOf(ip);
    return s >= 0 && this.#state[s] === ASKED ? s : -1;
  }

  /** The slot for `ip` (a target not asked yet), unanswered and not asked yet; -1 when it is not a target or was asked already. */
  add(ip: Ipv4, firstNs: number): number {
    const s = this.#targets.indexOf(ip);
    if (s < 0 || this.#state[s] !== UNASKED) return -1;
    this.#state[s] = ASKED;
    this.ip[s] = ip;
    this.firstNs[s] = firstNs;
    this.ticket[s] = -1;
    this.leftNs[s] = -1;
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
    this.#state[s] = FORGOTTEN;
  }
}
