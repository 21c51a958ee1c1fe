import type { Ipv4 } from '@ersatz/wire';
import type { RoutingWatch } from '@ersatz/netlink';
import { discoverInterface, type InterfaceInfo } from './host.js';

// A loop of resolve$ calls over distinct targets must not grow the cache without bound.
const MAX_ENTRIES = 4096;

/** Which interface and next hop for `target` (through `ifname` when given). */
export interface DiscoveryQuestion {
  readonly ifname?: string;
  readonly target: Ipv4;
}

/**
 * `discoverInterface` answers remembered while resolve$ sessions are open: a lookup costs three rtnetlink requests
 * on a fresh socket (~110 µs, more than an ARP round trip on a LAN), on every call otherwise. Once per turn of the
 * event loop the kernel's link, address and route announcements queued since the last look are read (one `recv`
 * when there are none), and any of them clears the cache: an answer is never older than the last change the kernel
 * had reported when the turn began.
 * Linux only; elsewhere every call asks the platform.
 */
export class DiscoveryCache {
  // By interface name ('' for none given), then target: no key string to build and hash on every call.
  readonly #answers = new Map<string, Map<Ipv4, InterfaceInfo>>();
  #netlink: typeof import('@ersatz/netlink') | null = null;
  #watch: RoutingWatch | null = null;
  /** The announcements were read in this turn of the event loop (cleared by a microtask). */
  #looked = false;

  /**
   * The remembered answer, synchronously, when there is one and the kernel had reported no change when this turn of
   * the event loop began. Read once per turn, not per call: a loop subscribing 100 resolves pays one recv, not 100.
   */
  known(opts: DiscoveryQuestion): InterfaceInfo | undefined {
    if (this.#netlink === null) return undefined; // nothing looked up yet, or not Linux
    if (!this.#looked) {
      this.#looked = true;
      queueMicrotask(() => (this.#looked = false));
      this.#watch ??= this.#netlink.RoutingWatch.open();
      if (this.#watch.changed()) this.#answers.clear();
    }
    return this.#answers.get(opts.ifname ?? '')?.get(opts.target);
  }

  async lookup(opts: DiscoveryQuestion): Promise<InterfaceInfo> {
    if (process.platform !== 'linux') return discoverInterface(opts);
    this.#netlink ??= await import('@ersatz/netlink');
    const known = this.known(opts);
    if (known !== undefined) return known;
    const info = this.#netlink.discoverInterface(opts); // errors are not remembered: the next call asks again
    let size = 0;
    for (const byTarget of this.#answers.values()) size += byTarget.size;
    if (size >= MAX_ENTRIES) this.#answers.clear();
    const ifname = opts.ifname ?? '';
    let byTarget = this.#answers.get(ifname);
    if (byTarget === undefined) this.#answers.set(ifname, (byTarget = new Map()));
    byTarget.set(opts.target, info);
    return info;
  }

  /** Forgets every answer and stops listening (the last session closed). */
  stop(): void {
    this.#watch?.close();
    this.#watch = null;
    this.#answers.clear();
  }
}
