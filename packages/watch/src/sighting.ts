// From captured ARP to sightings: which station spoke for which address, and how.
import { ArpOp, EthernetFrame, Ipv4, LinkType, Mac, UnsupportedError, decodeFrame, parseArpFrame, type ArpFrame, type ArpRepr } from '@ersatz/wire';
import type { PcapRecord } from '@ersatz/pcap';
import type { SeenAs, Sighting } from './detector.js';

/**
 * The sender of an ARP request or reply as a sighting, with the frame's Ethernet source and VLAN; null for the
 * RARP/InARP operations. An RFC 5227 probe (sender 0.0.0.0) is a sighting of no address: it counts towards a flood
 * only. A request or reply whose sender and target addresses are equal is gratuitous.
 */
export function sightingOf(
  f: Pick<ArpFrame, 'ethSrc' | 'vlan'> & { readonly arp: Pick<ArpRepr, 'operation' | 'senderIp' | 'senderMac' | 'targetIp'> },
  ifname: string,
  atMs: number,
): Sighting | null {
  const { arp } = f;
  if (arp.operation !== ArpOp.Request && arp.operation !== ArpOp.Reply) return null;
  const seenAs: SeenAs = arp.senderIp === arp.targetIp ? 'gratuitous' : arp.operation === ArpOp.Request ? 'request' : 'reply';
  return { atMs, ifname, ip: arp.senderIp, mac: arp.senderMac, seenAs, ethSrc: f.ethSrc, vlan: f.vlan };
}

/**
 * A capture file's record as a sighting on `ifname` at its capture time: Ethernet (any VLAN depth, SNAP) and Linux
 * cooked captures of Ethernet/IPv4 ARP. Null for any other frame of those link types; `malformed` for an ARP frame
 * that does not parse; `undecoded` for a record of another link type (nothing in it is read).
 */
export function sightingOfRecord(rec: PcapRecord, ifname: string): Sighting | null | 'malformed' | 'undecoded' {
  const atMs = Number(rec.tsNs / 1_000_000n);
  if (rec.linktype === LinkType.ETHERNET) {
    try {
      const f = parseArpFrame(rec.data);
      const s = sightingOf(f, ifname, atMs);
      if (s === null || f.vlan === null) return s;
      // Stacked tags (802.1ad): each customer VLAN under the provider's is a broadcast domain of its own.
      const frame = EthernetFrame.checked(rec.data);
      const n = frame.vlanCount;
      return n < 2 ? s : { ...s, innerVlans: Array.from({ length: n - 1 }, (_, i) => frame.vlanTag(i + 1).vid) };
    } catch (err) {
      if (err instanceof UnsupportedError) return null;
      // Only ARP that does not parse is malformed ARP: a runt or a bad 802.3 length of another protocol is not ours.
      return decodeFrame(rec.data, rec.linktype).arp === undefined ? null : 'malformed';
    }
  }
  if (rec.linktype !== LinkType.LINUX_SLL && rec.linktype !== LinkType.LINUX_SLL2) return 'undecoded';
  const d = decodeFrame(rec.data, rec.linktype);
  const a = d.arp;
  if (a === undefined) return null;
  if (d.malformed) return 'malformed';
  if (a.htype !== 1 || a.ptype !== '0x0800' || a.hlen !== 6 || a.plen !== 4) return null;
  // A cooked capture keeps the frame's link-layer source (its Ethernet source on an Ethernet interface), no VLAN tag.
  const arp = { operation: a.op as ArpOp, senderIp: Ipv4.parse(a.spa!), senderMac: Mac.parse(a.sha!), targetIp: Ipv4.parse(a.tpa!) };
  const src = d.sll?.hatype === 1 && d.sll.addr.length === 17 ? Mac.parse(d.sll.addr) : undefined;
  return sightingOf({ arp, ethSrc: src ?? arp.senderMac, vlan: null }, ifname, atMs); // unknown: taken as the sender's
}
