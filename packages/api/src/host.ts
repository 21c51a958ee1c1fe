import type { Ipv4 } from '@ersatz/wire';
import type { InterfaceInfo } from '@ersatz/netlink';

// One shape on every platform: the Linux backend's, which the Windows backend returns too (checked at compile time
// by the return type below).
export type { InterfaceInfo };

/**
 * Finds the interface, our addresses and the next hop for `target` (default: the default gateway), through the
 * platform's own routing: rtnetlink on Linux, the IP Helper API on Windows. Loaded lazily: each backend binds
 * native code only on its own platform. `unaddressed` (an interface without IPv4 for RFC 5227 probes) is Linux's only. Throws the backend's typed errors (NetlinkError / Win32Error families).
 */
export async function discoverInterface(opts: { ifname?: string; target?: Ipv4; unaddressed?: boolean } = {}): Promise<InterfaceInfo> {
  if (process.platform === 'win32') return (await import('@ersatz/win32')).discoverInterface(opts);
  return (await import('@ersatz/netlink')).discoverInterface(opts);
}
