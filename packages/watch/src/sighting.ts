// From captured ARP to sightings: which station spoke for which address, and how.
import { ArpOp, Ipv4, LinkType, Mac, UnsupportedError, decodeFrame, parseArpFrame, type ArpRepr } from '@ersatz/wire';
import type { PcapRecord } from '@ersatz/pcap';
import type { SeenAs, Sighting } from './detector.js';

/**
 * The sender of an ARP request or reply as a sighting, or null when it claims no address: an RFC 5227 probe (sender
 * 0.0.0.0) and the RARP/InARP operations. A request or reply whose sender and target addresses are equal is gratuitous.
 */
export function sightingOf(arp: Pick<ArpRepr, 'operation' | 'senderIp' | 'senderMac' | 'targetIp'>, ifname: string, atMs: number): Sighting | null {
  if (arp.operation !== ArpOp.Request && arp.operation !== ArpOp.Reply) return null;
  if (Ipv4.isUnspecified(arp.senderIp)) return null;
  const seenAs: SeenAs = arp.senderIp === arp.targetIp ? 'gratuitous' : arp.operation === ArpOp.Request ? 'request' : 'reply';
  return { atMs, ifname, ip: arp.senderIp, mac: arp.senderMac, seenAs };
}

/**
 * A capture file's record as a sighting on `ifname` at its capture time: Ethernet (any VLAN depth, SNAP) and Linux
 * cooked captures of Ethernet/IPv4 ARP. Null for any other frame; `malformed` for an ARP frame that does not parse.
 */
export function sightingOfRecord(rec: PcapRecord, ifname: string): Sighting | null | 'malformed' {
  const atMs = Number(rec.tsNs / 1_000_000n);
  if (rec.linktype === LinkType.ETHERNET) {
    try {
      return sightingOf(parseArpFrame(rec.data).arp, ifname, atMs);
    } catch (err) {
      return err instanceof UnsupportedError ? null : 'malformed';
    }
  }
  const d = decodeFrame(rec.data, rec.linktype);
  const a = d.arp;
  if (a === undefined) return null;
  if (d.malformed) return 'malformed';
  if (a.htype !== 1 || a.ptype !== '0x0800' || a.hlen !== 6 || a.plen !== 4) return null;
  return sightingOf({ operation: a.op as ArpOp, senderIp: Ipv4.parse(a.spa!), senderMac: Mac.parse(a.sha!), targetIp: Ipv4.parse(a.tpa!) }, ifname, atMs);
}
