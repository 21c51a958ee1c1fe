import type { Ipv4 } from '@ersatz/wire';
import type { RoutingWatch } from '@ersatz/netlink';
import { discoverInterface, type InterfaceInfo } from './host.js';

// A loop of resolve$ calls over distinct targets must not grow the cache without bound.
const MAX_ENTRIES = 4096;

/**
 * `discoverInterface` answers remembered while resolve$ sessions are open: a lookup costs three rtnetlink requests
 * on a fresh socket (~110 µs, more than an ARP round trip on a LAN), on every call otherwise. Before each answer the
 * kernel's link, address and route announcements queued since the last call are read (one `recv` when there are
 * none), and any of them clears the cache: an answer is never older than the last change the kernel reported.
 * Linux only; elsewhere every call asks the platform.
 */
export class DiscoveryCache {
  readonly #answers = new Map<string, InterfaceInfo>();
  #watch: RoutingWatch | null = null;

  async lookup(opts: { readonly ifname?: string; readonly target: Ipv4 }): Promise<InterfaceInfo> {
    if (process.platform !== 'linux') return discoverInterface(opts);
    const netlink = await import('@ersatz/netlink');
    this.#watch ??= netlink.RoutingWatch.open();
    if (this.#watch.changed()) this.#answers.clear();
    const key = `${opts.ifname ?? ''}|${opts.target}`;
    let info = this.#answers.get(key);
    if (info === undefined) {
      info = netlink.discoverInterface(opts); // errors are not remembered: the next call asks again
      if (this.#answers.size >= MAX_ENTRIES) this.#answers.clear();
      this.#answers.set(key, info);
    }
    return info;
  }

  /** Forgets every answer and stops listening (the last session closed). */
  stop(): void {
    this.#watch?.close();
    this.#watch = null;
    this.#answers.clear();
  }
}
