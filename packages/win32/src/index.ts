// Windows backend. Importing it loads nothing native: iphlpapi.dll (and koffi) load on the first call, on win32 only.
export { adapters, bestRoute, discoverInterface, neighbours, neighAdd, neighDelete, resolveNeighbour } from './backend.js';
export { findAdapter, selectInterface, toNeighbours, type WinInterface, type Neighbour } from './select.js';
export { callGrowing, type SizedAnswer, type GrowOptions } from './grow.js';
export {
  parseSockaddrInet, emitSockaddrInet, luidInfo, stateName, parseIpNetRow2, emitIpNetRow2, parseIpNetTable2, ipNetTable2Size, parseIpForwardRow2,
  memoryOver, parseAdapterAddresses, npcapDevice,
  type NeighbourState, type IpNetRow, type IpNetRowRequest, type ForwardRow, type ReadMemory, type Adapter, type UnicastIpv4,
} from './decode.js';
export {
  SockaddrInet, NET_LUID_SIZE, IpNetRow2, IF_MAX_PHYS_ADDRESS_LENGTH, IpNetTable2, IpForwardRow2, AdapterAddresses, MAX_ADAPTER_ADDRESS_LENGTH,
  UnicastAddress, GatewayAddress, AF, GAA_FLAG, NlNeighborState, IfType, IfOperStatus, WinError,
} from './layout.js';
export {
  Win32Error, IpHelperError, AccessDeniedError, NotFoundError, InvalidParameterError, BufferTooSmallError, NoReplyError, AlreadyExistsError,
  NotSupportedError, InterfaceNotFoundError, DiscoveryError, ArgumentError, ipHelperError, winErrorName,
} from './error.js';
