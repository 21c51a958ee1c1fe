/**
 * Windows x64 struct layouts and constants for the IP Helper API, as the SDK headers define them
 * (netioapi.h, iptypes.h, ws2ipdef.h, ifdef.h, nldef.h, winerror.h). Every number here was measured, not worked out:
 * `offsetof`/`sizeof` compiled with x86_64-w64-mingw32-gcc 12.2 against mingw-w64 10.0 headers (Debian
 * mingw-w64-x86-64-dev), read back from the assembly (`-S`). The same layouts hold on Windows arm64 (LLP64, same
 * alignment rules). All integers are little-endian; IPv4 addresses in sockaddrs are network order.
 */

/** SOCKADDR_IN (16 bytes) / SOCKADDR_IN6 (28) / SOCKADDR_INET (union of both, 28): the family (USHORT) comes first. */
export const SockaddrInet = { FAMILY: 0, IN_PORT: 2, IN_ADDR: 4, IN_SIZE: 16, SIZE: 28 } as const;

/** NET_LUID (8 bytes): ULONG64 Value = Reserved:24 | NetLuidIndex:24 | IfType:16 (low bits first). */
export const NET_LUID_SIZE = 8;

/** MIB_IPNET_ROW2 (netioapi.h), 88 bytes. */
export const IpNetRow2 = {
  ADDRESS: 0, // SOCKADDR_INET
  INTERFACE_INDEX: 28, // NET_IFINDEX (ULONG)
  INTERFACE_LUID: 32, // NET_LUID, 8-aligned
  PHYSICAL_ADDRESS: 40, // UCHAR[IF_MAX_PHYS_ADDRESS_LENGTH = 32]
  PHYSICAL_ADDRESS_LENGTH: 72, // ULONG
  STATE: 76, // NL_NEIGHBOR_STATE (enum, 4 bytes)
  FLAGS: 80, // UCHAR: IsRouter:1, IsUnreachable:1
  REACHABILITY_TIME: 84, // ULONG LastReachable / LastUnreachable (ms)
  SIZE: 88,
} as const;
export const IF_MAX_PHYS_ADDRESS_LENGTH = 32;

/** MIB_IPNET_TABLE2: ULONG NumEntries, then MIB_IPNET_ROW2 Table[] at 8 (the rows are 8-aligned). */
export const IpNetTable2 = { NUM_ENTRIES: 0, TABLE: 8 } as const;

/** MIB_IPFORWARD_ROW2 (netioapi.h), 104 bytes. DestinationPrefix is IP_ADDRESS_PREFIX { SOCKADDR_INET; UINT8 PrefixLength }. */
export const IpForwardRow2 = {
  INTERFACE_LUID: 0,
  INTERFACE_INDEX: 8,
  DESTINATION_PREFIX: 12,
  DESTINATION_PREFIX_LENGTH: 40,
  NEXT_HOP: 44,
  SITE_PREFIX_LENGTH: 72,
  VALID_LIFETIME: 76,
  PREFERRED_LIFETIME: 80,
  METRIC: 84,
  PROTOCOL: 88,
  LOOPBACK: 92,
  AUTOCONFIGURE_ADDRESS: 93,
  PUBLISH: 94,
  IMMORTAL: 95,
  AGE: 96,
  ORIGIN: 100,
  SIZE: 104,
} as const;

/** IP_ADAPTER_ADDRESSES_LH (iptypes.h), 448 bytes; the fields ersatz reads. Pointers are 8 bytes. */
export const AdapterAddresses = {
  LENGTH: 0, // ULONG: the size Windows filled in (older layouts are shorter)
  IF_INDEX: 4,
  NEXT: 8,
  ADAPTER_NAME: 16, // PCHAR: "{GUID}", ANSI
  FIRST_UNICAST_ADDRESS: 24,
  DESCRIPTION: 64, // PWCHAR
  FRIENDLY_NAME: 72, // PWCHAR
  PHYSICAL_ADDRESS: 80, // BYTE[MAX_ADAPTER_ADDRESS_LENGTH = 8]
  PHYSICAL_ADDRESS_LENGTH: 88,
  FLAGS: 92,
  MTU: 96,
  IF_TYPE: 100,
  OPER_STATUS: 104,
  FIRST_GATEWAY_ADDRESS: 208,
  IPV4_METRIC: 216,
  LUID: 224,
  SIZE: 448,
} as const;
export const MAX_ADAPTER_ADDRESS_LENGTH = 8;

/** IP_ADAPTER_UNICAST_ADDRESS_LH (iptypes.h), 64 bytes. Address is a SOCKET_ADDRESS { LPSOCKADDR; INT length } at 16. */
export const UnicastAddress = { LENGTH: 0, FLAGS: 4, NEXT: 8, SOCKADDR: 16, SOCKADDR_LENGTH: 24, ON_LINK_PREFIX_LENGTH: 56, SIZE: 64 } as const;

/** IP_ADAPTER_GATEWAY_ADDRESS_LH (iptypes.h), 32 bytes. */
export const GatewayAddress = { LENGTH: 0, NEXT: 8, SOCKADDR: 16, SOCKADDR_LENGTH: 24, SIZE: 32 } as const;

/** Address families (ws2def.h): AF_INET6 is 23 on Windows, not Linux's 10. */
export const AF = { UNSPEC: 0, INET: 2, INET6: 23 } as const;

/** GetAdaptersAddresses flags (iptypes.h). */
export const GAA_FLAG = { SKIP_ANYCAST: 0x2, SKIP_MULTICAST: 0x4, SKIP_DNS_SERVER: 0x8, INCLUDE_PREFIX: 0x10, SKIP_FRIENDLY_NAME: 0x20, INCLUDE_GATEWAYS: 0x80 } as const;

/** NL_NEIGHBOR_STATE (nldef.h). */
export const NlNeighborState = { UNREACHABLE: 0, INCOMPLETE: 1, PROBE: 2, DELAY: 3, STALE: 4, REACHABLE: 5, PERMANENT: 6 } as const;

/** IFTYPE values (ipifcons.h) and IF_OPER_STATUS (ifdef.h) ersatz looks at. */
export const IfType = { ETHERNET_CSMACD: 6, SOFTWARE_LOOPBACK: 24, IEEE80211: 71 } as const;
export const IfOperStatus = { UP: 1, DOWN: 2 } as const;

/** Win32 error codes (winerror.h) the IP Helper calls return. */
export const WinError = {
  NO_ERROR: 0,
  ERROR_FILE_NOT_FOUND: 2,
  ERROR_ACCESS_DENIED: 5,
  ERROR_NOT_ENOUGH_MEMORY: 8,
  ERROR_INVALID_DATA: 13,
  ERROR_NOT_SUPPORTED: 50,
  ERROR_BAD_NET_NAME: 67,
  ERROR_INVALID_PARAMETER: 87,
  ERROR_BUFFER_OVERFLOW: 111,
  ERROR_INSUFFICIENT_BUFFER: 122,
  ERROR_NO_DATA: 232,
  ERROR_NOT_FOUND: 1168,
  ERROR_NETWORK_UNREACHABLE: 1231,
  ERROR_OBJECT_ALREADY_EXISTS: 5010,
} as const;
