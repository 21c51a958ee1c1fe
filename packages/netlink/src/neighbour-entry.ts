// A neighbour table entry as ersatz hands it out, built from the kernel's ndmsg: shared by the table's reads
// (neighbour.ts) and its change events (neighbour-events.ts).
import { Mac, printable, type Ipv4, type Ipv6 } from '@ersatz/wire';
import { Ntf } from './constants.js';
import { dumpLinks } from './discovery.js';
import { stateName, type NeighState } from './neigh-state.js';
import type { NeighRepr } from './rtnl.js';
import type { NetlinkSocket } from './socket.js';

/** One IPv4 neighbour table entry. */
export interface NeighbourEntry {
  readonly ip: Ipv4;
  /** The cached MAC; null while unresolved (incomplete, failed) and for proxy entries. */
  readonly mac: Mac | null;
  readonly ifindex: number;
  /** The interface name (`if<index>` when the interface is already gone, e.g. in a delete event). */
  readonly ifname: string;
  readonly state: NeighState;
  /** `ndm_flags`: NTF_* bits (see `Ntf`). */
  readonly flags: number;
  /** NDA_FLAGS_EXT: NTF_EXT_* bits (see `NtfExt`; `managed`: the kernel keeps the entry resolved), 0 without. */
  readonly flagsExt: number;
  /** A proxy ARP entry (NTF_PROXY): the kernel answers ARP for `ip` on `ifname`. */
  readonly proxy: boolean;
  /** NTF_ROUTER: the neighbour is a router (IPv6: its advertisements carry the R flag). */
  readonly router: boolean;
  /** Milliseconds since the entry last changed (its state or MAC), from NDA_CACHEINFO, as `ip -s neigh` shows it. */
  readonly ageMs?: number;
}

/** One IPv6 neighbour table entry: as NeighbourEntry, its address an IPv6 one. */
export type Neighbour6Entry = Omit<NeighbourEntry, 'ip'> & { readonly ip: Ipv6 };

/** Interface index → name, for entries that name their interface by index. */
export function linkNames(sock: NetlinkSocket): Map<number, string> {
  return new Map(dumpLinks(sock).map((l) => [l.index, l.name]));
}

/** The IPv4 entry of an ndmsg; null without an address. */
export function toEntry(r: NeighRepr, names: { get(i: number): string | undefined }): NeighbourEntry | null {
  if (r.dst === undefined) return null;
  return printable({ ip: r.dst, ...entryFields(r, names) });
}

/** The IPv6 entry of an ndmsg; null without an address. */
export function toEntry6(r: NeighRepr, names: { get(i: number): string | undefined }): Neighbour6Entry | null {
  if (r.dst6 === undefined) return null;
  return printable({ ip: r.dst6, ...entryFields(r, names) });
}

/**
 * Whether `e` is in one of `states` (all: undefined). As iproute2 does, proxy and externally learned entries pass any
 * state filter (their state is not a cache state).
 */
export function inStates(e: Omit<NeighbourEntry, 'ip'>, states: readonly NeighState[] | undefined): boolean {
  return states === undefined || e.proxy || (e.flags & Ntf.EXT_LEARNED) !== 0 || states.includes(e.state);
}

/** Everything of an entry but its address, for either family. */
function entryFields(r: NeighRepr, names: { get(i: number): string | undefined }): Omit<NeighbourEntry, 'ip'> {
  return {
    mac: r.lladdr?.length === 6 ? Mac.fromBytes(r.lladdr) : null,
    ifindex: r.ifindex,
    ifname: names.get(r.ifindex) ?? `if${r.ifindex}`,
    state: stateName(r.state),
    flags: r.flags,
    flagsExt: r.flagsExt ?? 0,
    proxy: (r.flags & Ntf.PROXY) !== 0,
    router: (r.flags & Ntf.ROUTER) !== 0,
    // USER_HZ is 100 on every Linux architecture: a tick is 10 ms.
    ...(r.cacheinfo !== undefined && { ageMs: r.cacheinfo.updated * 10 }),
  };
}
