// Frame-level helpers for the decode worker, the `decode` command and the coordinator: whole frames in, whole
// frames out, built on the layer codecs.
import { Ipv4, Mac } from './address.js';
import { ARP_ETH_IPV4_LEN, ARP_HEADER_LEN, ArpRepr, arpEtherType, checkEthIpv4, checkEthIpv4At, writeArp } from './arp.js';
import { readU16, readU32, writeU16 } from './bytes.js';
import { ChecksumError, InvalidFieldError, TruncatedError, UnsupportedError, WireError } from './error.js';
import { ETH_HEADER_LEN, ETH_MIN_FRAME, ETHERTYPE_MIN, EtherType, EthernetFrame, VLAN_TAG_LEN, ethernetPayload, isRfc1042Snap, padFrame, SNAP_HEADER_LEN } from './ethernet.js';
import { LinkType } from './linktype.js';
import { colonHex, hex16, macText } from './format.js';
import { ICMP_HEADER_LEN, IcmpType, Icmpv4Packet, writeIcmpEcho } from './icmp.js';
import { IPV6_HEADER_LEN, Ipv6, Ipv6Next, parseIpv6Header } from './ipv6.js';
import { Icmpv6Type, parseNdp, type NdpMessage } from './ndp.js';
import { IPV4_DEFAULT_TTL, IPV4_HEADER_LEN, IPV4_MAX_TOTAL_LEN, IpProtocol, Ipv4Packet, writeBasicIpv4Header } from './ipv4.js';

/**
 * The ARP fields as `ersatz decode --json` prints them. A field is present when all its bytes were captured: a
 * truncated packet keeps the ones before the cut.
 */
export interface DecodedArp {
  readonly htype?: number;
  /** `0x0800` */
  readonly ptype?: string;
  readonly hlen?: number;
  readonly plen?: number;
  readonly op?: number;
  /** Colon-hex (a MAC when hlen is 6). */
  readonly sha?: string;
  /** Dotted quad when ptype is 0x0800 and plen 4, colon-hex otherwise. */
  readonly spa?: string;
  readonly tha?: string;
  readonly tpa?: string;
}

/** A Linux cooked capture header (`tcpdump -i any`): LINKTYPE_LINUX_SLL, or LINUX_SLL2 with `ifindex`. */
export interface DecodedSll {
  /** SLL2 only: the interface the packet was seen on. */
  readonly ifindex?: number;
  /** 0 to us, 1 broadcast, 2 multicast, 3 to another host, 4 sent by us (PACKET_*). */
  readonly pkttype: number;
  /** The ARPHRD_ type of the interface (1 Ethernet, 772 loopback). */
  readonly hatype: number;
  /** The link-layer source address, colon-hex (at most its first 8 bytes). */
  readonly addr: string;
  /** The protocol: an EtherType, `0x0800`. */
  readonly type: string;
}

/**
 * One frame as `ersatz decode --json` prints it (without `index`). A key is absent when its layer is; `eth` is
 * absent only for a frame shorter than the 14-byte header, or for another link type.
 */
export interface DecodedFrame {
  /** Bytes captured. */
  readonly len: number;
  /** The frame's length on the wire, present when the capture kept less of it (its snap length): fields past `len` are not shown, and not missed. */
  readonly wireLen?: number;
  /** `type` is the value at offset 12 in hex (`0x8100` for a tagged frame, the length for an 802.3 frame). */
  readonly eth?: { readonly dst: Mac; readonly src: Mac; readonly type: string };
  /** Linux cooked capture (LINUX_SLL, LINUX_SLL2) instead of `eth`. */
  readonly sll?: DecodedSll;
  /** VLAN ids, outermost first (any number of tags). */
  readonly vlan?: readonly number[];
  /** An RFC 1042 LLC/SNAP header in an 802.3 frame: the EtherType it names. */
  readonly snap?: { readonly type: string };
  readonly arp?: DecodedArp;
  readonly ipv4?: { readonly src: string; readonly dst: string; readonly proto: number };
  /** `id`/`seq` for echo request and reply only. */
  readonly icmp?: { readonly type: number; readonly code: number; readonly id?: number; readonly seq?: number };
  /** `next`: the upper-layer protocol after any extension headers (58 ICMPv6); `length`: its bytes, as the header says (once the extension headers are all there). */
  readonly ipv6?: { readonly src: string; readonly dst: string; readonly next: number; readonly hopLimit: number; readonly length?: number };
  /** `id`/`seq` for echo request and reply only. */
  readonly icmpv6?: { readonly type: number; readonly code: number; readonly id?: number; readonly seq?: number };
  /** A Neighbor Discovery message, checked as a receiver checks it (RFC 4861): else `malformed` says why. */
  readonly ndp?: NdpMessage;
  /** True when a layer could not be decoded: truncated or invalid (bad length, checksum, hlen, ...). */
  readonly malformed: boolean;
  /** Why it is malformed: the codec's message. */
  readonly error?: string;
}

/** The link types decodeFrame reads; a frame of any other is returned with its length only. */
export const DECODED_LINK_TYPES: ReadonlySet<number> = new Set([LinkType.ETHERNET, LinkType.LINUX_SLL, LinkType.LINUX_SLL2, LinkType.RAW, LinkType.IPV4, LinkType.IPV6]);

// decodeFrame fills one object layer by layer, in the key order the JSON prints.
type Layers = { -readonly [K in keyof DecodedFrame]: DecodedFrame[K] };

/**
 * Decodes a captured frame of `linktype` (default Ethernet; see DECODED_LINK_TYPES): Ethernet with any number of
 * VLAN tags and RFC 1042 LLC/SNAP, Linux cooked capture (SLL, SLL2), raw IPv4; then ARP/RARP (any htype/ptype, via
 * the packet's own hlen/plen), IPv4 and ICMP as far as the bytes allow. Returns the decoded layers; a malformed frame
 * keeps every field that was captured whole and says why in `error`. Values the codecs do not support but can read
 * (an unknown ARP operation or hardware type) are shown as numbers and are not malformed. `wireLen`: the frame's
 * length on the wire (a capture record's original length), when a snap length kept fewer bytes: an IP packet that
 * runs on past them is then cut, not malformed, and what needs the missing bytes (a checksum over them, a whole
 * Neighbor Discovery message) is not checked, as tcpdump does not. Never throws.
 */
export function decodeFrame(bytes: Uint8Array, linktype: number = LinkType.ETHERNET, wireLen = bytes.length): DecodedFrame {
  const out = { len: bytes.length } as Layers;
  const missing = Math.max(0, wireLen - bytes.length);
  if (missing > 0) out.wireLen = wireLen;
  try {
    // A Buffer's subarray makes a Buffer, several times slower than a plain Uint8Array view: view it as one.
    const view = bytes instanceof Buffer ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length) : bytes;
    if (linktype === LinkType.ETHERNET) decodeEthernet(view, out, missing);
    else if (linktype === LinkType.LINUX_SLL || linktype === LinkType.LINUX_SLL2) decodeSll(view, out, linktype === LinkType.LINUX_SLL2, missing);
    // LINKTYPE_RAW carries IPv4 or IPv6, told apart by the version nibble.
    else if (linktype === LinkType.IPV6 || (linktype === LinkType.RAW && view.length > 0 && view[0]! >>> 4 === 6)) decodeIpv6(view, out, missing);
    else if (linktype === LinkType.IPV4 || linktype === LinkType.RAW) decodeIpv4(view, out, missing);
    out.malformed = false;
  } catch (err) {
    out.malformed = true;
    // Anything but a WireError is a bug in this package; it still must not take the decode worker down.
    out.error = err instanceof WireError ? err.message : `internal decoder error: ${err instanceof Error ? err.message : String(err)}`;
  }
  // Keys were added in the order the JSON prints: layers, then malformed and error.
  return out;
}

// `missing` below: the bytes a snap length left out after the frame (see decodeFrame).
function decodeEthernet(bytes: Uint8Array, out: Layers, missing: number): void {
  if (bytes.length < ETH_HEADER_LEN) throw new TruncatedError('ethernet', ETH_HEADER_LEN, bytes.length);
  out.eth = { dst: Mac.fromBytes(bytes, 0), src: Mac.fromBytes(bytes, 6), type: hex16(readU16(bytes, 12)) };
  const frame = EthernetFrame.checked(bytes);
  const tags = frame.vlanCount;
  if (tags > 0) out.vlan = Array.from({ length: tags }, (_, i) => frame.vlanTag(i).vid);
  // Not EthernetRepr.parse: an 802.3 length beyond the bytes is no reason to stop (arp-scan --llc overstates it by
  // the header's 14 bytes; tcpdump and tshark decode the SNAP payload all the same).
  const p = ethernetPayload(bytes); // InvalidFieldError for a type/length in 1501..1535
  if (p.snap) out.snap = { type: hex16(p.type) };
  decodeNetwork(p.type, bytes.subarray(p.at), out, missing);
}

// Linux cooked capture headers (pcap-linktype(7)): SLL is 16 bytes, protocol last; SLL2 20 bytes, protocol first.
const SLL_LEN = 16;
const SLL2_LEN = 20;
/** SLL's protocol for an 802.2 LLC frame (the LLC header follows). */
const SLL_P_802_2 = 0x0004;

function decodeSll(bytes: Uint8Array, out: Layers, v2: boolean, missing: number): void {
  const len = v2 ? SLL2_LEN : SLL_LEN;
  if (bytes.length < len) throw new TruncatedError(v2 ? 'sll2' : 'sll', len, bytes.length);
  const addrAt = v2 ? 12 : 6;
  const addrLen = Math.min(v2 ? bytes[11]! : readU16(bytes, 4), 8);
  let type = readU16(bytes, v2 ? 0 : 14);
  out.sll = {
    ...(v2 ? { ifindex: readU32(bytes, 4) } : {}),
    pkttype: v2 ? bytes[10]! : readU16(bytes, 0),
    hatype: readU16(bytes, v2 ? 8 : 2),
    addr: colonHex(bytes, addrAt, addrAt + addrLen),
    type: hex16(type),
  };
  let at = len;
  if (type === SLL_P_802_2 && isRfc1042Snap(bytes, at)) {
    type = readU16(bytes, at + 6);
    at += SNAP_HEADER_LEN;
    out.snap = { type: hex16(type) };
  }
  decodeNetwork(type, bytes.subarray(at), out, missing);
}

function decodeNetwork(type: number, payload: Uint8Array, out: Layers, missing: number): void {
  // Not for ARP: a packet cut short, by a snap length or not, is shown as far as it goes and flagged (tcpdump: "[|arp]").
  if (type === EtherType.Arp || type === EtherType.Rarp) decodeArp(payload, out);
  else if (type === EtherType.Ipv4) decodeIpv4(payload, out, missing);
  else if (type === EtherType.Ipv6) decodeIpv6(payload, out, missing);
}

function decodeIpv6(bytes: Uint8Array, out: Layers, missing: number): void {
  if (bytes.length >= IPV6_HEADER_LEN && bytes[0]! >>> 4 === 6) {
    out.ipv6 = { src: Ipv6.fromBytes(bytes, 8), dst: Ipv6.fromBytes(bytes, 24), next: bytes[6]!, hopLimit: bytes[7]! };
  }
  const ip = parseIpv6Header(bytes, missing);
  out.ipv6 = { ...out.ipv6!, next: ip.protocol, length: ip.length };
  if (ip.protocol !== Ipv6Next.Icmpv6 || ip.fragment) return;
  const icmp = bytes.subarray(ip.at, ip.at + ip.length);
  const echo = icmp.length >= 8 && (icmp[0] === Icmpv6Type.EchoRequest || icmp[0] === Icmpv6Type.EchoReply);
  if (icmp.length >= 2) out.icmpv6 = echo ? { type: icmp[0]!, code: icmp[1]!, id: readU16(icmp, 4), seq: readU16(icmp, 6) } : { type: icmp[0]!, code: icmp[1]! };
  if (icmp.length < ip.length) {
    // Cut by the snap length: flagged inside the 4-byte header, or an echo's 8 (as ICMP is); Neighbor Discovery is
    // checked whole, checksum and options (RFC 4861 §7.1.1), so a message cut short is not checked at all.
    const header = icmp.length >= 1 && (icmp[0] === Icmpv6Type.EchoRequest || icmp[0] === Icmpv6Type.EchoReply) ? 8 : 4;
    if (icmp.length < Math.min(header, ip.length)) throw new TruncatedError('icmpv6', Math.min(header, ip.length), icmp.length);
    return;
  }
  const ndp = parseNdp(ip, icmp, bytes.subarray(8, 40));
  if (ndp !== null) out.ndp = ndp;
}

/**
 * The ARP fields, each one that was captured whole, in wire order; then a TruncatedError naming the first that was
 * cut, or the checks of a whole packet (hlen/plen that contradict htype/ptype).
 */
function decodeArp(bytes: Uint8Array, out: Layers): void {
  const have = bytes.length;
  const arp: { -readonly [K in keyof DecodedArp]: DecodedArp[K] } = {};
  out.arp = arp;
  const cut = (need: number, field: string): never => {
    throw new TruncatedError('arp', Math.max(need, ARP_HEADER_LEN), have, field);
  };
  if (have < 2) cut(2, 'hardware type');
  const htype = (arp.htype = readU16(bytes, 0));
  if (have < 4) cut(4, 'protocol type');
  const ptype = readU16(bytes, 2);
  arp.ptype = hex16(ptype);
  if (have < 5) cut(5, 'hardware address length');
  const hlen = (arp.hlen = bytes[4]!);
  if (have < 6) cut(6, 'protocol address length');
  const plen = (arp.plen = bytes[5]!);
  const need = ARP_HEADER_LEN + 2 * (hlen + plen);
  if (have < 8) cut(need, 'operation');
  const operation = (arp.op = readU16(bytes, 6));
  // Offsets from the packet's own hlen/plen, as the generic view reads them (without making four subarrays).
  const hardware = (at: number): string => (hlen === 6 ? macText(bytes, at) : colonHex(bytes, at, at + hlen));
  const protocol = (at: number): string => (ptype === EtherType.Ipv4 && plen === 4 ? Ipv4.format(Ipv4.fromBytes(bytes, at)) : colonHex(bytes, at, at + plen));
  const sha = ARP_HEADER_LEN;
  const spa = sha + hlen;
  const tha = spa + plen;
  const tpa = tha + hlen;
  if (have < spa) cut(need, 'sender hardware address');
  arp.sha = hardware(sha);
  if (have < tha) cut(need, 'sender protocol address');
  arp.spa = protocol(spa);
  if (have < tpa) cut(need, 'target hardware address');
  arp.tha = hardware(tha);
  if (have < need) cut(need, 'target protocol address');
  arp.tpa = protocol(tpa);
  try {
    checkEthIpv4(htype, ptype, hlen, plen, operation); // ArpRepr.parse's checks: hlen/plen that contradict htype/ptype
  } catch (err) {
    if (!(err instanceof UnsupportedError)) throw err; // another htype, ptype or op: shown above, not broken
  }
}

function decodeIpv4(bytes: Uint8Array, out: Layers, missing: number): void {
  // Show the addresses even when a later check fails: they are what a reader looks for first.
  if (bytes.length >= IPV4_HEADER_LEN && bytes[0]! >>> 4 === 4) {
    out.ipv4 = { src: Ipv4.format(Ipv4.fromBytes(bytes, 12)), dst: Ipv4.format(Ipv4.fromBytes(bytes, 16)), proto: bytes[9]! };
  }
  const ip = Ipv4Packet.checked(bytes, missing);
  // A bad header checksum is the error to report, but the ICMP fields captured whole are shown all the same (tcpdump
  // prints them; with -v it says "bad cksum").
  const badHeader = ip.verifyChecksum() ? null : new ChecksumError('ipv4', ip.checksum, ip.computeChecksum());
  try {
    decodeIcmp(ip, out);
  } catch (err) {
    throw badHeader ?? err;
  }
  if (badHeader) throw badHeader;
}

function decodeIcmp(ip: Ipv4Packet, out: Layers): void {
  // Only the first fragment starts with the ICMP header (as tcpdump, show it), and no single fragment holds all
  // the bytes the checksum covers.
  if (ip.protocol !== IpProtocol.Icmp || ip.fragmentOffset !== 0) return;
  const icmp = Icmpv4Packet.checked(ip.payload);
  const type = icmp.type;
  const echo = type === IcmpType.EchoRequest || type === IcmpType.EchoReply;
  out.icmp = echo ? { type, code: icmp.code, id: icmp.id, seq: icmp.seq } : { type, code: icmp.code };
  const whole = ip.payload.length === ip.totalLength - ip.headerLen; // else cut by the snap length
  if (whole && !ip.moreFragments && !icmp.verifyChecksum()) throw new ChecksumError('icmp', icmp.checksum, icmp.computeChecksum());
}

/** What `emitArpFrame` writes. */
export interface ArpFrameOptions {
  /** Ethernet destination (broadcast for a request). */
  readonly dst: Mac;
  /** Ethernet source. */
  readonly src: Mac;
  /** An 802.1Q VLAN id (0..4095) to tag the frame with; untagged when absent. */
  readonly vlan?: number;
  readonly arp: ArpRepr;
}

/**
 * Writes an ARP frame (EtherType 0x0806, or 0x8035 for the RARP operations) at the start of `buf`, zero-padded to
 * 60 bytes. Returns the frame length (60). Allocates nothing. Throws TruncatedError when `buf` is shorter than 60
 * bytes, InvalidFieldError for a VLAN id outside 0..4095.
 */
export function emitArpFrame(buf: Uint8Array, o: ArpFrameOptions): number {
  if (buf.length < ETH_MIN_FRAME) throw new TruncatedError('arp frame buffer', ETH_MIN_FRAME, buf.length);
  Mac.write(o.dst, buf, 0);
  Mac.write(o.src, buf, 6);
  let at = 12;
  if (o.vlan !== undefined) {
    at += writeVlanTag(buf, at, o.vlan);
  }
  writeU16(buf, at, arpEtherType(o.arp.operation));
  at += 2;
  writeArp(o.arp, buf, at);
  return padFrame(buf, at + ARP_ETH_IPV4_LEN);
}

/** What `emitIcmpEchoFrame` writes. */
export interface IcmpEchoFrameOptions {
  readonly dst: Mac;
  readonly src: Mac;
  /** An 802.1Q VLAN id (0..4095) to tag the frame with; untagged when absent. */
  readonly vlan?: number;
  readonly ipSrc: Ipv4;
  readonly ipDst: Ipv4;
  /** Default 64, as Linux. */
  readonly ttl?: number;
  readonly type: 'request' | 'reply';
  readonly id: number;
  readonly seq: number;
  /** Echo data; none by default. */
  readonly payload?: Uint8Array;
}

const NO_PAYLOAD = new Uint8Array(0);

/**
 * Writes an Ethernet (802.1Q-tagged when `vlan` is given) + IPv4 (20-byte header, DF, identification 0) + ICMP echo
 * frame at the start of `buf`, checksums included, zero-padded to 60 bytes plus the tag. Returns the frame length.
 * Allocates nothing. Throws TruncatedError when `buf` cannot hold the frame, InvalidFieldError when the payload
 * would overflow IPv4's total length or for a VLAN id outside 0..4095.
 */
export function emitIcmpEchoFrame(buf: Uint8Array, o: IcmpEchoFrameOptions): number {
  const payload = o.payload ?? NO_PAYLOAD;
  const ipLen = IPV4_HEADER_LEN + ICMP_HEADER_LEN + payload.length;
  if (ipLen > IPV4_MAX_TOTAL_LEN) throw new InvalidFieldError('ipv4', 'total length', ipLen, `at most ${IPV4_MAX_TOTAL_LEN}`);
  const tagLen = o.vlan === undefined ? 0 : VLAN_TAG_LEN;
  const end = ETH_HEADER_LEN + tagLen + ipLen;
  const need = Math.max(end, ETH_MIN_FRAME + tagLen);
  if (buf.length < need) throw new TruncatedError('icmp echo frame buffer', need, buf.length);
  Mac.write(o.dst, buf, 0);
  Mac.write(o.src, buf, 6);
  let at = 12;
  if (o.vlan !== undefined) at += writeVlanTag(buf, at, o.vlan);
  writeU16(buf, at, EtherType.Ipv4);
  const icmpAt = writeBasicIpv4Header(buf, at + 2, o, IpProtocol.Icmp, o.ttl ?? IPV4_DEFAULT_TTL, ipLen - IPV4_HEADER_LEN);
  writeIcmpEcho(buf, icmpAt, o.type, o.id, o.seq, payload);
  // The tag on top of the minimum: a switch that strips it still forwards 60 bytes.
  return padFrame(buf, end, tagLen);
}

/** An ARP frame as the coordinator matches it (and ArpRecord carries it between threads). */
export interface ArpFrame {
  /** Ethernet source and destination, which may disagree with the ARP body (proxies, spoofers, some stacks). */
  readonly ethSrc: Mac;
  readonly ethDst: Mac;
  /** The outermost 802.1Q VLAN id, null when untagged. */
  readonly vlan: number | null;
  readonly arp: ArpRepr;
}

/**
 * The hot path: reads an Ethernet ARP/RARP frame (any number of VLAN tags, or RFC 1042 LLC/SNAP; trailing
 * padding/FCS ignored) straight into plain values, without building views. Returns the frame; throws the same
 * WireError subclasses, with the same messages, as ethernetPayload + ArpPacket.checked + ArpRepr.parse:
 * TruncatedError, UnsupportedError (another EtherType, an 802.3 frame without SNAP, htype/ptype/operation),
 * InvalidFieldError (type/length 1501..1535) and FieldMismatchError (hlen/plen).
 */
export function parseArpFrame(bytes: Uint8Array): ArpFrame {
  const { type, at: o, vlan } = ethernetPayload(bytes);
  if (type !== EtherType.Arp && type !== EtherType.Rarp) {
    if (type >= ETHERTYPE_MIN) throw new UnsupportedError('ethernet', 'ethertype', type);
    throw new UnsupportedError('ethernet', '802.3 frame of length', type);
  }
  const operation = checkEthIpv4At(bytes, o);
  return {
    ethSrc: Mac.fromBytes(bytes, 6),
    ethDst: Mac.fromBytes(bytes, 0),
    vlan,
    arp: {
      operation,
      senderMac: Mac.fromBytes(bytes, o + 8),
      senderIp: Ipv4.fromBytes(bytes, o + 14),
      targetMac: Mac.fromBytes(bytes, o + 18),
      targetIp: Ipv4.fromBytes(bytes, o + 24),
    },
  };
}

/** Writes an 802.1Q tag (PCP 0, DEI 0) at `at`; returns its length. Throws InvalidFieldError for a VID outside 0..4095. */
function writeVlanTag(buf: Uint8Array, at: number, vid: number): number {
  if (!Number.isInteger(vid) || vid < 0 || vid > 0x0fff) throw new InvalidFieldError('ethernet', 'VLAN id', vid, 'expected 0..4095');
  writeU16(buf, at, EtherType.Vlan);
  writeU16(buf, at + 2, vid);
  return VLAN_TAG_LEN;
}
