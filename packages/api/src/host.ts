import type { Ipv4, Mac } from '@ersatz/wire';

/** Where an ARP query goes out and what it asks for: the same shape on every platform. */
export interface InterfaceInfo {
  readonly ifname: string;
  readonly ifindex: number;
  readonly mac: Mac;
  readonly ip: Ipv4;
  readonly prefixLen: number;
  readonly gateway: Ipv4 | null;
  /** The IP to ARP for: the target when on-link, else the gateway; without a target, the default gateway. */
  readonly target: Ipv4;
}

/**
 * Finds the interface, our addresses and the next hop for `target` (default: the default gateway), through the
 * platform's own routing: rtnetlink on Linux, the IP Helper API on Windows. Loaded lazily: each backend binds
 * native code only on its own platform. Throws the backend's typed errors (NetlinkError / Win32Error families).
 */
export async function discoverInterface(opts: { ifname?: string; target?: Ipv4 } = {}): Promise<InterfaceInfo> {
  if (process.platform === 'win32') return (await import('@ersatz/win32')).discoverInterface(opts);
  return (await import('@ersatz/netlink')).discoverInterface(opts);
}
