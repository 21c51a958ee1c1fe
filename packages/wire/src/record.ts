// A decoded frame in a few fixed bytes, the form it crosses threads in (the pipeline's events ring): addresses in
// wire order, copied straight from the frame, so the writer builds no object and the reader builds only the one its
// caller keeps. The ARP form is the one representation of an ARP frame between the capture and the coordinator.
import { Ipv4, Mac } from './address.js';
import { ARP_ETH_IPV4_LEN, type ArpOp } from './arp.js';
import { copyBytes, needRoom, readU16, writeU16 } from './bytes.js';
import { ETH_HEADER_LEN } from './ethernet.js';
import type { ArpFrame } from './frame.js';

/**
 * The link-layer facts of a frame, from `at`:
 *
 *   +0  FLAGS  u8   1 when the frame carried an 802.1Q/802.1ad tag
 *   +1  VLAN   u16  the outermost VLAN id (0 when untagged)
 *   +3  DST    6    Ethernet destination
 *   +9  SRC    6    Ethernet source
 *   15 bytes
 */
export const LinkRecord = { FLAGS: 0, VLAN: 1, DST: 3, SRC: 9, LEN: 15 } as const;

/**
 * An Ethernet/IPv4 ARP frame (ArpFrame), from `at`: the LinkRecord, then the operation and the 20 address bytes
 * exactly as they follow it in the packet (sha, spa, tha, tpa), so a checked frame is copied in two blocks.
 *
 *   +15 OPER  u16
 *   +17 SHA   6
 *   +23 SPA   4
 *   +27 THA   6
 *   +33 TPA   4
 *   37 bytes
 */
export const ArpRecord = { OPER: 15, SHA: 17, SPA: 23, THA: 27, TPA: 33, LEN: 37 } as const;

/** An ArpFrame and when it was captured (ns, the capturing side's monotonic clock). */
export interface ArpObservation extends ArpFrame {
  readonly tsNs: bigint;
}

/**
 * Writes a frame's LinkRecord at `at` in `out`: its first 12 bytes (destination, source) and the VLAN id given
 * (null: untagged). Returns the offset after it. Throws TruncatedError when `out` has no room or `frame` is shorter
 * than an Ethernet header.
 */
export function writeLinkRecord(out: Uint8Array, at: number, vlan: number | null, frame: Uint8Array): number {
  needRoom(out, at, LinkRecord.LEN, 'link record');
  needRoom(frame, 0, ETH_HEADER_LEN, 'ethernet');
  out[at + LinkRecord.FLAGS] = vlan === null ? 0 : 1;
  writeU16(out, at + LinkRecord.VLAN, vlan ?? 0);
  copyBytes(out, at + LinkRecord.DST, frame, 0, 12); // Ethernet's first 12 bytes are dst then src
  return at + LinkRecord.LEN;
}

/** Reads a LinkRecord at `at`. The caller has checked the length. */
export function readLinkRecord(rec: Uint8Array, at: number): Pick<ArpFrame, 'ethDst' | 'ethSrc' | 'vlan'> {
  return {
    ethDst: Mac.fromBytes(rec, at + LinkRecord.DST),
    ethSrc: Mac.fromBytes(rec, at + LinkRecord.SRC),
    vlan: rec[at + LinkRecord.FLAGS] ? readU16(rec, at + LinkRecord.VLAN) : null,
  };
}

/**
 * Writes the ArpRecord of a checked Ethernet/IPv4 ARP frame (its ARP packet at `arpAt`, already through
 * checkEthIpv4At) at `at` in `out`. Returns the offset after it. Throws TruncatedError when `out` has no room or the
 * packet is shorter than 28 bytes.
 */
export function writeArpRecord(out: Uint8Array, at: number, vlan: number | null, frame: Uint8Array, arpAt: number): number {
  needRoom(out, at, ArpRecord.LEN, 'arp record');
  needRoom(frame, arpAt, ARP_ETH_IPV4_LEN, 'arp');
  writeLinkRecord(out, at, vlan, frame);
  out[at + ArpRecord.OPER] = frame[arpAt + 6]!; // the operation, big-endian as on the wire
  out[at + ArpRecord.OPER + 1] = frame[arpAt + 7]!;
  copyBytes(out, at + ArpRecord.SHA, frame, arpAt + 8, ARP_ETH_IPV4_LEN - 8);
  return at + ArpRecord.LEN;
}

/**
 * Reads an ArpRecord at `at` into an ArpObservation captured at `tsNs`, tagged `kind: 'arp'` for unions with other
 * observations (the pipeline's ICMP events). One object and its `arp`, nothing else allocated. Throws TruncatedError
 * when the record is short.
 */
export function readArpRecord(rec: Uint8Array, at: number, tsNs: bigint): ArpObservation & { readonly kind: 'arp' } {
  needRoom(rec, at, ArpRecord.LEN, 'arp record');
  return {
    kind: 'arp',
    tsNs,
    ethSrc: Mac.fromBytes(rec, at + LinkRecord.SRC),
    ethDst: Mac.fromBytes(rec, at + LinkRecord.DST),
    vlan: rec[at + LinkRecord.FLAGS] ? readU16(rec, at + LinkRecord.VLAN) : null,
    arp: {
      operation: readU16(rec, at + ArpRecord.OPER) as ArpOp,
      senderMac: Mac.fromBytes(rec, at + ArpRecord.SHA),
      senderIp: Ipv4.fromBytes(rec, at + ArpRecord.SPA),
      targetMac: Mac.fromBytes(rec, at + ArpRecord.THA),
      targetIp: Ipv4.fromBytes(rec, at + ArpRecord.TPA),
    },
  };
}
