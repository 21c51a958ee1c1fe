import { Ipv4, type Mac } from '@ersatz/wire';
import type { Adapter, IpNetRow, NeighbourState } from './decode.js';
import { DiscoveryError, InterfaceNotFoundError } from './error.js';
import { IfOperStatus } from './layout.js';

// Pure choices over decoded tables, so they are tested without Windows.

/** The interface to run ARP on, in the shape the Linux backend returns. */
export interface WinInterface {
  /** The Npcap device name, `\Device\NPF_{GUID}`: what `cap` and the transmit worker open. */
  readonly ifname: string;
  readonly ifindex: number;
  readonly mac: Mac;
  readonly ip: Ipv4;
  readonly prefixLen: number;
  /** Every unicast IPv4 address of the adapter. */
  readonly addresses: readonly Ipv4[];
  /** The adapter's first IPv4 default gateway, null when it has none. */
  readonly gateway: Ipv4 | null;
  /** What to resolve: the given target, or the gateway. */
  readonly target: Ipv4;
}

/** One neighbour (ARP) table entry, in the shape the Linux backend returns. */
export interface Neighbour {
  readonly ip: Ipv4;
  readonly mac: Mac | null;
  readonly ifindex: number;
  /** The Npcap device name of the interface, '' when no IPv4 adapter has that index. */
  readonly ifname: string;
  /** Linux's words: NlnsUnreachable is FAILED. */
  readonly state: NeighbourState;
  readonly isRouter: boolean;
}

/** How a user may name an adapter: the Npcap device, the bare `{GUID}`, or the friendly name (`Ethernet`), any case. */
export function findAdapter(adapters: readonly Adapter[], ifname: string): Adapter {
  const want = ifname.toLowerCase();
  const found = adapters.find((a) => [a.device, a.adapterName, a.friendlyName].some((n) => n.toLowerCase() === want));
  if (!found) throw new InterfaceNotFoundError(ifname, adapters.map((a) => a.friendlyName || a.device));
  return found;
}

const label = (a: Adapter): string => `${a.friendlyName || a.device} (ifindex ${a.ifindex})`;

function inSubnet(ip: Ipv4, net: Ipv4, prefixLen: number): boolean {
  const mask = prefixLen === 0 ? 0 : (0xffffffff << (32 - prefixLen)) >>> 0;
  return ((ip & mask) >>> 0) === ((net & mask) >>> 0);
}

/**
 * Picks the interface: the one named by `ifname`; else the one the route to `target` leaves by (`route`, from
 * GetBestRoute2); else the up adapter with an IPv4 address and gateway and the lowest IPv4 metric (the default route).
 * The address is the route's source when it is the adapter's, else the one on the target's subnet, else the first.
 * Returns the interface. Throws InterfaceNotFoundError, DiscoveryError (down, no MAC, no address, no gateway).
 */
export function selectInterface(
  adapters: readonly Adapter[],
  opts: { readonly ifname?: string; readonly target?: Ipv4 },
  route?: { readonly ifindex: number; readonly source: Ipv4 | null },
): WinInterface {
  let adapter: Adapter | undefined;
  if (opts.ifname !== undefined) adapter = findAdapter(adapters, opts.ifname);
  else if (route) {
    adapter = adapters.find((a) => a.ifindex === route.ifindex);
    if (!adapter) throw new DiscoveryError(`the route to ${Ipv4.format(opts.target ?? Ipv4.UNSPECIFIED)} leaves by ifindex ${route.ifindex}, which has no IPv4 adapter: pass --interface`);
  } else {
    const candidates = adapters.filter((a) => a.operStatus === IfOperStatus.UP && a.mac !== null && a.unicast.length > 0 && a.gateways.length > 0);
    adapter = candidates.sort((a, b) => a.ipv4Metric - b.ipv4Metric)[0];
    if (!adapter) throw new DiscoveryError('no adapter that is up has an IPv4 address and a default gateway: pass --interface and --target');
  }
  if (adapter.operStatus !== IfOperStatus.UP) throw new DiscoveryError(`${label(adapter)} is not up (OperStatus ${adapter.operStatus}): connect it or pick another with --interface`);
  if (adapter.mac === null) throw new DiscoveryError(`${label(adapter)} has no Ethernet address (loopback or tunnel): ARP needs an Ethernet or Wi-Fi adapter`);
  const gateway = adapter.gateways[0] ?? null;
  const target = opts.target ?? gateway;
  if (target === null) throw new DiscoveryError(`${label(adapter)} has no default gateway: pass --target`);
  const address =
    adapter.unicast.find((u) => route?.source != null && u.ip === route.source) ??
    adapter.unicast.find((u) => inSubnet(target, u.ip, u.prefixLen)) ??
    adapter.unicast[0];
  if (!address) throw new DiscoveryError(`${label(adapter)} has no IPv4 address: configure one (ncpa.cpl) or pick another with --interface`);
  return { ifname: adapter.device, ifindex: adapter.ifindex, mac: adapter.mac, ip: address.ip, prefixLen: address.prefixLen, addresses: adapter.unicast.map((u) => u.ip), gateway, target };
}

/** Names each table row's interface by its Npcap device. Returns the entries in table order. */
export function toNeighbours(rows: readonly IpNetRow[], adapters: readonly Adapter[]): Neighbour[] {
  const byIndex = new Map(adapters.map((a) => [a.ifindex, a.device]));
  return rows.map((r) => ({ ip: r.ip, mac: r.mac, ifindex: r.ifindex, ifname: byIndex.get(r.ifindex) ?? '', state: r.state, isRouter: r.isRouter }));
}
