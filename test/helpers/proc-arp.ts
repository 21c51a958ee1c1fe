// The kernel's ARP table as `arp -n` reads it, for the tests that check ersatz's neighbour writes against it.
import type { Lab } from '@ersatz/lab';

/**
 * /proc/net/arp rows for `ip` in namespace `ns`: `IP address  HW type  Flags  HW address  Mask  Device`. Identical
 * rows are one entry: the kernel's table holds one per address and device, but its neighbour hash is shared by every
 * namespace, and a read while another namespace's entries grow it can list an entry twice (seen once in CI).
 */
export function procArp(lab: Lab, ns: string, ip: string): string[][] {
  const rows = lab.sh(ns, ['cat', '/proc/net/arp']).split('\n').slice(1).map((l) => l.trim().split(/\s+/)).filter((f) => f[0] === ip);
  return [...new Map(rows.map((r) => [r.join(' '), r])).values()];
}
