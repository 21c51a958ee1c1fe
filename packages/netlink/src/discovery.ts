// Interface discovery: links, IPv4 addresses and routes, read from the kernel over rtnetlink, and the one call
// the resolver needs: which interface, source address and next hop to use for an ARP query.
import { constants } from 'node:os';
import { Cidr, Ipv4, Mac } from '@ersatz/wire';
import { AF_INET, AF_UNSPEC, Arphrd, IfaF, Iff, NlmF, RT_TABLE_MAIN, Rtm, Rtn } from './constants.js';
import {
  DiscoveryError,
  InterfaceDownError,
  NetlinkSystemError,
  NoDefaultRouteError,
  NoIpv4AddressError,
  NoLinkLayerError,
  NoRouteError,
  UnknownInterfaceError,
  UnresolvableTargetError,
} from './error.js';
import { AddressMessage, LinkMessage, RouteMessage, type AddressRepr, type LinkRepr, type RouteRepr } from './rtnl.js';
import { withSocket, type NetlinkSocket } from './socket.js';

const { ENODEV, ENETUNREACH, EHOSTUNREACH, EINVAL, EACCES } = constants.errno;
const IFNAMSIZ = 16;

/** A network interface as the kernel reports it (RTM_GETLINK). */
export interface Link {
  readonly index: number;
  readonly name: string;
  /** The 6-byte hardware address, or null when the link has none or a different size (tunnels, `none`). */
  readonly mac: Mac | null;
  /** IFF_* bits. */
  readonly flags: number;
  /** Administratively up (IFF_UP). */
  readonly up: boolean;
  /**
   * Carrier present and operationally up (IFF_LOWER_UP and IFF_RUNNING): the kernel clears LOWER_UP as the carrier
   * goes, RUNNING when its link watcher gets to it, up to a second later.
   */
  readonly running: boolean;
  /** IFF_NOARP: the kernel will not ARP on it. */
  readonly noarp: boolean;
  /** IFF_LOOPBACK. */
  readonly loopback: boolean;
  readonly mtu: number;
  /** The index of the bridge or bond this link is a port of (IFLA_MASTER), or null. */
  readonly master: number | null;
  /** ARPHRD_* link type: 1 Ethernet, 772 loopback (see `Arphrd`). */
  readonly type: number;
}

/** An IPv4 address on an interface (RTM_GETADDR). */
export interface Address {
  readonly ifindex: number;
  /** The interface's own address (IFA_LOCAL, which differs from IFA_ADDRESS only on point-to-point links). */
  readonly address: Ipv4;
  /** How long a prefix is on the link: the peer's when there is one, else our address's. */
  readonly prefixLen: number;
  /** The other end of a point-to-point address (`ip addr add A peer P/N`: IFA_ADDRESS, when it is not IFA_LOCAL). */
  readonly peer?: Ipv4;
  readonly broadcast?: Ipv4;
  /** The label (`eth0`, `eth0:1`). */
  readonly label?: string;
  /** IFA_F_SECONDARY: a second address in a subnet the interface already has. */
  readonly secondary: boolean;
  /** RT_SCOPE_*: 0 global, 253 link, 254 host. */
  readonly scope: number;
}

/** The kernel's answer to "how do I reach this IP" (RTM_GETROUTE for one destination, like `ip route get`). */
export interface Route {
  readonly ifindex: number;
  readonly ifname: string;
  /** The next hop when it is a router; null when the destination is on the link. */
  readonly gateway: Ipv4 | null;
  /** The next hop is the destination itself (no gateway). */
  readonly onLink: boolean;
  /** The source address the kernel would use. */
  readonly prefsrc: Ipv4 | null;
  /** RTN_*: 1 unicast, 2 local (one of this host's addresses), 3 broadcast, 5 multicast. */
  readonly type: number;
  readonly table: number;
}

/** The default route of the main table with the lowest metric. */
export interface DefaultRoute {
  readonly gateway: Ipv4;
  readonly ifindex: number;
  readonly ifname: string;
  /** RTA_PRIORITY (0 when unset). */
  readonly metric: number;
}

/** Everything an ARP query needs: where to send it, from which addresses, and for which IP. */
export interface InterfaceInfo {
  readonly ifname: string;
  readonly ifindex: number;
  /** The interface's MAC: the sender hardware address. */
  readonly mac: Mac;
  /** The interface's IPv4 address: the sender protocol address (0.0.0.0 when it has none: see `unaddressed`). */
  readonly ip: Ipv4;
  readonly prefixLen: number;
  /** Every IPv4 address of the interface, `ip` among them: the sender addresses it may announce. */
  readonly addresses: readonly Ipv4[];
  /** The router the route goes through, or null when the target is on the link. */
  readonly gateway: Ipv4 | null;
  /** The IP to ARP for: the target itself when it is on the link, else the gateway; without a target, the default gateway. */
  readonly target: Ipv4;
}

export interface DiscoverOptions {
  /** Use this interface (like `arping -I`); default: the one the route to `target` (or the default route) uses. */
  readonly ifname?: string;
  /** The IP to reach; default: the default gateway. */
  readonly target?: Ipv4;
  /**
   * Accept an interface without an IPv4 address (`ip` is then 0.0.0.0), for RFC 5227 probes that run before the
   * address is configured (`arping -D -I IF`). Default false: NoIpv4AddressError.
   */
  readonly unaddressed?: boolean;
}

// ---------------------------------------------------------------------------------------------------------------

/** Every link in this network namespace, in index order. Throws NetlinkError. */
export function links(): Link[] {
  return withSocket((sock) => dumpLinks(sock));
}

/** One link by name or index. Throws UnknownInterfaceError when there is none, NetlinkError otherwise. */
export function link(id: string | number): Link {
  return withSocket((sock) => getLink(sock, id));
}

/** The error for `lk` holding no IPv4 address, naming the bridge or bond it is a port of (which holds them) if any. */
export function noIpv4Address(lk: Link): NoIpv4AddressError {
  return new NoIpv4AddressError(lk.name, lk.master === null ? undefined : link(lk.master).name);
}

/** The IPv4 addresses of every interface, or of `ifindex` only, in the kernel's order (primary first). Throws NetlinkError. */
export function addresses(ifindex?: number): Address[] {
  return withSocket((sock) => dumpAddresses(sock, ifindex));
}

/**
 * How the kernel would reach `ip` (like `ip route get IP [oif IF]`). `ifname` constrains the output interface;
 * the kernel then treats a destination it has no route for as on-link.
 * Throws NoRouteError (no route), UnresolvableTargetError (blackhole / prohibit), UnknownInterfaceError, NetlinkError.
 */
export function route(ip: Ipv4, opts: { ifname?: string } = {}): Route {
  return withSocket((sock) => {
    const oif = opts.ifname === undefined ? undefined : getLink(sock, opts.ifname);
    return getRoute(sock, ip, oif);
  });
}

/** The main table's default route with a gateway and the lowest metric. Throws NoDefaultRouteError, NetlinkError. */
export function defaultRoute(opts: { ifname?: string } = {}): DefaultRoute {
  return withSocket((sock) => {
    const only = opts.ifname === undefined ? undefined : getLink(sock, opts.ifname);
    return findDefaultRoute(sock, only);
  });
}

/**
 * Finds the interface, addresses and next hop for an ARP query to `target` (or to the default gateway), the way the
 * kernel's own routing would. Returns synchronously (the kernel answers at once), so `await` works as well.
 * Throws (all DiscoveryError): NoDefaultRouteError, NoRouteError, UnknownInterfaceError, InterfaceDownError,
 * NoIpv4AddressError, NoLinkLayerError (loopback, NOARP, no MAC, not Ethernet), UnresolvableTargetError (own,
 * broadcast or multicast address); NetlinkError for anything else.
 */
export function discoverInterface(opts: DiscoverOptions = {}): InterfaceInfo {
  return withSocket((sock) => {
    let lk = opts.ifname === undefined ? undefined : checkArpCapable(getLink(sock, opts.ifname));
    let gateway: Ipv4 | null;
    let target: Ipv4;
    let prefsrc: Ipv4 | null;
    if (opts.target !== undefined) {
      const t = opts.target;
      if (Ipv4.isUnspecified(t)) throw new UnresolvableTargetError(t, 'unspecified');
      if (Ipv4.isBroadcast(t)) throw new UnresolvableTargetError(t, 'broadcast');
      if (Ipv4.isMulticast(t)) throw new UnresolvableTargetError(t, 'multicast');
      const r = getRoute(sock, t, lk);
      if (r.type === Rtn.LOCAL) throw new UnresolvableTargetError(t, 'local');
      if (r.type === Rtn.BROADCAST) throw new UnresolvableTargetError(t, 'broadcast');
      if (r.type === Rtn.MULTICAST) throw new UnresolvableTargetError(t, 'multicast');
      if (r.type !== Rtn.UNICAST) throw new UnresolvableTargetError(t, 'unreachable');
      lk ??= checkArpCapable(getLink(sock, r.ifindex));
      gateway = r.gateway;
      target = r.gateway ?? t;
      prefsrc = r.prefsrc;
    } else {
      const d = findDefaultRoute(sock, lk);
      lk ??= checkArpCapable(getLink(sock, d.ifindex));
      gateway = d.gateway;
      target = d.gateway;
      // The source the kernel would use towards the gateway itself.
      prefsrc = getRoute(sock, d.gateway, lk).prefsrc;
    }
    const ifindex = lk.index;
    const own = dumpAddresses(sock, ifindex);
    const inSubnet = (a: Address) => linkPrefix(a).contains(target);
    const pick =
      own.find((a) => a.address === prefsrc) ??
      own.find((a) => !a.secondary && inSubnet(a)) ??
      own.find(inSubnet) ??
      own.find((a) => !a.secondary) ??
      own[0];
    if (pick === undefined && opts.unaddressed !== true) throw noIpv4Address(lk);
    // checkArpCapable made sure the MAC is there.
    return { ifname: lk.name, ifindex, mac: lk.mac!, ip: pick?.address ?? Ipv4.UNSPECIFIED, prefixLen: pick?.prefixLen ?? 0, addresses: own.map((a) => a.address), gateway, target };
  });
}

/**
 * The prefix `a` puts on its link, the one the kernel routes there: the peer's for a point-to-point address
 * (`ip addr add A peer P/N`: P/N), else the address's own (A/N).
 */
export function linkPrefix(a: Address): Cidr {
  return Cidr.of(a.peer ?? a.address, a.prefixLen);
}

/** Returns the link when ARP can run on it; throws NoLinkLayerError or InterfaceDownError saying why not. */
export function checkArpCapable(lk: Link): Link {
  if (lk.loopback || lk.type === Arphrd.LOOPBACK) throw new NoLinkLayerError(lk.name, 'loopback', lk.type);
  if (lk.mac === null) throw new NoLinkLayerError(lk.name, 'no-mac', lk.type);
  if (lk.type !== Arphrd.ETHER) throw new NoLinkLayerError(lk.name, 'not-ethernet', lk.type);
  if (lk.noarp) throw new NoLinkLayerError(lk.name, 'noarp', lk.type);
  if (!lk.up) throw new InterfaceDownError(lk.name, 'admin');
  if (!lk.running) throw new InterfaceDownError(lk.name, 'carrier');
  return lk;
}

// ---------------------------------------------------------------------------------------------------------------
// On an open socket (so discovery makes one socket, not one per question).

const EMPTY_LINK: LinkRepr = { family: AF_UNSPEC, type: 0, index: 0, flags: 0, change: 0 };

function toLink(r: LinkRepr): Link {
  return {
    index: r.index,
    name: r.name ?? `if${r.index}`,
    mac: r.address?.length === 6 ? Mac.fromBytes(r.address) : null,
    flags: r.flags,
    up: (r.flags & Iff.UP) !== 0,
    running: (r.flags & (Iff.RUNNING | Iff.LOWER_UP)) === (Iff.RUNNING | Iff.LOWER_UP),
    noarp: (r.flags & Iff.NOARP) !== 0,
    loopback: (r.flags & Iff.LOOPBACK) !== 0,
    mtu: r.mtu ?? 0,
    master: r.master ?? null,
    type: r.type,
  };
}

/** All links. */
export function dumpLinks(sock: NetlinkSocket): Link[] {
  return sock
    .request(Rtm.GETLINK, NlmF.DUMP, LinkMessage, EMPTY_LINK, 'list links')
    .filter((m) => m.type === Rtm.NEWLINK)
    .map((m) => toLink(LinkMessage.parse(m.payload)));
}

/** One link by name or index; throws UnknownInterfaceError. */
export function getLink(sock: NetlinkSocket, id: string | number): Link {
  if (typeof id === 'string' && (id === '' || id.includes('\0') || new TextEncoder().encode(id).length >= IFNAMSIZ)) throw new UnknownInterfaceError(id);
  if (typeof id === 'number' && (!Number.isInteger(id) || id <= 0 || id > 0x7fffffff)) throw new UnknownInterfaceError(id);
  const req: LinkRepr = typeof id === 'number' ? { ...EMPTY_LINK, index: id } : { ...EMPTY_LINK, name: id };
  try {
    const [m] = sock.request(Rtm.GETLINK, 0, LinkMessage, req, `look up interface ${typeof id === 'number' ? `#${id}` : id}`).filter((m) => m.type === Rtm.NEWLINK);
    if (m === undefined) throw new UnknownInterfaceError(id);
    return toLink(LinkMessage.parse(m.payload));
  } catch (err) {
    if (err instanceof NetlinkSystemError && err.errno === ENODEV) throw new UnknownInterfaceError(id);
    throw err;
  }
}

/** IPv4 addresses, of one interface or all. */
export function dumpAddresses(sock: NetlinkSocket, ifindex?: number): Address[] {
  const req: AddressRepr = { family: AF_INET, prefixLen: 0, flags: 0, scope: 0, index: 0 };
  const out: Address[] = [];
  for (const m of sock.request(Rtm.GETADDR, NlmF.DUMP, AddressMessage, req, 'list IPv4 addresses')) {
    if (m.type !== Rtm.NEWADDR || m.payload[0] !== AF_INET) continue;
    const a = AddressMessage.parse(m.payload);
    if (ifindex !== undefined && a.index !== ifindex) continue;
    const address = a.local ?? a.address;
    if (address === undefined) continue;
    out.push({
      ifindex: a.index,
      address,
      prefixLen: a.prefixLen,
      ...(a.address !== undefined && a.address !== address && { peer: a.address }),
      ...(a.broadcast !== undefined && { broadcast: a.broadcast }),
      ...(a.label !== undefined && { label: a.label }),
      secondary: (a.flags & IfaF.SECONDARY) !== 0,
      scope: a.scope,
    });
  }
  return out;
}

/** RTM_GETROUTE for one destination, optionally through `oif`. */
export function getRoute(sock: NetlinkSocket, ip: Ipv4, oif?: Link): Route {
  const req: RouteRepr = { family: AF_INET, dstLen: 32, srcLen: 0, tos: 0, table: 0, protocol: 0, scope: 0, type: 0, flags: 0, dst: ip, ...(oif && { oif: oif.index }) };
  let answer: RouteRepr | undefined;
  try {
    const [m] = sock.request(Rtm.GETROUTE, 0, RouteMessage, req, `route to ${Ipv4.format(ip)}`).filter((m) => m.type === Rtm.NEWROUTE);
    if (m) answer = RouteMessage.parse(m.payload);
  } catch (err) {
    if (err instanceof NetlinkSystemError) {
      if (err.errno === ENETUNREACH || err.errno === EHOSTUNREACH) throw new NoRouteError(ip, err.errno, oif?.name);
      // fib lookups answer EINVAL for blackhole routes and EACCES for prohibit routes: no permission is involved.
      if (err.errno === EINVAL || err.errno === EACCES) throw new UnresolvableTargetError(ip, 'unreachable');
    }
    throw err;
  }
  if (answer === undefined) throw new DiscoveryError(`route to ${Ipv4.format(ip)}: the kernel answered without a route`);
  // A route answer always names its output device; a multipath one names the path the kernel picked.
  const ifindex = answer.oif ?? answer.multipath?.[0]?.ifindex;
  if (ifindex === undefined) throw new NoRouteError(ip, ENETUNREACH, oif?.name);
  const gateway = answer.gateway ?? answer.multipath?.find((h) => h.ifindex === ifindex)?.gateway ?? null;
  const ifname = oif?.index === ifindex ? oif.name : getLink(sock, ifindex).name;
  return { ifindex, ifname, gateway, onLink: gateway === null, prefsrc: answer.prefsrc ?? null, type: answer.type, table: answer.table };
}

/** The main table's lowest-metric default route with a gateway, optionally only through `only`. */
export function findDefaultRoute(sock: NetlinkSocket, only?: Link): DefaultRoute {
  const req: RouteRepr = { family: AF_INET, dstLen: 0, srcLen: 0, tos: 0, table: 0, protocol: 0, scope: 0, type: 0, flags: 0 };
  let best: { gateway: Ipv4; ifindex: number; metric: number } | undefined;
  for (const m of sock.request(Rtm.GETROUTE, NlmF.DUMP, RouteMessage, req, 'list routes')) {
    if (m.type !== Rtm.NEWROUTE || m.payload[0] !== AF_INET) continue;
    const r = RouteMessage.parse(m.payload);
    if (r.table !== RT_TABLE_MAIN || r.dstLen !== 0 || r.type !== Rtn.UNICAST) continue;
    // A single path, or the first path of a multipath route that has a gateway (on `only`, when given).
    const hops = r.gateway !== undefined && r.oif !== undefined ? [{ gateway: r.gateway, ifindex: r.oif }] : (r.multipath ?? []).flatMap((h) => (h.gateway === undefined ? [] : [{ gateway: h.gateway, ifindex: h.ifindex }]));
    const hop = hops.find((h) => only === undefined || h.ifindex === only.index);
    if (hop === undefined) continue;
    const metric = r.priority ?? 0;
    if (best === undefined || metric < best.metric) best = { ...hop, metric };
  }
  if (best === undefined) throw new NoDefaultRouteError(only?.name);
  const ifname = only?.index === best.ifindex ? only.name : getLink(sock, best.ifindex).name;
  return { gateway: best.gateway, ifindex: best.ifindex, ifname, metric: best.metric };
}
