import { Ipv4 } from '@ersatz/wire';
import { CAP_NET_ADMIN_HINT, errnoName, errnoText } from '@ersatz/os';

export { CAP_NET_ADMIN_HINT, errnoName } from '@ersatz/os';

/** Base of every error this package throws: catch `NetlinkError` to catch them all. Facts live in fields. */
export class NetlinkError extends Error {
  override name = 'NetlinkError';
  readonly code: string = 'ERSATZ_NETLINK';
  /** Its message is written for the user (what went wrong, what to do): the CLI prints it as one line, exit 2. */
  get userFacing(): true {
    return true;
  }
}

/** Input shorter than the layer needs: `nlmsghdr: need 16 bytes, have 12`. */
export class NetlinkTruncatedError extends NetlinkError {
  override name = 'NetlinkTruncatedError';
  override readonly code = 'ERSATZ_NETLINK_TRUNCATED';
  constructor(
    readonly layer: string,
    readonly need: number,
    readonly have: number,
  ) {
    super(`${layer}: need ${need} bytes, have ${have}`);
  }
}

/** A field is well-formed in size but impossible in value: `nlmsghdr: nlmsg_len 8 is under the 16-byte header`. */
export class NetlinkMalformedError extends NetlinkError {
  override name = 'NetlinkMalformedError';
  override readonly code = 'ERSATZ_NETLINK_MALFORMED';
  constructor(
    readonly layer: string,
    readonly reason: string,
  ) {
    super(`${layer}: ${reason}`);
  }
}

/** A field holds a value this codec does not handle: `ndmsg: unsupported family 10`. */
export class NetlinkUnsupportedError extends NetlinkError {
  override name = 'NetlinkUnsupportedError';
  override readonly code = 'ERSATZ_NETLINK_UNSUPPORTED';
  constructor(
    readonly layer: string,
    readonly field: string,
    readonly value: number | string,
  ) {
    super(`${layer}: unsupported ${field} ${typeof value === 'number' ? value : JSON.stringify(value)}`);
  }
}

/**
 * A system call or the kernel (an NLMSG_ERROR answer) said no. `errno` is positive (`EEXIST` = 17);
 * `extack` is the kernel's own explanation when it sent one (extended ACK).
 * Message: `add neighbour 198.51.100.9 dev ez0: File exists (EEXIST): kernel says "..."`.
 */
export class NetlinkSystemError extends NetlinkError {
  override name = 'NetlinkSystemError';
  /** The errno symbol, e.g. `EEXIST`. */
  override readonly code: string;
  constructor(
    readonly operation: string,
    readonly errno: number,
    readonly extack?: string,
    readonly hint?: string,
  ) {
    super(`${operation}: ${errnoText(errno)}${extack ? `: kernel says ${JSON.stringify(extack)}` : ''}${hint ? `: ${hint}` : ''}`);
    this.code = errnoName(errno);
  }
}

/** EPERM / EACCES: changing rtnetlink state needs CAP_NET_ADMIN in the namespace's user namespace. */
export class NetlinkPermissionError extends NetlinkSystemError {
  override name = 'NetlinkPermissionError';
  constructor(operation: string, errno: number, extack?: string) {
    super(operation, errno, extack, CAP_NET_ADMIN_HINT);
  }
}

/** The kernel did not answer within `timeoutMs` (it answers rtnetlink requests at once, so this means a bug or a hung kernel). */
export class NetlinkTimeoutError extends NetlinkError {
  override name = 'NetlinkTimeoutError';
  override readonly code = 'ERSATZ_NETLINK_TIMEOUT';
  constructor(
    readonly operation: string,
    readonly timeoutMs: number,
  ) {
    super(`${operation}: no answer from the kernel in ${timeoutMs} ms`);
  }
}

/** Netlink exists only on Linux. */
export class NetlinkPlatformError extends NetlinkError {
  override name = 'NetlinkPlatformError';
  override readonly code = 'ERSATZ_UNSUPPORTED_PLATFORM';
  constructor(readonly platform: string) {
    super(`netlink is Linux-only, this is ${platform}: on Windows @ersatz/api uses the IP Helper API instead; other systems are not supported`);
  }
}

/** Multicast events were lost because the socket's receive buffer overflowed (ENOBUFS): the watcher fell behind. */
export class NetlinkOverrunError extends NetlinkError {
  override name = 'NetlinkOverrunError';
  override readonly code = 'ERSATZ_NETLINK_OVERRUN';
  constructor(readonly group: string) {
    super(`${group} events were lost (receive buffer overrun): read them faster or restart the watch and dump the table again`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Interface discovery: every one of these is an environment problem the user can fix, so each says how.

/** Base of the errors `discoverInterface` and its helpers throw for the machine's configuration (CLI exit 2). */
export class DiscoveryError extends NetlinkError {
  override name = 'DiscoveryError';
  override readonly code: string = 'ERSATZ_DISCOVERY';
}

/** The main table has no default route with a gateway (or none through `ifname`). */
export class NoDefaultRouteError extends DiscoveryError {
  override name = 'NoDefaultRouteError';
  override readonly code = 'ERSATZ_NO_DEFAULT_ROUTE';
  constructor(readonly ifname?: string) {
    super(ifname === undefined ? 'no default route: pass --target IP and --interface IF' : `no default route through ${ifname}: pass --target IP`);
  }
}

/** The kernel has no route to `target` (ENETUNREACH / EHOSTUNREACH from RTM_GETROUTE). */
export class NoRouteError extends DiscoveryError {
  override name = 'NoRouteError';
  override readonly code = 'ERSATZ_NO_ROUTE';
  constructor(
    readonly target: Ipv4,
    readonly errno: number,
    readonly ifname?: string,
  ) {
    super(`no route to ${Ipv4.format(target)}${ifname === undefined ? '' : ` through ${ifname}`} (${errnoName(errno)}): add one (ip route) or pass --interface IF`);
  }
}

/** No interface with that name or index in this network namespace. */
export class UnknownInterfaceError extends DiscoveryError {
  override name = 'UnknownInterfaceError';
  override readonly code = 'ERSATZ_UNKNOWN_INTERFACE';
  constructor(readonly interfaceId: string | number) {
    super(`no interface ${typeof interfaceId === 'number' ? `with index ${interfaceId}` : JSON.stringify(interfaceId)} in this network namespace: list them with 'ip link'`);
  }
}

/** The interface is administratively down (`admin`) or up without a carrier (`carrier`). */
export class InterfaceDownError extends DiscoveryError {
  override name = 'InterfaceDownError';
  override readonly code = 'ERSATZ_INTERFACE_DOWN';
  constructor(
    readonly ifname: string,
    readonly reason: 'admin' | 'carrier',
  ) {
    super(reason === 'admin' ? `${ifname} is down: bring it up with 'ip link set ${ifname} up'` : `${ifname} is up but has no carrier (cable or peer down): check the link with 'ip link show ${ifname}'`);
  }
}

/**
 * The interface holds no IPv4 address, so there is nothing to put in an ARP request's sender field. `master`: the
 * bridge or bond it is a port of, which holds the addresses (and takes the replies) in its stead.
 */
export class NoIpv4AddressError extends DiscoveryError {
  override name = 'NoIpv4AddressError';
  override readonly code = 'ERSATZ_NO_IPV4_ADDRESS';
  constructor(
    readonly ifname: string,
    readonly master?: string,
  ) {
    super(
      master === undefined
        ? `${ifname} has no IPv4 address: add one with 'ip addr add ADDRESS/PREFIX dev ${ifname}' or pick another interface`
        : `${ifname} has no IPv4 address: it is a port of ${master}, which holds the addresses: pick ${master} with --interface`,
    );
  }
}

/** Why an interface cannot carry ARP. */
export type NoLinkLayerReason = 'loopback' | 'noarp' | 'no-mac' | 'not-ethernet';

/** The interface cannot do ARP: loopback, NOARP, no 6-byte hardware address, or not Ethernet (`type` is its ARPHRD). */
export class NoLinkLayerError extends DiscoveryError {
  override name = 'NoLinkLayerError';
  override readonly code = 'ERSATZ_NO_LINK_LAYER';
  constructor(
    readonly ifname: string,
    readonly reason: NoLinkLayerReason,
    readonly type: number,
  ) {
    super(
      reason === 'loopback'
        ? `cannot ARP on ${ifname}: it has no link-layer address (loopback): pick an Ethernet interface with --interface`
        : reason === 'noarp'
          ? `cannot ARP on ${ifname}: it is marked NOARP: turn ARP on with 'ip link set ${ifname} arp on' or pick another interface`
          : reason === 'no-mac'
            ? `cannot ARP on ${ifname}: it has no link-layer address: pick an Ethernet interface with --interface`
            : `cannot ARP on ${ifname}: it is not Ethernet (ARPHRD ${type}): pick an Ethernet interface with --interface`,
    );
  }
}

/** The target is not a unicast neighbour ARP could resolve: one of this host's own addresses, broadcast or multicast. */
export class UnresolvableTargetError extends DiscoveryError {
  override name = 'UnresolvableTargetError';
  override readonly code = 'ERSATZ_UNRESOLVABLE_TARGET';
  constructor(
    readonly target: Ipv4,
    readonly reason: 'local' | 'broadcast' | 'multicast' | 'unspecified' | 'unreachable',
  ) {
    super(
      `${Ipv4.format(target)} ${
        reason === 'local'
          ? 'is one of this host\'s own addresses'
          : reason === 'unreachable'
            ? 'is routed to a blackhole, unreachable or prohibit route'
            : `is a${reason === 'unspecified' ? 'n unspecified' : ` ${reason}`} address`
      }, so there is no neighbour to ARP for: pass the IPv4 address of another host`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------
/** A neighbour request the kernel would refuse or silently misread, caught before asking it: `MAC ff:.. is the broadcast address, ...`. */
export class InvalidNeighbourError extends NetlinkError {
  override name = 'InvalidNeighbourError';
  override readonly code = 'ERSATZ_INVALID_NEIGHBOUR';
  constructor(
    readonly field: 'ip' | 'mac' | 'state' | 'interface',
    readonly value: string,
    readonly reason: string,
  ) {
    super(`${field === 'ip' ? 'IP' : field === 'mac' ? 'MAC' : field} ${value} ${reason}`);
  }
}
