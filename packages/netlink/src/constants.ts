// Numbers from the Linux UAPI headers (<linux/netlink.h>, <linux/rtnetlink.h>, <linux/if_link.h>,
// <linux/if_addr.h>, <linux/neighbour.h>, <linux/if.h>, <linux/if_arp.h>). They are ABI: stable across kernels.

export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_NETLINK = 16;
export const NETLINK_ROUTE = 0;

/** `nlmsg_type` values below 0x10 are netlink control messages. */
export const Nlmsg = { NOOP: 1, ERROR: 2, DONE: 3, OVERRUN: 4 } as const;

/** `nlmsg_flags`. Request and dump bits share values with the NEW/ACK bits, as in the header. */
export const NlmF = {
  REQUEST: 0x01,
  MULTI: 0x02,
  ACK: 0x04,
  ECHO: 0x08,
  DUMP_INTR: 0x10,
  DUMP_FILTERED: 0x20,
  // GET requests
  ROOT: 0x100,
  MATCH: 0x200,
  DUMP: 0x300,
  // NEW requests
  REPLACE: 0x100,
  EXCL: 0x200,
  CREATE: 0x400,
  APPEND: 0x800,
  // ACK messages
  CAPPED: 0x100,
  ACK_TLVS: 0x200,
} as const;

/** rtnetlink message types used here. */
export const Rtm = {
  NEWLINK: 16,
  DELLINK: 17,
  GETLINK: 18,
  NEWADDR: 20,
  DELADDR: 21,
  GETADDR: 22,
  NEWROUTE: 24,
  DELROUTE: 25,
  GETROUTE: 26,
  NEWNEIGH: 28,
  DELNEIGH: 29,
  GETNEIGH: 30,
} as const;

/** Multicast groups (`RTNLGRP_*`): group n is bit n-1 of `nl_groups`, or NETLINK_ADD_MEMBERSHIP n. */
export const RtnlGrp = { LINK: 1, NEIGH: 3, IPV4_IFADDR: 5, IPV4_ROUTE: 7 } as const;

/** Socket options at SOL_NETLINK. */
export const SOL_NETLINK = 270;
export const NetlinkOpt = { ADD_MEMBERSHIP: 1, DROP_MEMBERSHIP: 2, NO_ENOBUFS: 5, CAP_ACK: 10, EXT_ACK: 11, GET_STRICT_CHK: 12 } as const;
// SOL_SOCKET, SOCK_RAW, SOCK_CLOEXEC and MSG_DONTWAIT are @ersatz/os's, with the socket calls; these only netlink uses.
export const SO_RCVTIMEO = 20;
export const SOCK_NONBLOCK = 0o4000;
export const MSG_TRUNC = 0x20;

/** `struct nlmsgerr` extended-ACK attributes. */
export const NlmsgerrAttr = { MSG: 1, OFFS: 2 } as const;

/** `IFLA_*` (ifinfomsg attributes). */
export const Ifla = { ADDRESS: 1, BROADCAST: 2, IFNAME: 3, MTU: 4, LINK: 5, MASTER: 10, OPERSTATE: 16, LINKMODE: 17 } as const;
/** `IFA_*` (ifaddrmsg attributes). `IFA_ADDRESS` is the peer on point-to-point links; `IFA_LOCAL` the interface's own. */
export const Ifa = { ADDRESS: 1, LOCAL: 2, LABEL: 3, BROADCAST: 4, FLAGS: 8 } as const;
/** `IFA_F_*` address flags. */
export const IfaF = { SECONDARY: 0x01, NODAD: 0x02, DEPRECATED: 0x20, TENTATIVE: 0x40, PERMANENT: 0x80 } as const;
/** `RTA_*` (rtmsg attributes). */
export const Rta = { DST: 1, SRC: 2, IIF: 3, OIF: 4, GATEWAY: 5, PRIORITY: 6, PREFSRC: 7, MULTIPATH: 9, TABLE: 15, NH_ID: 30 } as const;
/** `RTN_*` route types. */
export const Rtn = { UNSPEC: 0, UNICAST: 1, LOCAL: 2, BROADCAST: 3, ANYCAST: 4, MULTICAST: 5, BLACKHOLE: 6, UNREACHABLE: 7, PROHIBIT: 8, THROW: 9, NAT: 10 } as const;
export const RT_TABLE_MAIN = 254;
export const RT_SCOPE_UNIVERSE = 0;
/** `RTM_F_*` (rtmsg flags). */
export const RtmF = { NOTIFY: 0x100, CLONED: 0x200, LOOKUP_TABLE: 0x1000, FIB_MATCH: 0x2000 } as const;
/** `NDA_*` (ndmsg attributes). */
export const Nda = { DST: 1, LLADDR: 2, CACHEINFO: 3, PROBES: 4, FLAGS_EXT: 15 } as const;

/** `NUD_*` neighbour states: one bit each. */
export const Nud = {
  NONE: 0x00,
  INCOMPLETE: 0x01,
  REACHABLE: 0x02,
  STALE: 0x04,
  DELAY: 0x08,
  PROBE: 0x10,
  FAILED: 0x20,
  NOARP: 0x40,
  PERMANENT: 0x80,
} as const;

/** `NTF_*` neighbour flags (`ndm_flags`). */
export const Ntf = { USE: 0x01, SELF: 0x02, MASTER: 0x04, PROXY: 0x08, EXT_LEARNED: 0x10, OFFLOADED: 0x20, STICKY: 0x40, ROUTER: 0x80 } as const;
/** `NTF_EXT_*`: the bits of NDA_FLAGS_EXT (Linux ≥ 5.16), flags that no longer fit `ndm_flags`. */
export const NtfExt = { MANAGED: 0x01, LOCKED: 0x02 } as const;

/** `IFF_*` interface flags (`ifi_flags`). */
export const Iff = {
  UP: 0x1,
  BROADCAST: 0x2,
  LOOPBACK: 0x8,
  POINTOPOINT: 0x10,
  RUNNING: 0x40,
  NOARP: 0x80,
  PROMISC: 0x100,
  MULTICAST: 0x1000,
  LOWER_UP: 0x10000,
  DORMANT: 0x20000,
} as const;

/** `ARPHRD_*` link types (`ifi_type`); the ones ersatz meets, the rest stay numbers. */
export const Arphrd = { ETHER: 1, IEEE802: 6, INFINIBAND: 32, LOOPBACK: 772, SIT: 776, IPGRE: 778, NONE: 0xfffe, VOID: 0xffff } as const;
