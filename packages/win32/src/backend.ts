import { Ipv4, Mac } from '@ersatz/wire';
import { emitIpNetRow2, emitSockaddrInet, ipNetTable2Size, memoryOver, parseAdapterAddresses, parseIpForwardRow2, parseIpNetRow2, parseIpNetTable2, parseSockaddrInet, type Adapter, type ForwardRow } from './decode.js';
import { ArgumentError, ipHelperError } from './error.js';
import { callGrowing, type GrowOptions } from './grow.js';
import { iphlpapi } from './iphlpapi.js';
import { AF, GAA_FLAG, IpForwardRow2, NlNeighborState, SockaddrInet, WinError } from './layout.js';
import { findAdapter, selectInterface, toNeighbours, type Neighbour, type WinInterface } from './select.js';

// The thin layer: each function calls iphlpapi.dll, checks the code, and hands bytes to the pure decoders.

const GAA_FLAGS = GAA_FLAG.SKIP_ANYCAST | GAA_FLAG.SKIP_MULTICAST | GAA_FLAG.SKIP_DNS_SERVER | GAA_FLAG.INCLUDE_GATEWAYS;

/**
 * Lists the IPv4 adapters (GetAdaptersAddresses, AF_INET, with gateways), growing the buffer as Windows asks.
 * Returns them in Windows' order ([] when none has IPv4). Throws IpHelperError, Win32Error off Windows.
 */
export async function adapters(opts: GrowOptions = {}): Promise<Adapter[]> {
  const api = await iphlpapi();
  const { koffi } = api;
  const got = callGrowing('list adapters', 'GetAdaptersAddresses', (size) => {
    const memory = koffi.alloc('uint8_t', size) as bigint;
    try {
      const sizeOut: [number] = [size];
      const code = api.GetAdaptersAddresses(AF.INET, GAA_FLAGS, null, memory, sizeOut);
      // Every record, address and string lives inside the one buffer (the caller frees only that), so a copy
      // plus the buffer's address is enough to follow the pointers after freeing it.
      return code === WinError.NO_ERROR ? { code, size: sizeOut[0], value: { bytes: new Uint8Array(koffi.view(memory, size)).slice(), base: memory } } : { code, size: sizeOut[0] };
    } finally {
      koffi.free(memory);
    }
  }, opts);
  return got ? parseAdapterAddresses(memoryOver(got.bytes, got.base), got.base) : [];
}

/** The route Windows would use to reach `target` (GetBestRoute2) and the source address it would pick. */
export async function bestRoute(target: Ipv4): Promise<{ route: ForwardRow; source: Ipv4 | null }> {
  const api = await iphlpapi();
  const destination = new Uint8Array(SockaddrInet.SIZE);
  emitSockaddrInet(target, destination);
  const row = new Uint8Array(IpForwardRow2.SIZE);
  const source = new Uint8Array(SockaddrInet.SIZE);
  const code = api.GetBestRoute2(null, 0, null, destination, 0, row, source);
  if (code !== WinError.NO_ERROR) throw ipHelperError(`find the route to ${Ipv4.format(target)}`, 'GetBestRoute2', code, code === WinError.ERROR_NOT_FOUND || code === WinError.ERROR_NETWORK_UNREACHABLE ? 'no route: check the address, or pass --interface' : undefined);
  const route = parseIpForwardRow2(row);
  if (!route) throw ipHelperError(`find the route to ${Ipv4.format(target)}`, 'GetBestRoute2', WinError.ERROR_INVALID_DATA, 'Windows answered with a non-IPv4 route');
  return { route, source: parseSockaddrInet(source) };
}

/**
 * Finds the interface to run ARP on and what to resolve: `ifname` (Npcap device, `{GUID}` or friendly name), else the
 * route to `target`, else the default-gateway adapter. Returns it; throws InterfaceNotFoundError, DiscoveryError, IpHelperError.
 */
export async function discoverInterface(opts: { ifname?: string; target?: Ipv4 } = {}): Promise<WinInterface> {
  const list = await adapters();
  const route = opts.ifname === undefined && opts.target !== undefined ? await bestRoute(opts.target) : undefined;
  return selectInterface(list, opts, route && { ifindex: route.route.ifindex, source: route.source });
}

/** The IPv4 neighbour (ARP) table (GetIpNetTable2), interfaces named by Npcap device. Throws IpHelperError. */
export async function neighbours(): Promise<Neighbour[]> {
  const api = await iphlpapi();
  const { koffi } = api;
  const out: [bigint | null] = [null];
  const code = api.GetIpNetTable2(AF.INET, out);
  if (code === WinError.ERROR_NOT_FOUND) return []; // documented: no entries for the family
  if (code !== WinError.NO_ERROR) throw ipHelperError('list neighbours', 'GetIpNetTable2', code);
  const table = out[0];
  if (table === null) return [];
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(koffi.view(table, ipNetTable2Size(koffi.decode(table, 'uint32_t') as number))).slice();
  } finally {
    api.FreeMibTable(table);
  }
  return toNeighbours(parseIpNetTable2(bytes), await adapters());
}

/** Where a neighbour call acts: the named adapter, else the one the route to `ip` leaves by. */
async function interfaceFor(ip: Ipv4, ifname: string | undefined): Promise<{ ifindex: number; label: string }> {
  if (ifname !== undefined) {
    const a = findAdapter(await adapters(), ifname);
    return { ifindex: a.ifindex, label: `${a.friendlyName || a.device} (ifindex ${a.ifindex})` };
  }
  const { route } = await bestRoute(ip);
  return { ifindex: route.ifindex, label: `ifindex ${route.ifindex}` };
}

function checkUnicast(ip: Ipv4): void {
  // Windows refuses loopback itself; the rest ARP never resolves (multicast maps directly, RFC 1112).
  if (Ipv4.isUnspecified(ip) || Ipv4.isBroadcast(ip) || Ipv4.isMulticast(ip) || Ipv4.isLoopback(ip)) throw new ArgumentError(`${Ipv4.format(ip)} is not a unicast host address: give the neighbour's IPv4 address`);
}

/**
 * Adds a neighbour entry `ip → mac` (CreateIpNetEntry2): PERMANENT by default, STALE when `permanent` is false
 * (the Linux backend's meaning). Needs Administrator. Throws ArgumentError, AccessDeniedError, AlreadyExistsError,
 * NotFoundError, InvalidParameterError, IpHelperError.
 */
export async function neighAdd({ ip, mac, ifname, permanent = true }: { ip: Ipv4; mac: Mac; ifname?: string; permanent?: boolean }): Promise<void> {
  checkUnicast(ip);
  if (Mac.isZero(mac)) throw new ArgumentError('00:00:00:00:00:00 is not a station address: give the MAC the entry should map to');
  const api = await iphlpapi();
  const where = await interfaceFor(ip, ifname);
  const row = emitIpNetRow2({ ip, ifindex: where.ifindex, mac, state: permanent ? NlNeighborState.PERMANENT : NlNeighborState.STALE });
  const code = api.CreateIpNetEntry2(row);
  if (code !== WinError.NO_ERROR) throw ipHelperError(`add neighbour ${Ipv4.format(ip)} ${mac} on ${where.label}`, 'CreateIpNetEntry2', code);
}

/** Deletes the neighbour entry for `ip` (DeleteIpNetEntry2). Needs Administrator. Throws NotFoundError when there is none, AccessDeniedError, IpHelperError. */
export async function neighDelete({ ip, ifname }: { ip: Ipv4; ifname?: string }): Promise<void> {
  checkUnicast(ip);
  const api = await iphlpapi();
  const where = await interfaceFor(ip, ifname);
  const code = api.DeleteIpNetEntry2(emitIpNetRow2({ ip, ifindex: where.ifindex }));
  if (code !== WinError.NO_ERROR) {
    const subject = `delete neighbour ${Ipv4.format(ip)} on ${where.label}`;
    throw ipHelperError(subject, 'DeleteIpNetEntry2', code, code === WinError.ERROR_NOT_FOUND ? `no entry for that address: list them with Get-NetNeighbor -InterfaceIndex ${where.ifindex}` : undefined);
  }
}

/**
 * Has Windows resolve `ip` now (ResolveIpNetEntry2: flushes the entry, sends ARP, waits). Returns the entry.
 * Throws NoReplyError when nobody answers, NotFoundError, InvalidParameterError, IpHelperError.
 */
export async function resolveNeighbour(ip: Ipv4, opts: { ifname?: string } = {}): Promise<Neighbour> {
  checkUnicast(ip);
  const api = await iphlpapi();
  const where = await interfaceFor(ip, opts.ifname);
  const row = emitIpNetRow2({ ip, ifindex: where.ifindex });
  const code = await api.ResolveIpNetEntry2Async(row, null);
  if (code !== WinError.NO_ERROR) throw ipHelperError(`resolve ${Ipv4.format(ip)} on ${where.label}`, 'ResolveIpNetEntry2', code, code === WinError.ERROR_BAD_NET_NAME ? `no ARP reply from ${Ipv4.format(ip)}: it is down or not on that link` : undefined);
  const parsed = parseIpNetRow2(row);
  if (!parsed) throw ipHelperError(`resolve ${Ipv4.format(ip)}`, 'ResolveIpNetEntry2', WinError.ERROR_INVALID_DATA, 'Windows answered with a non-IPv4 row');
  const [entry] = toNeighbours([parsed], await adapters());
  return entry!;
}

