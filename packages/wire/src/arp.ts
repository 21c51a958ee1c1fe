import { Ipv4, Mac } from './address.js';
import { needRoom, readU16, writeU16 } from './bytes.js';
import { FieldMismatchError, TruncatedError, UnsupportedError } from './error.js';
import { EtherType } from './ethernet.js';

/** ARP operation codes (RFC 826 request/reply, RFC 903 RARP, RFC 2390 InARP). */
export const ArpOp = {
  Request: 1,
  Reply: 2,
  RarpRequest: 3,
  RarpReply: 4,
  InArpRequest: 8,
  InArpReply: 9,
} as const;
export type ArpOp = (typeof ArpOp)[keyof typeof ArpOp];

/** Hardware types (ar$hrd); only Ethernet has a Repr. */
export const ArpHardware = { Ethernet: 1 } as const;

/** The fixed part before the addresses: hrd, pro, hln, pln, op. */
export const ARP_HEADER_LEN = 8;
/** An Ethernet + IPv4 ARP packet: 8 + 2 × (6 + 4) = 28 bytes. */
export const ARP_ETH_IPV4_LEN = 28;

const OPS: ReadonlySet<number> = new Set(Object.values(ArpOp));

/** True when `op` is one of ArpOp's values. */
export function isArpOp(op: number): op is ArpOp {
  return OPS.has(op);
}

/** The EtherType that carries an operation: RARP's own 0x8035 for RARP (RFC 903), 0x0806 for the rest. */
export function arpEtherType(op: ArpOp): typeof EtherType.Arp | typeof EtherType.Rarp {
  return op === ArpOp.RarpRequest || op === ArpOp.RarpReply ? EtherType.Rarp : EtherType.Arp;
}

// RFC 826 field names; the address offsets depend on the packet's own hln/pln, so only the fixed ones are here.
const F = { HTYPE: 0, PTYPE: 2, HLEN: 4, PLEN: 5, OPER: 6, SHA: 8 } as const;

/**
 * A view over an ARP packet of any hardware and protocol type (never copies). Address offsets honour the packet's
 * own hlen/plen, so the view reads RARP, InARP, FireWire or IPv6-over-ARP packets alike; only ArpRepr insists on
 * Ethernet + IPv4.
 */
export class ArpPacket {
  readonly #dv: DataView;

  private constructor(readonly bytes: Uint8Array) {
    this.#dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Wraps bytes without looking at them (for emit). */
  static unchecked(bytes: Uint8Array): ArpPacket {
    return new ArpPacket(bytes);
  }

  /** Wraps untrusted bytes. Returns the view; throws TruncatedError when the fixed header or the addresses it announces are cut short. */
  static checked(bytes: Uint8Array): ArpPacket {
    const packet = new ArpPacket(bytes);
    packet.checkLen();
    return packet;
  }

  /** Throws TruncatedError unless the 8-byte header and the 2 × (hlen + plen) address bytes it announces are present. */
  checkLen(): void {
    checkArpLenAt(this.bytes, 0);
  }

  /** ar$hrd: hardware type (1 = Ethernet). */
  get htype(): number {
    return this.#dv.getUint16(F.HTYPE);
  }
  set htype(v: number) {
    this.#dv.setUint16(F.HTYPE, v);
  }
  /** ar$pro: protocol type, an EtherType (0x0800 = IPv4). */
  get ptype(): number {
    return this.#dv.getUint16(F.PTYPE);
  }
  set ptype(v: number) {
    this.#dv.setUint16(F.PTYPE, v);
  }
  /** ar$hln: hardware address length in bytes. */
  get hlen(): number {
    return this.#dv.getUint8(F.HLEN);
  }
  set hlen(v: number) {
    this.#dv.setUint8(F.HLEN, v);
  }
  /** ar$pln: protocol address length in bytes. */
  get plen(): number {
    return this.#dv.getUint8(F.PLEN);
  }
  set plen(v: number) {
    this.#dv.setUint8(F.PLEN, v);
  }
  /** ar$op: the operation, possibly one ArpOp does not list. */
  get operation(): number {
    return this.#dv.getUint16(F.OPER);
  }
  set operation(v: number) {
    this.#dv.setUint16(F.OPER, v);
  }

  /** 8 + 2 × (hlen + plen): the bytes this packet occupies; anything after is link padding. */
  get packetLen(): number {
    return ARP_HEADER_LEN + 2 * (this.hlen + this.plen);
  }

  /** ar$sha: sender hardware address (a view). */
  get sha(): Uint8Array {
    return this.#field(F.SHA, this.hlen);
  }
  /** ar$spa: sender protocol address (a view). */
  get spa(): Uint8Array {
    return this.#field(F.SHA + this.hlen, this.plen);
  }
  /** ar$tha: target hardware address (a view). */
  get tha(): Uint8Array {
    return this.#field(F.SHA + this.hlen + this.plen, this.hlen);
  }
  /** ar$tpa: target protocol address (a view). */
  get tpa(): Uint8Array {
    return this.#field(F.SHA + 2 * this.hlen + this.plen, this.plen);
  }

  #field(at: number, len: number): Uint8Array {
    return this.bytes.subarray(at, at + len);
  }
}

/** An Ethernet + IPv4 ARP packet as a plain value, in RFC 826's words. */
export type ArpRepr = {
  readonly operation: ArpOp;
  readonly senderMac: Mac;
  readonly senderIp: Ipv4;
  readonly targetMac: Mac;
  readonly targetIp: Ipv4;
};

export const ArpRepr = {
  /**
   * Reads a checked packet as Ethernet + IPv4. Returns the Repr; throws UnsupportedError for another htype or ptype
   * or an operation ArpOp does not list, FieldMismatchError when hlen/plen disagree with htype 1 / ptype 0x0800
   * (reported, never trusted).
   */
  parse(packet: ArpPacket): ArpRepr {
    const { htype, ptype, hlen, plen, operation } = packet;
    checkEthIpv4(htype, ptype, hlen, plen, operation);
    const b = packet.bytes;
    return {
      operation: operation as ArpOp,
      senderMac: Mac.fromBytes(b, SHA),
      senderIp: Ipv4.fromBytes(b, SPA),
      targetMac: Mac.fromBytes(b, THA),
      targetIp: Ipv4.fromBytes(b, TPA),
    };
  },

  /** Writes the 28-byte packet at the start of `packet`. Throws TruncatedError when it is shorter. */
  emit(repr: ArpRepr, packet: ArpPacket): void {
    writeArp(repr, packet.bytes, 0);
  },

  /** Always 28: Ethernet + IPv4 addresses. */
  bufferLen(_repr?: ArpRepr): number {
    return ARP_ETH_IPV4_LEN;
  },
} as const;

// Offsets of the addresses when hlen = 6 and plen = 4.
const SHA = 8;
const SPA = 14;
const THA = 18;
const TPA = 24;

/**
 * The checks ArpRepr.parse makes on the fixed header, in its order; shared with the hot-path frame parser so both
 * report the same error for the same bytes.
 */
export function checkEthIpv4(htype: number, ptype: number, hlen: number, plen: number, operation: number): void {
  if (htype !== ArpHardware.Ethernet) throw new UnsupportedError('arp', 'htype', htype);
  if (ptype !== EtherType.Ipv4) throw new UnsupportedError('arp', 'ptype', ptype);
  if (hlen !== 6) throw new FieldMismatchError('arp', 'hlen', hlen, 'htype', htype, 6);
  if (plen !== 4) throw new FieldMismatchError('arp', 'plen', plen, 'ptype', ptype, 4);
  if (!OPS.has(operation)) throw new UnsupportedError('arp', 'operation', operation);
}

/**
 * The checks of ArpPacket.checked and then checkEthIpv4 on the ARP packet at `at` in `bytes` (to the end of it),
 * without a view: the per-frame paths (parseArpFrame, the decode worker) use it. Returns the operation. Throws
 * TruncatedError when the header or the addresses it announces are cut short, then what checkEthIpv4 throws.
 */
export function checkEthIpv4At(bytes: Uint8Array, at: number): ArpOp {
  checkArpLenAt(bytes, at);
  const operation = readU16(bytes, at + F.OPER);
  checkEthIpv4(readU16(bytes, at + F.HTYPE), readU16(bytes, at + F.PTYPE), bytes[at + F.HLEN]!, bytes[at + F.PLEN]!, operation);
  return operation as ArpOp;
}

/** ArpPacket.checkLen for the packet at `at` in `bytes` (to the end of it). */
function checkArpLenAt(bytes: Uint8Array, at: number): void {
  const have = bytes.length - at;
  if (have < ARP_HEADER_LEN) throw new TruncatedError('arp', ARP_HEADER_LEN, have);
  const need = ARP_HEADER_LEN + 2 * (bytes[at + F.HLEN]! + bytes[at + F.PLEN]!);
  if (have < need) throw new TruncatedError('arp', need, have);
}

/** Writes the Repr as 28 bytes at `offset`. Allocates nothing. Throws TruncatedError when they do not fit. */
export function writeArp(repr: ArpRepr, bytes: Uint8Array, offset: number): void {
  needRoom(bytes, offset, ARP_ETH_IPV4_LEN, 'arp');
  writeU16(bytes, offset + F.HTYPE, ArpHardware.Ethernet);
  writeU16(bytes, offset + F.PTYPE, EtherType.Ipv4);
  bytes[offset + F.HLEN] = 6;
  bytes[offset + F.PLEN] = 4;
  writeU16(bytes, offset + F.OPER, repr.operation);
  Mac.write(repr.senderMac, bytes, offset + SHA);
  Mac.write(repr.targetMac, bytes, offset + THA);
  // The addresses are written here, not through Ipv4.write: one above 2^31 is a double, and handing a double to a
  // call V8 did not inline boxes it in a new HeapNumber (16 bytes per address, measured by the codec benchmark).
  const spa = repr.senderIp;
  bytes[offset + SPA] = spa >>> 24;
  bytes[offset + SPA + 1] = (spa >>> 16) & 0xff;
  bytes[offset + SPA + 2] = (spa >>> 8) & 0xff;
  bytes[offset + SPA + 3] = spa & 0xff;
  const tpa = repr.targetIp;
  bytes[offset + TPA] = tpa >>> 24;
  bytes[offset + TPA + 1] = (tpa >>> 16) & 0xff;
  bytes[offset + TPA + 2] = (tpa >>> 8) & 0xff;
  bytes[offset + TPA + 3] = tpa & 0xff;
}
