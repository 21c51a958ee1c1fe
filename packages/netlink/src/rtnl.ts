// rtnetlink payloads: `struct ifinfomsg` (links), `struct ifaddrmsg` (addresses), `struct rtmsg` (routes) and
// `struct ndmsg` (neighbours), each a fixed header followed by rtattr TLVs. Only what ersatz reads or asks for is
// named; other attributes are skipped. The address-carrying ones handle AF_INET only (ersatz does ARP; ndmsg also
// AF_INET6, for IPv6 neighbours) and refuse other families with NetlinkUnsupportedError, so callers filter on
// `family` first when a dump can mix them.
import { Ipv4, Ipv6 } from '@ersatz/wire';
import { AF_INET, AF_INET6, Ifa, Ifla, Nda, Rta } from './constants.js';
import { NetlinkMalformedError, NetlinkTruncatedError, NetlinkUnsupportedError } from './error.js';
import { Attr, LE, Value, dataView, attributes, attributesLen, cString, emitAttributes, parseAttributes, align, type AttributeRepr } from './message.js';

/** One rtnetlink payload codec: `parse` checks untrusted bytes; `emit` writes `bufferLen(repr)` bytes and never checks. */
export interface Codec<R> {
  readonly layer: string;
  /** The fixed header's size, before the attributes. */
  readonly headerLen: number;
  parse(payload: Uint8Array): R;
  bufferLen(repr: R): number;
  emit(repr: R, out: Uint8Array, offset?: number): void;
}

function view(bytes: Uint8Array, layer: string, need: number): DataView {
  if (bytes.length < need) throw new NetlinkTruncatedError(layer, need, bytes.length);
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function ipv4(v: Uint8Array | undefined, layer: string, what: string): Ipv4 | undefined {
  if (v === undefined) return undefined;
  if (v.length !== 4) throw new NetlinkMalformedError(layer, `${what} is ${v.length} bytes, an IPv4 address is 4`);
  return Ipv4.fromBytes(v);
}

function ipv6(v: Uint8Array | undefined, layer: string, what: string): Ipv6 | undefined {
  if (v === undefined) return undefined;
  if (v.length !== 16) throw new NetlinkMalformedError(layer, `${what} is ${v.length} bytes, an IPv6 address is 16`);
  return Ipv6.fromBytes(v);
}

function u32(v: Uint8Array | undefined, layer: string, what: string): number | undefined {
  return v === undefined ? undefined : Value.readU32(v, layer, what);
}

/** struct nda_cacheinfo: four u32 in host order (confirmed, used, updated, refcnt). */
function cacheInfo(v: Uint8Array | undefined): NeighRepr['cacheinfo'] {
  if (v === undefined) return undefined;
  if (v.length < 16) throw new NetlinkMalformedError('ndmsg', `NDA_CACHEINFO is ${v.length} bytes, struct nda_cacheinfo is 16`);
  const dv = new DataView(v.buffer, v.byteOffset, 16);
  return { confirmed: dv.getUint32(0, LE), used: dv.getUint32(4, LE), updated: dv.getUint32(8, LE), refcnt: dv.getUint32(12, LE) };
}

function ipv4Value(ip: Ipv4): Uint8Array {
  const b = new Uint8Array(4);
  Ipv4.write(ip, b);
  return b;
}

/** Attributes in emit order, skipping the absent ones. */
function present(list: ReadonlyArray<readonly [number, Uint8Array | undefined]>): AttributeRepr[] {
  const out: AttributeRepr[] = [];
  for (const [type, value] of list) if (value !== undefined) out.push({ type, value });
  return out;
}

function requireInet(family: number, layer: string): typeof AF_INET {
  if (family !== AF_INET) throw new NetlinkUnsupportedError(layer, 'family', family);
  return AF_INET;
}

// ---------------------------------------------------------------------------------------------------------------
/** `struct ifinfomsg` offsets (16 bytes). */
export const IfInfo = { FAMILY: 0, TYPE: 2, INDEX: 4, FLAGS: 8, CHANGE: 12, SIZE: 16 } as const;

/** A link (RTM_NEWLINK answer, or a RTM_GETLINK request). */
export interface LinkRepr {
  /** AF_UNSPEC for links. */
  readonly family: number;
  /** `ifi_type`: ARPHRD_* (1 = Ethernet, 772 = loopback). */
  readonly type: number;
  /** `ifi_index` (0 in a request = look up by IFLA_IFNAME). */
  readonly index: number;
  /** `ifi_flags`: IFF_* bits. */
  readonly flags: number;
  /** `ifi_change`: which flags a request changes. */
  readonly change: number;
  /** IFLA_IFNAME. */
  readonly name?: string;
  /** IFLA_ADDRESS: the hardware address, as long as the link type makes it (6 bytes for Ethernet). */
  readonly address?: Uint8Array;
  /** IFLA_BROADCAST: the hardware broadcast address. */
  readonly broadcast?: Uint8Array;
  /** IFLA_MTU. */
  readonly mtu?: number;
  /** IFLA_OPERSTATE: RFC 2863 state (6 = up). */
  readonly operstate?: number;
  /** IFLA_MASTER: the index of the link this one is a port of (a bridge, a bond). */
  readonly master?: number;
}

export const LinkMessage: Codec<LinkRepr> = {
  layer: 'ifinfomsg',
  headerLen: IfInfo.SIZE,
  parse(payload) {
    const dv = view(payload, 'ifinfomsg', IfInfo.SIZE);
    const a = parseAttributes(payload.subarray(IfInfo.SIZE), 'ifinfomsg attributes');
    const name = a.get(Ifla.IFNAME);
    const address = a.get(Ifla.ADDRESS);
    const broadcast = a.get(Ifla.BROADCAST);
    const mtu = u32(a.get(Ifla.MTU), 'ifinfomsg', 'IFLA_MTU');
    const oper = a.get(Ifla.OPERSTATE);
    const master = u32(a.get(Ifla.MASTER), 'ifinfomsg', 'IFLA_MASTER');
    return {
      family: dv.getUint8(IfInfo.FAMILY),
      type: dv.getUint16(IfInfo.TYPE, LE),
      index: dv.getInt32(IfInfo.INDEX, LE),
      flags: dv.getUint32(IfInfo.FLAGS, LE),
      change: dv.getUint32(IfInfo.CHANGE, LE),
      ...(name && { name: cString(name) }),
      ...(address && { address }),
      ...(broadcast && { broadcast }),
      ...(mtu !== undefined && { mtu }),
      ...(oper && oper.length >= 1 && { operstate: oper[0]! }),
      ...(master !== undefined && { master }),
    };
  },
  bufferLen: (r) => IfInfo.SIZE + attributesLen(linkAttrs(r)),
  emit(r, out, offset = 0) {
    const dv = new DataView(out.buffer, out.byteOffset + offset, IfInfo.SIZE);
    dv.setUint8(IfInfo.FAMILY, r.family);
    dv.setUint8(IfInfo.FAMILY + 1, 0); // ifi_pad
    dv.setUint16(IfInfo.TYPE, r.type, LE);
    dv.setInt32(IfInfo.INDEX, r.index, LE);
    dv.setUint32(IfInfo.FLAGS, r.flags, LE);
    dv.setUint32(IfInfo.CHANGE, r.change, LE);
    emitAttributes(linkAttrs(r), out, offset + IfInfo.SIZE);
  },
};

function linkAttrs(r: LinkRepr): AttributeRepr[] {
  return present([
    [Ifla.ADDRESS, r.address],
    [Ifla.BROADCAST, r.broadcast],
    [Ifla.IFNAME, r.name === undefined ? undefined : Value.string(r.name)],
    [Ifla.MTU, r.mtu === undefined ? undefined : Value.u32(r.mtu)],
    [Ifla.OPERSTATE, r.operstate === undefined ? undefined : Uint8Array.of(r.operstate)],
    [Ifla.MASTER, r.master === undefined ? undefined : Value.u32(r.master)],
  ]);
}

// ---------------------------------------------------------------------------------------------------------------
/** `struct ifaddrmsg` offsets (8 bytes). */
export const IfAddr = { FAMILY: 0, PREFIXLEN: 1, FLAGS: 2, SCOPE: 3, INDEX: 4, SIZE: 8 } as const;

/** An IPv4 interface address (RTM_NEWADDR). */
export interface AddressRepr {
  readonly family: typeof AF_INET;
  readonly prefixLen: number;
  /** IFA_F_* bits; IFA_FLAGS (32-bit) when present, else the 8-bit `ifa_flags`. */
  readonly flags: number;
  readonly scope: number;
  readonly index: number;
  /** IFA_ADDRESS: the prefix address, or the peer on a point-to-point link. */
  readonly address?: Ipv4;
  /** IFA_LOCAL: the interface's own address. */
  readonly local?: Ipv4;
  readonly broadcast?: Ipv4;
  readonly label?: string;
}

export const AddressMessage: Codec<AddressRepr> = {
  layer: 'ifaddrmsg',
  headerLen: IfAddr.SIZE,
  parse(payload) {
    const dv = view(payload, 'ifaddrmsg', IfAddr.SIZE);
    const family = requireInet(dv.getUint8(IfAddr.FAMILY), 'ifaddrmsg');
    const prefixLen = dv.getUint8(IfAddr.PREFIXLEN);
    if (prefixLen > 32) throw new NetlinkMalformedError('ifaddrmsg', `prefix length ${prefixLen} is over 32`);
    const a = parseAttributes(payload.subarray(IfAddr.SIZE), 'ifaddrmsg attributes');
    const address = ipv4(a.get(Ifa.ADDRESS), 'ifaddrmsg', 'IFA_ADDRESS');
    const local = ipv4(a.get(Ifa.LOCAL), 'ifaddrmsg', 'IFA_LOCAL');
    const broadcast = ipv4(a.get(Ifa.BROADCAST), 'ifaddrmsg', 'IFA_BROADCAST');
    const label = a.get(Ifa.LABEL);
    const flags = u32(a.get(Ifa.FLAGS), 'ifaddrmsg', 'IFA_FLAGS') ?? dv.getUint8(IfAddr.FLAGS);
    return {
      family,
      prefixLen,
      flags,
      scope: dv.getUint8(IfAddr.SCOPE),
      index: dv.getUint32(IfAddr.INDEX, LE),
      ...(address !== undefined && { address }),
      ...(local !== undefined && { local }),
      ...(broadcast !== undefined && { broadcast }),
      ...(label && { label: cString(label) }),
    };
  },
  bufferLen: (r) => IfAddr.SIZE + attributesLen(addressAttrs(r)),
  emit(r, out, offset = 0) {
    const dv = new DataView(out.buffer, out.byteOffset + offset, IfAddr.SIZE);
    dv.setUint8(IfAddr.FAMILY, r.family);
    dv.setUint8(IfAddr.PREFIXLEN, r.prefixLen);
    dv.setUint8(IfAddr.FLAGS, r.flags & 0xff);
    dv.setUint8(IfAddr.SCOPE, r.scope);
    dv.setUint32(IfAddr.INDEX, r.index, LE);
    emitAttributes(addressAttrs(r), out, offset + IfAddr.SIZE);
  },
};

function addressAttrs(r: AddressRepr): AttributeRepr[] {
  return present([
    [Ifa.ADDRESS, r.address === undefined ? undefined : ipv4Value(r.address)],
    [Ifa.LOCAL, r.local === undefined ? undefined : ipv4Value(r.local)],
    [Ifa.LABEL, r.label === undefined ? undefined : Value.string(r.label)],
    [Ifa.BROADCAST, r.broadcast === undefined ? undefined : ipv4Value(r.broadcast)],
    // The 8-bit header field cannot hold flags above 0x80; the kernel reads IFA_FLAGS for those.
    [Ifa.FLAGS, r.flags > 0xff ? Value.u32(r.flags) : undefined],
  ]);
}

// ---------------------------------------------------------------------------------------------------------------
/** `struct rtmsg` offsets (12 bytes). */
export const RtMsg = { FAMILY: 0, DST_LEN: 1, SRC_LEN: 2, TOS: 3, TABLE: 4, PROTOCOL: 5, SCOPE: 6, TYPE: 7, FLAGS: 8, SIZE: 12 } as const;
/** `struct rtnexthop` offsets (8 bytes, then its own attributes). */
export const RtNextHop = { LEN: 0, FLAGS: 2, HOPS: 3, IFINDEX: 4, SIZE: 8 } as const;

/** One path of a multipath route (RTA_MULTIPATH). */
export interface NextHopRepr {
  readonly ifindex: number;
  /** RTNH_F_* bits. */
  readonly flags: number;
  /** `rtnh_hops`: the weight minus one. */
  readonly hops: number;
  readonly gateway?: Ipv4;
}

/** An IPv4 route (RTM_NEWROUTE answer, or a RTM_GETROUTE request). */
export interface RouteRepr {
  readonly family: typeof AF_INET;
  readonly dstLen: number;
  readonly srcLen: number;
  readonly tos: number;
  /** The routing table: RTA_TABLE when present (ids over 255), else `rtm_table`. */
  readonly table: number;
  /** RTPROT_*: who installed it (2 kernel, 3 boot, 4 static, 16 dhcp). */
  readonly protocol: number;
  /** RT_SCOPE_*: 0 universe, 253 link, 254 host. */
  readonly scope: number;
  /** RTN_*: 1 unicast, 2 local, 3 broadcast, 6 blackhole, 7 unreachable. */
  readonly type: number;
  /** RTM_F_* bits. */
  readonly flags: number;
  readonly dst?: Ipv4;
  readonly src?: Ipv4;
  readonly iif?: number;
  readonly oif?: number;
  readonly gateway?: Ipv4;
  /** RTA_PRIORITY: the metric. */
  readonly priority?: number;
  /** RTA_PREFSRC: the source address the kernel prefers for this route. */
  readonly prefsrc?: Ipv4;
  readonly multipath?: readonly NextHopRepr[];
}

export const RouteMessage: Codec<RouteRepr> = {
  layer: 'rtmsg',
  headerLen: RtMsg.SIZE,
  parse(payload) {
    const dv = view(payload, 'rtmsg', RtMsg.SIZE);
    const family = requireInet(dv.getUint8(RtMsg.FAMILY), 'rtmsg');
    const dstLen = dv.getUint8(RtMsg.DST_LEN);
    const srcLen = dv.getUint8(RtMsg.SRC_LEN);
    if (dstLen > 32 || srcLen > 32) throw new NetlinkMalformedError('rtmsg', `prefix length ${Math.max(dstLen, srcLen)} is over 32`);
    const a = parseAttributes(payload.subarray(RtMsg.SIZE), 'rtmsg attributes');
    const dst = ipv4(a.get(Rta.DST), 'rtmsg', 'RTA_DST');
    const src = ipv4(a.get(Rta.SRC), 'rtmsg', 'RTA_SRC');
    const iif = u32(a.get(Rta.IIF), 'rtmsg', 'RTA_IIF');
    const oif = u32(a.get(Rta.OIF), 'rtmsg', 'RTA_OIF');
    const gateway = ipv4(a.get(Rta.GATEWAY), 'rtmsg', 'RTA_GATEWAY');
    const priority = u32(a.get(Rta.PRIORITY), 'rtmsg', 'RTA_PRIORITY');
    const prefsrc = ipv4(a.get(Rta.PREFSRC), 'rtmsg', 'RTA_PREFSRC');
    const table = u32(a.get(Rta.TABLE), 'rtmsg', 'RTA_TABLE') ?? dv.getUint8(RtMsg.TABLE);
    const mp = a.get(Rta.MULTIPATH);
    return {
      family,
      dstLen,
      srcLen,
      tos: dv.getUint8(RtMsg.TOS),
      table,
      protocol: dv.getUint8(RtMsg.PROTOCOL),
      scope: dv.getUint8(RtMsg.SCOPE),
      type: dv.getUint8(RtMsg.TYPE),
      flags: dv.getUint32(RtMsg.FLAGS, LE),
      ...(dst !== undefined && { dst }),
      ...(src !== undefined && { src }),
      ...(iif !== undefined && { iif }),
      ...(oif !== undefined && { oif }),
      ...(gateway !== undefined && { gateway }),
      ...(priority !== undefined && { priority }),
      ...(prefsrc !== undefined && { prefsrc }),
      ...(mp && { multipath: parseNextHops(mp) }),
    };
  },
  bufferLen: (r) => RtMsg.SIZE + attributesLen(routeAttrs(r)),
  emit(r, out, offset = 0) {
    const dv = new DataView(out.buffer, out.byteOffset + offset, RtMsg.SIZE);
    dv.setUint8(RtMsg.FAMILY, r.family);
    dv.setUint8(RtMsg.DST_LEN, r.dstLen);
    dv.setUint8(RtMsg.SRC_LEN, r.srcLen);
    dv.setUint8(RtMsg.TOS, r.tos);
    dv.setUint8(RtMsg.TABLE, r.table > 0xff ? 0 : r.table); // RT_TABLE_UNSPEC: the id travels in RTA_TABLE
    dv.setUint8(RtMsg.PROTOCOL, r.protocol);
    dv.setUint8(RtMsg.SCOPE, r.scope);
    dv.setUint8(RtMsg.TYPE, r.type);
    dv.setUint32(RtMsg.FLAGS, r.flags, LE);
    emitAttributes(routeAttrs(r), out, offset + RtMsg.SIZE);
  },
};

function routeAttrs(r: RouteRepr): AttributeRepr[] {
  return present([
    [Rta.TABLE, r.table > 0xff ? Value.u32(r.table) : undefined],
    [Rta.DST, r.dst === undefined ? undefined : ipv4Value(r.dst)],
    [Rta.SRC, r.src === undefined ? undefined : ipv4Value(r.src)],
    [Rta.IIF, r.iif === undefined ? undefined : Value.u32(r.iif)],
    [Rta.OIF, r.oif === undefined ? undefined : Value.u32(r.oif)],
    [Rta.GATEWAY, r.gateway === undefined ? undefined : ipv4Value(r.gateway)],
    [Rta.PRIORITY, r.priority === undefined ? undefined : Value.u32(r.priority)],
    [Rta.PREFSRC, r.prefsrc === undefined ? undefined : ipv4Value(r.prefsrc)],
    [Rta.MULTIPATH, r.multipath === undefined ? undefined : emitNextHops(r.multipath)],
  ]);
}

function parseNextHops(bytes: Uint8Array): NextHopRepr[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: NextHopRepr[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < RtNextHop.SIZE) throw new NetlinkTruncatedError('rtnexthop', offset + RtNextHop.SIZE, bytes.length);
    const len = dv.getUint16(offset + RtNextHop.LEN, LE);
    if (len < RtNextHop.SIZE) throw new NetlinkMalformedError('rtnexthop', `rtnh_len ${len} is under the ${RtNextHop.SIZE}-byte header`);
    if (offset + len > bytes.length) throw new NetlinkTruncatedError('rtnexthop', offset + len, bytes.length);
    let gateway: Ipv4 | undefined;
    for (const attr of attributes(bytes.subarray(offset + RtNextHop.SIZE, offset + len), 'rtnexthop attributes')) {
      if (attr.type === Rta.GATEWAY) gateway = ipv4(attr.value, 'rtnexthop', 'RTA_GATEWAY');
    }
    out.push({
      ifindex: dv.getInt32(offset + RtNextHop.IFINDEX, LE),
      flags: dv.getUint8(offset + RtNextHop.FLAGS),
      hops: dv.getUint8(offset + RtNextHop.HOPS),
      ...(gateway !== undefined && { gateway }),
    });
    offset += align(len);
  }
  return out;
}

function emitNextHops(hops: readonly NextHopRepr[]): Uint8Array {
  const attrsOf = (h: NextHopRepr) => present([[Rta.GATEWAY, h.gateway === undefined ? undefined : ipv4Value(h.gateway)]]);
  const total = hops.reduce((n, h) => n + align(RtNextHop.SIZE + attributesLen(attrsOf(h))), 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  let offset = 0;
  for (const h of hops) {
    const attrs = attrsOf(h);
    const len = RtNextHop.SIZE + attributesLen(attrs);
    dv.setUint16(offset + RtNextHop.LEN, len, LE);
    dv.setUint8(offset + RtNextHop.FLAGS, h.flags);
    dv.setUint8(offset + RtNextHop.HOPS, h.hops);
    dv.setInt32(offset + RtNextHop.IFINDEX, h.ifindex, LE);
    emitAttributes(attrs, out, offset + RtNextHop.SIZE);
    offset += align(len);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
/** `struct ndmsg` offsets (12 bytes). */
export const NdMsg = { FAMILY: 0, PAD1: 1, PAD2: 2, IFINDEX: 4, STATE: 8, FLAGS: 10, TYPE: 11, SIZE: 12 } as const;

/** A neighbour (RTM_NEWNEIGH / RTM_DELNEIGH, answers, events and requests): IPv4 (`dst`) or IPv6 (`dst6`). */
export interface NeighRepr {
  readonly family: typeof AF_INET | typeof AF_INET6;
  readonly ifindex: number;
  /** `ndm_state`: NUD_* bits. */
  readonly state: number;
  /** `ndm_flags`: NTF_* bits. */
  readonly flags: number;
  /** `ndm_type`: the RTN_* type of the address (1 unicast; 0 in requests). */
  readonly type: number;
  /** NDA_DST of an AF_INET entry: absent only in dump requests. */
  readonly dst?: Ipv4;
  /** NDA_DST of an AF_INET6 entry. */
  readonly dst6?: Ipv6;
  /** NDA_LLADDR: the hardware address, as many bytes as the link type has (6 for Ethernet). */
  readonly lladdr?: Uint8Array;
  /** NDA_PROBES: probes sent since the entry was last confirmed. */
  readonly probes?: number;
  /**
   * NDA_CACHEINFO (answers and events only): clock ticks (USER_HZ, 100 a second) since the entry was last confirmed
   * by the neighbour, used, and updated (its state or address changed), and its reference count.
   */
  readonly cacheinfo?: { readonly confirmed: number; readonly used: number; readonly updated: number; readonly refcnt: number };
  /** NDA_FLAGS_EXT (answers and events only): NTF_EXT_* bits (`NtfExt`: managed, locked). */
  readonly flagsExt?: number;
}

export const NeighMessage: Codec<NeighRepr> = {
  layer: 'ndmsg',
  headerLen: NdMsg.SIZE,
  parse(payload) {
    const dv = view(payload, 'ndmsg', NdMsg.SIZE);
    const family = dv.getUint8(NdMsg.FAMILY);
    if (family !== AF_INET && family !== AF_INET6) throw new NetlinkUnsupportedError('ndmsg', 'family', family);
    const a = parseAttributes(payload.subarray(NdMsg.SIZE), 'ndmsg attributes');
    const dst = family === AF_INET ? ipv4(a.get(Nda.DST), 'ndmsg', 'NDA_DST') : undefined;
    const dst6 = family === AF_INET6 ? ipv6(a.get(Nda.DST), 'ndmsg', 'NDA_DST') : undefined;
    const lladdr = a.get(Nda.LLADDR);
    const probes = u32(a.get(Nda.PROBES), 'ndmsg', 'NDA_PROBES');
    const cacheinfo = cacheInfo(a.get(Nda.CACHEINFO));
    const flagsExt = u32(a.get(Nda.FLAGS_EXT), 'ndmsg', 'NDA_FLAGS_EXT');
    return {
      family,
      ifindex: dv.getInt32(NdMsg.IFINDEX, LE),
      state: dv.getUint16(NdMsg.STATE, LE),
      flags: dv.getUint8(NdMsg.FLAGS),
      type: dv.getUint8(NdMsg.TYPE),
      ...(dst !== undefined && { dst }),
      ...(dst6 !== undefined && { dst6 }),
      ...(lladdr && { lladdr }),
      ...(probes !== undefined && { probes }),
      ...(cacheinfo !== undefined && { cacheinfo }),
      ...(flagsExt !== undefined && { flagsExt }),
    };
  },
  // Written field by field, without intermediate arrays: batches emit ten thousand of these.
  bufferLen: (r) => NdMsg.SIZE + (r.dst === undefined ? 0 : 8) + (r.dst6 === undefined ? 0 : Attr.SIZE + 16) + (r.lladdr === undefined ? 0 : align(Attr.SIZE + r.lladdr.length)) + (r.probes === undefined ? 0 : 8),
  emit(r, out, offset = 0) {
    const dv = dataView(out);
    dv.setUint8(offset + NdMsg.FAMILY, r.family);
    dv.setUint8(offset + NdMsg.PAD1, 0);
    dv.setUint16(offset + NdMsg.PAD2, 0, LE);
    dv.setInt32(offset + NdMsg.IFINDEX, r.ifindex, LE);
    dv.setUint16(offset + NdMsg.STATE, r.state, LE);
    dv.setUint8(offset + NdMsg.FLAGS, r.flags);
    dv.setUint8(offset + NdMsg.TYPE, r.type);
    let at = offset + NdMsg.SIZE;
    if (r.dst !== undefined) {
      dv.setUint16(at + Attr.LEN, Attr.SIZE + 4, LE);
      dv.setUint16(at + Attr.TYPE, Nda.DST, LE);
      dv.setUint32(at + Attr.SIZE, r.dst); // network order
      at += 8;
    }
    if (r.dst6 !== undefined) {
      dv.setUint16(at + Attr.LEN, Attr.SIZE + 16, LE);
      dv.setUint16(at + Attr.TYPE, Nda.DST, LE);
      Ipv6.write(r.dst6, out, at + Attr.SIZE);
      at += Attr.SIZE + 16;
    }
    if (r.lladdr !== undefined) {
      const len = Attr.SIZE + r.lladdr.length;
      dv.setUint16(at + Attr.LEN, len, LE);
      dv.setUint16(at + Attr.TYPE, Nda.LLADDR, LE);
      out.set(r.lladdr, at + Attr.SIZE);
      out.fill(0, at + len, at + align(len));
      at += align(len);
    }
    if (r.probes !== undefined) {
      dv.setUint16(at + Attr.LEN, Attr.SIZE + 4, LE);
      dv.setUint16(at + Attr.TYPE, Nda.PROBES, LE);
      dv.setUint32(at + Attr.SIZE, r.probes, LE);
    }
  },
};
