import { ArpOp, emitArpFrame, Ipv4, Mac, type ArpRepr } from '@ersatz/wire';
import { ForeignSenderError } from './error.js';
import type { ArpLink, ArpObservation } from './link.js';

// Ethernet (14) + 802.1Q tag (4) + ARP for IPv4 over Ethernet (28), with room to spare for padding.
const FRAME_ROOM = 64;

/** Builds one Ethernet frame carrying `arp` from our MAC (tagged when the link is). Returns a fresh buffer. */
export function arpFrame(link: ArpLink, dst: Mac, arp: ArpRepr): Uint8Array {
  const buf = new Uint8Array(FRAME_ROOM);
  const n = emitArpFrame(buf, { dst, src: link.mac, ...(link.vlan === undefined ? {} : { vlan: link.vlan }), arp });
  return buf.subarray(0, n);
}

/**
 * The request a resolver or scanner sends: broadcast, `who-has ip tell spa`, target hardware address zero
 * (RFC 826 leaves it unused in requests; RFC 5227 §2.1.1 and the Linux kernel send zero, as does arp-scan).
 */
export function requestFrame(link: ArpLink, ip: Ipv4, spa: Ipv4 = link.ip): Uint8Array {
  return arpFrame(link, Mac.BROADCAST, { operation: ArpOp.Request, senderMac: link.mac, senderIp: spa, targetMac: Mac.ZERO, targetIp: ip });
}

// Where ar$tpa sits in a request: after the Ethernet header (14 bytes, 18 with an 802.1Q tag) and 24 bytes into the
// ARP packet (RFC 826 layout for hlen 6, plen 4). Only this field differs between two requests from one sender.
const TPA_OFFSET = 14 + 24;
const VLAN_TAG = 4;

/**
 * Requests from one sender (`spa`, default the link's address) to any IP, built once: `frameFor(ip)` writes the
 * target into one buffer and returns it, valid until the next call. For link.send, which copies the bytes: a
 * resolve or a sweep then allocates nothing per request.
 */
export class RequestTemplate {
  readonly #frame: Uint8Array;
  readonly #tpaAt: number;

  constructor(link: ArpLink, spa: Ipv4 = link.ip) {
    this.#frame = requestFrame(link, Ipv4.UNSPECIFIED, spa);
    this.#tpaAt = TPA_OFFSET + (link.vlan === undefined ? 0 : VLAN_TAG);
  }

  /** The frame's length (every request from the template has it). */
  get length(): number {
    return this.#frame.length;
  }

  frameFor(ip: Ipv4): Uint8Array {
    Ipv4.write(ip, this.#frame, this.#tpaAt);
    return this.#frame;
  }
}

/** What a sender check needs of a link: an open ArpLink, or the interface found before opening one. */
export type SenderLink = Pick<ArpLink, 'ifname' | 'ip' | 'addresses'>;

/**
 * Refuses `spa` as the sender address of our frames unless the interface has it (`link.addresses`, default `[ip]`),
 * it is 0.0.0.0 where `allowUnspecified` (an RFC 5227-style probe: no neighbour has an entry for 0.0.0.0 to
 * overwrite), or `spoofSender` says so: any other sender address teaches every neighbour that holds an entry for it
 * that it lives at our MAC (RFC 826's merge step). Returns `spa`; throws ForeignSenderError, so nothing is sent.
 */
export function checkSender(operation: string, link: SenderLink, spa: Ipv4, opts: { readonly allowUnspecified?: boolean; readonly spoofSender?: boolean } = {}): Ipv4 {
  if (opts.spoofSender === true || (opts.allowUnspecified === true && spa === Ipv4.UNSPECIFIED)) return spa;
  const own = link.addresses ?? (link.ip === Ipv4.UNSPECIFIED ? [] : [link.ip]);
  if (!own.includes(spa)) throw new ForeignSenderError(operation, link.ifname, spa, own);
  return spa;
}

/**
 * Whether `o` belongs to the link's VLAN (none for an untagged link). VID 0 is IEEE 802.1Q's priority tag: it names
 * no VLAN, so such a frame (802.1p QoS: some NICs, VoIP phones, CPEs) belongs to the untagged one, as Linux has it.
 */
export function onOurVlan(link: ArpLink, o: ArpObservation): boolean {
  return (o.vlan === 0 ? null : o.vlan) === (link.vlan ?? null);
}

/** A request we sent: its link ticket and when we queued it. */
export interface SentRequest {
  readonly ticket: number;
  readonly queuedNs: bigint;
}

/** When `s` left (the link's departure record), else when it was queued: the base an RTT is timed from. */
export function sentAt(link: ArpLink, s: SentRequest): bigint {
  return link.departedNs(s.ticket) ?? s.queuedNs;
}

/** Sends `frame` on `link` and returns the request's record (see sentAt). */
export function sendRequest(link: ArpLink, frame: Uint8Array): SentRequest {
  const queuedNs = link.now();
  return { ticket: link.send(frame), queuedNs };
}
