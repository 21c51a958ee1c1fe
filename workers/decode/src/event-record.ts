// The compact binary event record the decode worker writes into the events ring and the main thread reads back into
// plain objects. Addresses stay in wire order (big-endian), copied straight from the frame; the capture timestamp is
// the ring record's own tsNs, so it is not repeated here.
import { Ipv4, Mac, type ArpOp, type ArpRepr } from '@ersatz/wire';

/** Byte 0 of every record. */
export const EventKind = { Arp: 1, Icmp: 2 } as const;
export type EventKind = (typeof EventKind)[keyof typeof EventKind];

/** Bits of the FLAGS byte. */
export const EventFlag = { VLAN: 0x01 } as const;

/**
 * The header every record starts with:
 *
 *   byte  0  KIND     u8   EventKind
 *   byte  1  FLAGS    u8   EventFlag.VLAN when the frame carried an 802.1Q tag
 *   byte  2  VLAN     u16  the outermost VLAN id (0 when untagged)
 *   byte  4  ETH_DST  6    Ethernet destination
 *   byte 10  ETH_SRC  6    Ethernet source
 *   byte 16           the body
 */
export const Rec = { KIND: 0, FLAGS: 1, VLAN: 2, ETH_DST: 4, ETH_SRC: 10, BODY: 16 } as const;

/**
 * An ARP body: the operation and the 20 address bytes exactly as they follow it in an Ethernet/IPv4 ARP packet
 * (sha, spa, tha, tpa), so the decoder copies them as one block.
 *
 *   byte 16  OPER  u16
 *   byte 18  SHA   6     sender hardware address
 *   byte 24  SPA   4     sender protocol address
 *   byte 28  THA   6     target hardware address
 *   byte 34  TPA   4     target protocol address
 *   38 bytes in all
 */
export const ArpRec = { OPER: 16, SHA: 18, SPA: 24, THA: 28, TPA: 34, LEN: 38 } as const;

/**
 * An ICMP echo body:
 *
 *   byte 16  SRC    4    IPv4 source
 *   byte 20  DST    4    IPv4 destination
 *   byte 24  TTL    u8
 *   byte 25  TYPE   u8   0 echo reply, 8 echo request
 *   byte 26  CODE   u8
 *   byte 27         (zero)
 *   byte 28  ID     u16  echo identifier
 *   byte 30  SEQ    u16  echo sequence number
 *   byte 32  BYTES  u16  ICMP message length, header included (what ping prints as "64 bytes from")
 *   34 bytes in all
 */
export const IcmpRec = { SRC: 16, DST: 20, TTL: 24, TYPE: 25, CODE: 26, ID: 28, SEQ: 30, BYTES: 32, LEN: 34 } as const;

/**
 * An ICMP error about an echo request (Destination Unreachable, Redirect, Time Exceeded, Parameter Problem): the
 * echo body (SRC the router that sent it, ID and SEQ the quoted request's), then
 *
 *   byte 34  QSRC   4    the quoted request's IPv4 source
 *   byte 38  QDST   4    the quoted request's IPv4 destination
 *   byte 42  INFO   u32  the error's 4 bytes after the checksum (Redirect's gateway, Frag Needed's MTU)
 *   46 bytes in all
 */
export const IcmpErrRec = { QSRC: 34, QDST: 38, INFO: 42, LEN: 46 } as const;

/** The longest record: what a scratch buffer must hold. */
export const MAX_RECORD_BYTES = Math.max(ArpRec.LEN, IcmpRec.LEN, IcmpErrRec.LEN);

/** An ARP frame seen on the link. `tsNs`: capture time, `process.hrtime.bigint()` clock. */
export interface ArpEvent {
  readonly kind: 'arp';
  readonly tsNs: bigint;
  readonly ethSrc: Mac;
  readonly ethDst: Mac;
  /** The outermost 802.1Q VLAN id, null when untagged. */
  readonly vlan: number | null;
  readonly arp: ArpRepr;
}

/**
 * An ICMP echo request or reply seen on the link (IPv4, not fragmented, checksums verified), or an ICMP error about
 * an echo request (`error` set; `id`/`seq` then are the quoted request's). What @ersatz/resolve's ping$ matches on.
 */
export interface IcmpObservation {
  /** Capture time in ns, `process.hrtime.bigint()` clock (the link's `now()`). */
  readonly tsNs: bigint;
  readonly ethSrc: Mac;
  readonly ethDst: Mac;
  /** IPv4 source and destination (of an error: the router that sent it, and us). */
  readonly src: Ipv4;
  readonly dst: Ipv4;
  readonly ttl: number;
  /** 0 echo reply, 8 echo request; 3, 5, 11, 12 an error (IcmpType). */
  readonly type: number;
  readonly code: number;
  readonly id: number;
  readonly seq: number;
  /** ICMP message length, header included: what ping prints as "64 bytes". */
  readonly bytes: number;
  /** Only on errors (types 3, 5, 11, 12): the quoted request's addresses and the error's info word. */
  readonly error?: IcmpErrorQuote;
}

/** An IcmpObservation as the events ring carries it: tagged for the PipelineEvent union, with the frame's VLAN. */
export interface IcmpEvent extends IcmpObservation {
  readonly kind: 'icmp';
  /** The outermost 802.1Q VLAN id, null when untagged. */
  readonly vlan: number | null;
}

/** What an ICMP error says about the echo request it quotes (see IcmpErrRec). */
export interface IcmpErrorQuote {
  readonly quotedSrc: Ipv4;
  readonly quotedDst: Ipv4;
  /**
   * The 4 bytes after the checksum: Redirect's gateway, Frag Needed's next-hop MTU (low 16 bits), Parameter
   * Problem's pointer (top 8 bits), else 0.
   */
  readonly info: number;
}

export type PipelineEvent = ArpEvent | IcmpEvent;

/** Thrown by readEvent for bytes that are not a record this module wrote (a different version, a corrupted ring). */
export class EventRecordError extends Error {
  override name = 'EventRecordError';
  constructor(
    readonly kind: number,
    readonly length: number,
  ) {
    super(`event record: kind ${kind} with ${length} bytes is not an ARP (${EventKind.Arp}, ${ArpRec.LEN} bytes) or ICMP (${EventKind.Icmp}, ${IcmpRec.LEN} or ${IcmpErrRec.LEN} bytes) record`);
  }
}

/** Writes the common header at the start of `out`. `vlan` null: untagged. */
export function writeHeader(out: Uint8Array, kind: EventKind, vlan: number | null, frame: Uint8Array): void {
  out[Rec.KIND] = kind;
  out[Rec.FLAGS] = vlan === null ? 0 : EventFlag.VLAN;
  out[Rec.VLAN] = vlan === null ? 0 : vlan >>> 8;
  out[Rec.VLAN + 1] = vlan === null ? 0 : vlan & 0xff;
  // Ethernet's first 12 bytes are dst then src: the record keeps that order.
  out.set(frame.subarray(0, 12), Rec.ETH_DST);
}

/**
 * Reads a record back into a plain object. Returns the event; throws EventRecordError when the kind and length do
 * not match a record writeHeader + the decoder produce.
 */
export function readEvent(rec: Uint8Array, tsNs: bigint): PipelineEvent {
  const kind = rec[Rec.KIND];
  const vlan = rec[Rec.FLAGS]! & EventFlag.VLAN ? u16(rec, Rec.VLAN) : null;
  if (kind === EventKind.Arp && rec.length === ArpRec.LEN) {
    return {
      kind: 'arp',
      tsNs,
      ethSrc: Mac.fromBytes(rec, Rec.ETH_SRC),
      ethDst: Mac.fromBytes(rec, Rec.ETH_DST),
      vlan,
      arp: {
        operation: u16(rec, ArpRec.OPER) as ArpOp,
        senderMac: Mac.fromBytes(rec, ArpRec.SHA),
        senderIp: Ipv4.fromBytes(rec, ArpRec.SPA),
        targetMac: Mac.fromBytes(rec, ArpRec.THA),
        targetIp: Ipv4.fromBytes(rec, ArpRec.TPA),
      },
    };
  }
  if (kind === EventKind.Icmp && (rec.length === IcmpRec.LEN || rec.length === IcmpErrRec.LEN)) {
    const echo: IcmpEvent = {
      kind: 'icmp',
      tsNs,
      ethSrc: Mac.fromBytes(rec, Rec.ETH_SRC),
      ethDst: Mac.fromBytes(rec, Rec.ETH_DST),
      vlan,
      src: Ipv4.fromBytes(rec, IcmpRec.SRC),
      dst: Ipv4.fromBytes(rec, IcmpRec.DST),
      ttl: rec[IcmpRec.TTL]!,
      type: rec[IcmpRec.TYPE]!,
      code: rec[IcmpRec.CODE]!,
      id: u16(rec, IcmpRec.ID),
      seq: u16(rec, IcmpRec.SEQ),
      bytes: u16(rec, IcmpRec.BYTES),
    };
    if (rec.length === IcmpRec.LEN) return echo;
    const info = ((rec[IcmpErrRec.INFO]! << 24) | (rec[IcmpErrRec.INFO + 1]! << 16) | u16(rec, IcmpErrRec.INFO + 2)) >>> 0;
    return { ...echo, error: { quotedSrc: Ipv4.fromBytes(rec, IcmpErrRec.QSRC), quotedDst: Ipv4.fromBytes(rec, IcmpErrRec.QDST), info } };
  }
  throw new EventRecordError(kind ?? -1, rec.length);
}

function u16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}
