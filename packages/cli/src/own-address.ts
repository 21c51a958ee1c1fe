import { Ipv4 } from '@ersatz/wire';
import type { InterfaceInfo } from '@ersatz/api';

/**
 * The interface for a target that is one of this host's own addresses (what arping -U/-A and claim announce), once
 * discovery `err`ed with UnresolvableTargetError 'local' (the route lookup has no way out for it): `ifname`, else the
 * interface holding `target`. Its `ip` is `target` when that interface holds it, else an address in its subnet or
 * its first; with `unaddressed`, 0.0.0.0 when it has none (else NoIpv4AddressError). Linux only: rethrows `err`
 * when it is anything else, on other platforms, and when no Ethernet interface holds the target.
 */
export async function ownAddressInterface(err: unknown, target: Ipv4, ifname: string | undefined, unaddressed = false): Promise<InterfaceInfo> {
  const e = err as { name?: string; reason?: string };
  if (e.name !== 'UnresolvableTargetError' || e.reason !== 'local' || process.platform !== 'linux') throw err;
  const nl = await import('@ersatz/netlink');
  const lk = ifname === undefined ? undefined : nl.checkArpCapable(nl.link(ifname));
  const own = nl.addresses(lk?.index);
  const mine = own.find((a) => a.address === target);
  const holder = lk ?? (mine === undefined ? undefined : nl.link(mine.ifindex));
  if (holder === undefined || holder.loopback) throw err;
  nl.checkArpCapable(holder);
  const onHolder = own.filter((a) => a.ifindex === holder.index);
  const pick = onHolder.find((a) => a.address === target) ?? onHolder.find((a) => nl.linkPrefix(a).contains(target)) ?? onHolder[0];
  if (pick === undefined && !unaddressed) throw nl.noIpv4Address(holder);
  const addresses = onHolder.map((a) => a.address);
  return { ifname: holder.name, ifindex: holder.index, mac: holder.mac!, ip: pick?.address ?? Ipv4.UNSPECIFIED, prefixLen: pick?.prefixLen ?? 0, addresses, gateway: null, target };
}
