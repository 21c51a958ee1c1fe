// The compact binary event record the decode worker writes into the events ring and the main thread reads back into
// plain objects. Addresses stay in wire order (big-endian), copied straight from the frame; the capture timestamp is
// the ring record's own tsNs, so it is not repeated here.
import { ArpRecord, Ipv4, Ipv6, Mac, readArpRecord, readLinkRecord, readU16, type ArpObservation } from '@ersatz/wire';

/** Byte 0 of every record. */
export const EventKind = { Arp: 1, Icmp: 2, Ndp: 3 } as const;
export type EventKind = (typeof EventKind)[keyof typeof EventKind];

/**
 * Every record is its kind's byte, then at BODY a record of @ersatz/wire: an ArpRecord (the whole ARP event), or a
 * LinkRecord followed by the ICMP fields below (offsets from the record's start).
 */
export const BODY = 1;

/** An ARP event record: 38 bytes. */
export const ARP_RECORD_LEN = BODY + ArpRecord.LEN;

/**
 * An ICMP echo body, after the LinkRecord at BODY:
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

/**
 * A Neighbor Discovery message (checked by RFC 4861's receiver rules in the decoder), after the LinkRecord at BODY:
 *
 *   byte 16  TYPE    u8   133 RS, 134 RA, 135 NS, 136 NA; 129 an ICMPv6 echo reply (who answered a ping to ff02::1)
 *   byte 17  FLAGS   u8   NA: R 0x80, S 0x40, O 0x20
 *   byte 18  HAS_LLA u8   1 when the message carries a link-layer address option (source for RS/RA/NS, target for NA)
 *   byte 19  SRC     16   IPv6 source
 *   byte 35  DST     16   IPv6 destination
 *   byte 51  TARGET  16   NS/NA target (:: for RS/RA)
 *   byte 67  LLA     6    the link-layer address option's MAC
 *   73 bytes in all
 */
export const NdpRec = { TYPE: 16, FLAGS: 17, HAS_LLA: 18, SRC: 19, DST: 35, TARGET: 51, LLA: 67, LEN: 73 } as const;

/** The longest record: what a scratch buffer must hold. */
export const MAX_RECORD_BYTES = Math.max(ARP_RECORD_LEN, IcmpRec.LEN, IcmpErrRec.LEN, NdpRec.LEN);

/** An ARP frame seen on the link, tagged for the PipelineEvent union. `tsNs`: capture time, `process.hrtime.bigint()` clock. */
export interface ArpEvent extends ArpObservation {
  readonly kind: 'arp';
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

/**
 * A Neighbor Discovery message seen on the link, valid by RFC 4861's receiver rules (hop limit 255, checksum, ...), or
 * an ICMPv6 echo reply (`echo-reply`, checksum verified: its source is a neighbour's address, its ethSrc the MAC).
 */
export interface NdpObservation {
  /** Capture time in ns, `process.hrtime.bigint()` clock (the link's `now()`). */
  readonly tsNs: bigint;
  readonly ethSrc: Mac;
  readonly ethDst: Mac;
  /** The outermost 802.1Q VLAN id, null when untagged. */
  readonly vlan: number | null;
  readonly type: 'rs' | 'ra' | 'ns' | 'na' | 'echo-reply';
  readonly src: Ipv6;
  readonly dst: Ipv6;
  /** What an NS asks for or an NA answers for (:: for the others). */
  readonly target: Ipv6;
  /** NA flags (false for the other types). */
  readonly router: boolean;
  readonly solicited: boolean;
  readonly override: boolean;
  /** The link-layer address option: the sender's (RS, RA, NS) or the target's (NA); null when absent. */
  readonly linkAddress: Mac | null;
}

export interface NdpEvent extends NdpObservation {
  readonly kind: 'ndp';
}

export type PipelineEvent = ArpEvent | IcmpEvent | NdpEvent;

const NDP_TYPES = { 129: 'echo-reply', 133: 'rs', 134: 'ra', 135: 'ns', 136: 'na' } as const;

/** Thrown by readEvent for bytes that are not a record this module wrote (a different version, a corrupted ring). */
export class EventRecordError extends Error {
  override name = 'EventRecordError';
  constructor(
    readonly kind: number,
    readonly length: number,
  ) {
    super(
      `event record: kind ${kind} with ${length} bytes is not an ARP (${EventKind.Arp}, ${ARP_RECORD_LEN} bytes), ICMP (${EventKind.Icmp}, ${IcmpRec.LEN} or ${IcmpErrRec.LEN} bytes) ` +
        `or ND (${EventKind.Ndp}, ${NdpRec.LEN} bytes) record`,
    );
  }
}

/**
 * Reads a record back into a plain object. Returns the event; throws EventRecordError when the kind and length do
 * not match a record the decoder produces.
 */
export function readEvent(rec: Uint8Array, tsNs: bigint): PipelineEvent {
  const kind = rec[0];
  if (kind === EventKind.Arp && rec.length === ARP_RECORD_LEN) return readArpRecord(rec, BODY, tsNs);
  if (kind === EventKind.Icmp && (rec.length === IcmpRec.LEN || rec.length === IcmpErrRec.LEN)) {
    const echo: IcmpEvent = {
      kind: 'icmp',
      tsNs,
      ...readLinkRecord(rec, BODY),
      src: Ipv4.fromBytes(rec, IcmpRec.SRC),
      dst: Ipv4.fromBytes(rec, IcmpRec.DST),
      ttl: rec[IcmpRec.TTL]!,
      type: rec[IcmpRec.TYPE]!,
      code: rec[IcmpRec.CODE]!,
      id: readU16(rec, IcmpRec.ID),
      seq: readU16(rec, IcmpRec.SEQ),
      bytes: readU16(rec, IcmpRec.BYTES),
    };
    if (rec.length === IcmpRec.LEN) return echo;
    const info = ((rec[IcmpErrRec.INFO]! << 24) | (rec[IcmpErrRec.INFO + 1]! << 16) | readU16(rec, IcmpErrRec.INFO + 2)) >>> 0;
    // Added to the echo, not spread into a new object ({ ...echo, error }): on Node 20 that gives each event a map of
    // its own (see parseIcmpv6Frame in @ersatz/wire).
    return Object.assign(echo, { error: { quotedSrc: Ipv4.fromBytes(rec, IcmpErrRec.QSRC), quotedDst: Ipv4.fromBytes(rec, IcmpErrRec.QDST), info } });
  }
  if (kind === EventKind.Ndp && rec.length === NdpRec.LEN) {
    const type = NDP_TYPES[rec[NdpRec.TYPE] as keyof typeof NDP_TYPES];
    const flags = rec[NdpRec.FLAGS]!;
    if (type !== undefined) {
      return {
        kind: 'ndp',
        tsNs,
        ...readLinkRecord(rec, BODY),
        type,
        src: Ipv6.fromBytes(rec, NdpRec.SRC),
        dst: Ipv6.fromBytes(rec, NdpRec.DST),
        target: Ipv6.fromBytes(rec, NdpRec.TARGET),
        router: (flags & 0x80) !== 0,
        solicited: (flags & 0x40) !== 0,
        override: (flags & 0x20) !== 0,
        linkAddress: rec[NdpRec.HAS_LLA] ? Mac.fromBytes(rec, NdpRec.LLA) : null,
      };
    }
  }
  throw new EventRecordError(kind ?? -1, rec.length);
}
