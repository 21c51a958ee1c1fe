import { Ipv4, Mac, MalformedError, TruncatedError } from '@ersatz/wire';
import {
  AF, AdapterAddresses, GatewayAddress, IF_MAX_PHYS_ADDRESS_LENGTH, IpForwardRow2, IpNetRow2, IpNetTable2, MAX_ADAPTER_ADDRESS_LENGTH,
  SockaddrInet, UnicastAddress,
} from './layout.js';

// Pure functions over bytes: nothing here loads koffi, so all of it runs (and is tested) on any OS.
const LE = true; // Windows is little-endian on every architecture it runs on

function view(bytes: Uint8Array, offset: number, length: number, what: string): DataView {
  if (offset < 0 || offset + length > bytes.length) throw new TruncatedError(what, offset + length, bytes.length);
  return new DataView(bytes.buffer, bytes.byteOffset + offset, length);
}

/** Neighbour states under the names Linux uses (`ip neigh`), so both backends print the same words. */
export type NeighbourState = 'FAILED' | 'INCOMPLETE' | 'PROBE' | 'DELAY' | 'STALE' | 'REACHABLE' | 'PERMANENT';
const STATE_NAMES: readonly NeighbourState[] = ['FAILED', 'INCOMPLETE', 'PROBE', 'DELAY', 'STALE', 'REACHABLE', 'PERMANENT'];
/** NL_NEIGHBOR_STATE → name; NlnsUnreachable is Linux's FAILED. */
export function stateName(state: number): NeighbourState {
  const name = STATE_NAMES[state];
  if (name === undefined) throw new MalformedError('MIB_IPNET_ROW2', `unknown NL_NEIGHBOR_STATE ${state}`);
  return name;
}

/** Reads the IPv4 address of a SOCKADDR_IN(ET) at `offset`. Returns null for another family (AF_INET6, AF_UNSPEC). */
export function parseSockaddrInet(bytes: Uint8Array, offset = 0): Ipv4 | null {
  const dv = view(bytes, offset, SockaddrInet.IN_SIZE, 'SOCKADDR_IN');
  if (dv.getUint16(SockaddrInet.FAMILY, LE) !== AF.INET) return null;
  return Ipv4.fromBytes(bytes, offset + SockaddrInet.IN_ADDR);
}

/** Writes a SOCKADDR_IN for `ip` (port 0) over the 28 bytes of a SOCKADDR_INET at `offset`, zeroing the rest. */
export function emitSockaddrInet(ip: Ipv4, out: Uint8Array, offset = 0): void {
  out.fill(0, offset, offset + SockaddrInet.SIZE);
  new DataView(out.buffer, out.byteOffset + offset, SockaddrInet.SIZE).setUint16(SockaddrInet.FAMILY, AF.INET, LE);
  Ipv4.write(ip, out, offset + SockaddrInet.IN_ADDR);
}

/** NET_LUID.Info: the interface type and its per-type index, unpacked from the 64-bit value. */
export function luidInfo(luid: bigint): { ifType: number; netLuidIndex: number } {
  return { ifType: Number((luid >> 48n) & 0xffffn), netLuidIndex: Number((luid >> 24n) & 0xffffffn) };
}

/** One row of the neighbour (ARP) table. */
export interface IpNetRow {
  readonly ip: Ipv4;
  readonly ifindex: number;
  /** NET_LUID value (stable across reboots, unlike ifindex). */
  readonly luid: bigint;
  /** The six-byte hardware address, or null while unresolved (no address, or a zero one). */
  readonly mac: Mac | null;
  readonly state: NeighbourState;
  readonly isRouter: boolean;
  readonly isUnreachable: boolean;
  /** ReachabilityTime: ms since last reachable (or, when unreachable, since last unreachable). */
  readonly reachabilityMs: number;
}

/** Reads a MIB_IPNET_ROW2 at `offset`. Returns null for a non-IPv4 row. Throws TruncatedError, MalformedError. */
export function parseIpNetRow2(bytes: Uint8Array, offset = 0): IpNetRow | null {
  const dv = view(bytes, offset, IpNetRow2.SIZE, 'MIB_IPNET_ROW2');
  const ip = parseSockaddrInet(bytes, offset + IpNetRow2.ADDRESS);
  if (ip === null) return null;
  const macLen = dv.getUint32(IpNetRow2.PHYSICAL_ADDRESS_LENGTH, LE);
  if (macLen > IF_MAX_PHYS_ADDRESS_LENGTH) throw new MalformedError('MIB_IPNET_ROW2', `PhysicalAddressLength ${macLen} is over ${IF_MAX_PHYS_ADDRESS_LENGTH}`);
  const mac = macLen === 6 ? Mac.fromBytes(bytes, offset + IpNetRow2.PHYSICAL_ADDRESS) : null;
  const flags = dv.getUint8(IpNetRow2.FLAGS);
  return {
    ip,
    ifindex: dv.getUint32(IpNetRow2.INTERFACE_INDEX, LE),
    luid: dv.getBigUint64(IpNetRow2.INTERFACE_LUID, LE),
    mac: mac === null || Mac.isZero(mac) ? null : mac,
    state: stateName(dv.getInt32(IpNetRow2.STATE, LE)),
    isRouter: (flags & 0x1) !== 0,
    isUnreachable: (flags & 0x2) !== 0,
    reachabilityMs: dv.getUint32(IpNetRow2.REACHABILITY_TIME, LE),
  };
}

/** The fields ersatz sets in a MIB_IPNET_ROW2 it hands to Create/Delete/ResolveIpNetEntry2. */
export interface IpNetRowRequest {
  readonly ip: Ipv4;
  readonly ifindex: number;
  /** 0 (the default) lets Windows use ifindex. */
  readonly luid?: bigint;
  readonly mac?: Mac;
  readonly state?: number;
}

/** Writes all 88 bytes of a MIB_IPNET_ROW2 (everything not given is zero) into `out` and returns it. */
export function emitIpNetRow2(req: IpNetRowRequest, out: Uint8Array = new Uint8Array(IpNetRow2.SIZE)): Uint8Array {
  out.fill(0, 0, IpNetRow2.SIZE);
  const dv = new DataView(out.buffer, out.byteOffset, IpNetRow2.SIZE);
  emitSockaddrInet(req.ip, out, IpNetRow2.ADDRESS);
  dv.setUint32(IpNetRow2.INTERFACE_INDEX, req.ifindex, LE);
  dv.setBigUint64(IpNetRow2.INTERFACE_LUID, req.luid ?? 0n, LE);
  if (req.mac !== undefined) {
    Mac.write(req.mac, out, IpNetRow2.PHYSICAL_ADDRESS);
    dv.setUint32(IpNetRow2.PHYSICAL_ADDRESS_LENGTH, 6, LE);
  }
  dv.setInt32(IpNetRow2.STATE, req.state ?? 0, LE);
  return out;
}

/** Number of rows a MIB_IPNET_TABLE2 holds and the bytes it needs: read NumEntries first, then copy that much. */
export function ipNetTable2Size(numEntries: number): number {
  return IpNetTable2.TABLE + numEntries * IpNetRow2.SIZE;
}

/** Reads a MIB_IPNET_TABLE2 (GetIpNetTable2's answer). Returns its IPv4 rows in order. Throws TruncatedError. */
export function parseIpNetTable2(bytes: Uint8Array): IpNetRow[] {
  const n = view(bytes, 0, 4, 'MIB_IPNET_TABLE2').getUint32(IpNetTable2.NUM_ENTRIES, LE);
  if (bytes.length < ipNetTable2Size(n)) throw new TruncatedError(`MIB_IPNET_TABLE2 of ${n} rows`, ipNetTable2Size(n), bytes.length);
  const rows: IpNetRow[] = [];
  for (let i = 0; i < n; i++) {
    const row = parseIpNetRow2(bytes, IpNetTable2.TABLE + i * IpNetRow2.SIZE);
    if (row) rows.push(row);
  }
  return rows;
}

/** A route (MIB_IPFORWARD_ROW2), IPv4 only. */
export interface ForwardRow {
  readonly luid: bigint;
  readonly ifindex: number;
  readonly prefix: Ipv4;
  readonly prefixLen: number;
  /** The gateway, or null for an on-link route (NextHop 0.0.0.0). */
  readonly nextHop: Ipv4 | null;
  readonly metric: number;
  readonly protocol: number;
  readonly loopback: boolean;
  readonly age: number;
  readonly origin: number;
}

/** Reads a MIB_IPFORWARD_ROW2 at `offset`. Returns null when it is not an IPv4 route. Throws TruncatedError. */
export function parseIpForwardRow2(bytes: Uint8Array, offset = 0): ForwardRow | null {
  const dv = view(bytes, offset, IpForwardRow2.SIZE, 'MIB_IPFORWARD_ROW2');
  const prefix = parseSockaddrInet(bytes, offset + IpForwardRow2.DESTINATION_PREFIX);
  const nextHop = parseSockaddrInet(bytes, offset + IpForwardRow2.NEXT_HOP);
  if (prefix === null || nextHop === null) return null;
  return {
    luid: dv.getBigUint64(IpForwardRow2.INTERFACE_LUID, LE),
    ifindex: dv.getUint32(IpForwardRow2.INTERFACE_INDEX, LE),
    prefix,
    prefixLen: dv.getUint8(IpForwardRow2.DESTINATION_PREFIX_LENGTH),
    nextHop: Ipv4.isUnspecified(nextHop) ? null : nextHop,
    metric: dv.getUint32(IpForwardRow2.METRIC, LE),
    protocol: dv.getInt32(IpForwardRow2.PROTOCOL, LE),
    loopback: dv.getUint8(IpForwardRow2.LOOPBACK) !== 0,
    age: dv.getUint32(IpForwardRow2.AGE, LE),
    origin: dv.getInt32(IpForwardRow2.ORIGIN, LE),
  };
}

/**
 * Reads process memory: the bytes at [address, address + length), or fewer where the readable region ends first.
 * Throws when `address` itself is not readable. The decoders below follow pointers only through this function,
 * so tests hand them one ArrayBuffer and pretend it lives at some address.
 */
export type ReadMemory = (address: bigint, length: number) => Uint8Array;

/** A ReadMemory over `bytes`, which the caller says sit at `base`: pointers outside it throw MalformedError. */
export function memoryOver(bytes: Uint8Array, base: bigint): ReadMemory {
  return (address, length) => {
    const offset = address - base;
    if (offset < 0n || offset >= BigInt(bytes.length)) throw new MalformedError('adapter list', `pointer 0x${address.toString(16)} is outside the ${bytes.length}-byte buffer at 0x${base.toString(16)}`);
    const start = Number(offset);
    return bytes.subarray(start, Math.min(start + length, bytes.length));
  };
}

function struct(read: ReadMemory, address: bigint, size: number, what: string): { bytes: Uint8Array; dv: DataView } {
  const bytes = read(address, size);
  if (bytes.length < size) throw new TruncatedError(what, size, bytes.length);
  return { bytes, dv: new DataView(bytes.buffer, bytes.byteOffset, size) };
}

const MAX_STRING = 1024;
const latin1 = new TextDecoder('latin1');
const utf16 = new TextDecoder('utf-16le');

/** A NUL-terminated 8-bit string (AdapterName is ASCII: a GUID in braces). Null pointer → ''. */
function cString(read: ReadMemory, address: bigint): string {
  if (address === 0n) return '';
  const bytes = read(address, MAX_STRING);
  const end = bytes.indexOf(0);
  if (end < 0) throw new MalformedError('adapter list', `string at 0x${address.toString(16)} has no NUL within ${bytes.length} bytes`);
  return latin1.decode(bytes.subarray(0, end));
}

/** A NUL-terminated UTF-16LE string (PWCHAR). Null pointer → ''. */
function wString(read: ReadMemory, address: bigint): string {
  if (address === 0n) return '';
  const bytes = read(address, MAX_STRING * 2);
  for (let i = 0; i + 1 < bytes.length; i += 2) if (bytes[i] === 0 && bytes[i + 1] === 0) return utf16.decode(bytes.subarray(0, i));
  throw new MalformedError('adapter list', `wide string at 0x${address.toString(16)} has no NUL within ${bytes.length} bytes`);
}

/** The IPv4 address a SOCKET_ADDRESS { lpSockaddr, iSockaddrLength } points at, or null for another family. */
function socketAddress(read: ReadMemory, dv: DataView, at: number, lengthAt: number): Ipv4 | null {
  const pointer = dv.getBigUint64(at, LE);
  const length = dv.getInt32(lengthAt, LE);
  if (pointer === 0n || length < SockaddrInet.IN_SIZE) return null;
  return parseSockaddrInet(struct(read, pointer, SockaddrInet.IN_SIZE, 'SOCKADDR').bytes);
}

/** One IPv4 address on an adapter. */
export interface UnicastIpv4 {
  readonly ip: Ipv4;
  /** OnLinkPrefixLength: 24 for a /24. */
  readonly prefixLen: number;
}

/** One entry of GetAdaptersAddresses' list, IPv4 parts only. */
export interface Adapter {
  readonly ifindex: number;
  readonly luid: bigint;
  /** AdapterName: the interface GUID in braces, `{3F2A…}`. */
  readonly adapterName: string;
  /** The Npcap/WinPcap device name: `\Device\NPF_{GUID}`. */
  readonly device: string;
  /** FriendlyName as Windows shows it (`Ethernet`, `Wi-Fi`). */
  readonly friendlyName: string;
  readonly description: string;
  /** Null when the adapter has no six-byte hardware address (loopback, tunnels). */
  readonly mac: Mac | null;
  readonly mtu: number;
  readonly ifType: number;
  readonly operStatus: number;
  readonly ipv4Metric: number;
  readonly unicast: readonly UnicastIpv4[];
  readonly gateways: readonly Ipv4[];
}

/** Npcap names its capture devices after the adapter GUID. */
export const npcapDevice = (adapterName: string): string => `\\Device\\NPF_${adapterName}`;

// A list longer than this is a loop in corrupt memory, not a real machine.
const MAX_LIST = 4096;

/**
 * Walks the IP_ADAPTER_ADDRESSES_LH list that starts at `first` (GetAdaptersAddresses' buffer), following Next,
 * FirstUnicastAddress and FirstGatewayAddress through `read`. Returns every adapter (IPv6 addresses skipped).
 * Throws TruncatedError/MalformedError on a short record, a pointer `read` refuses, or an endless list.
 */
export function parseAdapterAddresses(read: ReadMemory, first: bigint): Adapter[] {
  const adapters: Adapter[] = [];
  for (let at = first; at !== 0n; ) {
    if (adapters.length >= MAX_LIST) throw new MalformedError('adapter list', `more than ${MAX_LIST} adapters: the Next pointers loop`);
    const { bytes, dv } = struct(read, at, AdapterAddresses.SIZE, 'IP_ADAPTER_ADDRESSES');
    // Windows writes the size of the layout it filled in; the fields read here all sit in the Vista+ layout.
    const length = dv.getUint32(AdapterAddresses.LENGTH, LE);
    if (length < AdapterAddresses.LUID + 8) throw new MalformedError('IP_ADAPTER_ADDRESSES', `Length ${length} is under ${AdapterAddresses.LUID + 8}: Windows Vista or later fills in the full record`);
    const macLen = dv.getUint32(AdapterAddresses.PHYSICAL_ADDRESS_LENGTH, LE);
    if (macLen > MAX_ADAPTER_ADDRESS_LENGTH) throw new MalformedError('IP_ADAPTER_ADDRESSES', `PhysicalAddressLength ${macLen} is over ${MAX_ADAPTER_ADDRESS_LENGTH}`);
    const adapterName = cString(read, dv.getBigUint64(AdapterAddresses.ADAPTER_NAME, LE));
    adapters.push({
      ifindex: dv.getUint32(AdapterAddresses.IF_INDEX, LE),
      luid: dv.getBigUint64(AdapterAddresses.LUID, LE),
      adapterName,
      device: npcapDevice(adapterName),
      friendlyName: wString(read, dv.getBigUint64(AdapterAddresses.FRIENDLY_NAME, LE)),
      description: wString(read, dv.getBigUint64(AdapterAddresses.DESCRIPTION, LE)),
      mac: macLen === 6 ? Mac.fromBytes(bytes, AdapterAddresses.PHYSICAL_ADDRESS) : null,
      mtu: dv.getUint32(AdapterAddresses.MTU, LE),
      ifType: dv.getUint32(AdapterAddresses.IF_TYPE, LE),
      operStatus: dv.getInt32(AdapterAddresses.OPER_STATUS, LE),
      ipv4Metric: dv.getUint32(AdapterAddresses.IPV4_METRIC, LE),
      unicast: walk(read, dv.getBigUint64(AdapterAddresses.FIRST_UNICAST_ADDRESS, LE), UnicastAddress.SIZE, UnicastAddress.NEXT, 'IP_ADAPTER_UNICAST_ADDRESS', (u) => {
        const ip = socketAddress(read, u, UnicastAddress.SOCKADDR, UnicastAddress.SOCKADDR_LENGTH);
        return ip === null ? null : { ip, prefixLen: u.getUint8(UnicastAddress.ON_LINK_PREFIX_LENGTH) };
      }),
      gateways: walk(read, dv.getBigUint64(AdapterAddresses.FIRST_GATEWAY_ADDRESS, LE), GatewayAddress.SIZE, GatewayAddress.NEXT, 'IP_ADAPTER_GATEWAY_ADDRESS', (g) =>
        socketAddress(read, g, GatewayAddress.SOCKADDR, GatewayAddress.SOCKADDR_LENGTH),
      ),
    });
    at = dv.getBigUint64(AdapterAddresses.NEXT, LE);
  }
  return adapters;
}

/** Follows a singly linked list of fixed-size records, keeping what `pick` returns that is not null. */
function walk<T>(read: ReadMemory, first: bigint, size: number, nextAt: number, what: string, pick: (dv: DataView) => T | null): T[] {
  const out: T[] = [];
  let count = 0;
  for (let at = first; at !== 0n; count++) {
    if (count >= MAX_LIST) throw new MalformedError(what, `more than ${MAX_LIST} entries: the Next pointers loop`);
    const { dv } = struct(read, at, size, what);
    const value = pick(dv);
    if (value !== null) out.push(value);
    at = dv.getBigUint64(nextAt, LE);
  }
  return out;
}

