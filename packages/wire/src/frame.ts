// Frame-level helpers for the decode worker, the `decode` command and the coordinator: whole frames in, whole
// frames out, built on the layer codecs.
import { Ipv4, Mac } from './address.js';
import { ARP_ETH_IPV4_LEN, ARP_HEADER_LEN, ArpPacket, ArpRepr, arpEtherType, checkEthIpv4, writeArp } from './arp.js';
import { readU16, writeU16 } from './bytes.js';
import { ChecksumError, InvalidFieldError, TruncatedError, UnsupportedError, WireError } from './error.js';
import { ETH_HEADER_LEN, ETH_MAX_VLAN_TAGS, ETH_MIN_FRAME, ETH_MTU, ETHERTYPE_MIN, EtherType, EthernetFrame, EthernetRepr, VLAN_TAG_LEN, isVlanTpid, padFrame } from './ethernet.js';
import { colonHex, hex16, macText } from './format.js';
import { ICMP_HEADER_LEN, IcmpType, Icmpv4Packet, writeIcmpEcho } from './icmp.js';
import { IPV4_DEFAULT_TTL, IPV4_HEADER_LEN, IPV4_MAX_TOTAL_LEN, IpProtocol, Ipv4Packet, Ipv4Repr, writeBasicIpv4Header } from './ipv4.js';

/** The ARP fields as `ersatz decode --json` prints them. */
export interface DecodedArp {
  readonly htype: number;
  /** `0x0800` */
  readonly ptype: string;
  readonly hlen: number;
  readonly plen: number;
  readonly op: number;
  /** Colon-hex (a MAC when hlen is 6). */
  readonly sha: string;
  /** Dotted quad when ptype is 0x0800 and plen 4, colon-hex otherwise. */
  readonly spa: string;
  readonly tha: string;
  readonly tpa: string;
}

/**
 * One frame as `ersatz decode --json` prints it (without `index`). A key is absent when its layer is; `eth` is
 * absent only for a frame shorter than the 14-byte header.
 */
export interface DecodedFrame {
  /** Bytes captured. */
  readonly len: number;
  /** `type` is the value at offset 12 in hex (`0x8100` for a tagged frame, the length for an 802.3 frame). */
  readonly eth?: { readonly dst: Mac; readonly src: Mac; readonly type: string };
  /** VLAN ids, outermost first. */
  readonly vlan?: readonly number[];
  readonly arp?: DecodedArp;
  readonly ipv4?: { readonly src: string; readonly dst: string; readonly proto: number };
  /** `id`/`seq` for echo request and reply only. */
  readonly icmp?: { readonly type: number; readonly code: number; readonly id?: number; readonly seq?: number };
  /**
   * True when a layer could not be decoded: truncated or invalid (bad length, checksum, hlen, ...) or beyond what
   * this decoder reads (a third VLAN tag).
   */
  readonly malformed: boolean;
  /** Why it is malformed: the codec's message. */
  readonly error?: string;
}

// decodeFrame fills one object layer by layer, in the key order the JSON prints.
type Layers = { -readonly [K in keyof DecodedFrame]: DecodedFrame[K] };

/**
 * Decodes Ethernet (up to two VLAN tags), ARP/RARP (any htype/ptype, via the generic view), IPv4 and ICMP as far
 * as the bytes allow. Returns the decoded layers; a malformed frame keeps what decoded before the fault and says
 * why in `error`. Values the codecs do not support but the generic view reads fully (an unknown ARP operation or
 * hardware type) are shown as numbers and are not malformed. Never throws, whatever the bytes.
 */
export function decodeFrame(bytes: Uint8Array): DecodedFrame {
  const out = { len: bytes.length } as Layers;
  try {
    // A Buffer's subarray makes a Buffer, several times slower than a plain Uint8Array view: view it as one.
    decodeEthernet(bytes instanceof Buffer ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length) : bytes, out);
    out.malformed = false;
  } catch (err) {
    out.malformed = true;
    // Anything but a WireError is a bug in this package; it still must not take the decode worker down.
    out.error = err instanceof WireError ? err.message : `internal decoder error: ${err instanceof Error ? err.message : String(err)}`;
  }
  // Keys were added in the order the JSON prints: layers, then malformed and error.
  return out;
}

function decodeEthernet(bytes: Uint8Array, out: Layers): void {
  if (bytes.length < ETH_HEADER_LEN) throw new TruncatedError('ethernet', ETH_HEADER_LEN, bytes.length);
  out.eth = { dst: Mac.fromBytes(bytes, 0), src: Mac.fromBytes(bytes, 6), type: hex16(readU16(bytes, 12)) };
  const frame = EthernetFrame.checked(bytes);
  const tags = frame.vlanCount;
  if (tags > 0) out.vlan = Array.from({ length: tags }, (_, i) => frame.vlanTag(i).vid);
  const eth = EthernetRepr.parse(frame);
  if (eth.kind !== 'ethernet2') return; // 802.3: an LLC payload this decoder does not read
  if (eth.etherType === EtherType.Arp || eth.etherType === EtherType.Rarp) decodeArp(frame.payload, out);
  else if (eth.etherType === EtherType.Ipv4) decodeIpv4(frame.payload, out);
}

function decodeArp(bytes: Uint8Array, out: Layers): void {
  const p = ArpPacket.checked(bytes);
  const { htype, ptype, hlen, plen, operation } = p;
  // Offsets from the packet's own hlen/plen, as the generic view reads them (without making four subarrays).
  const spa = ARP_HEADER_LEN + hlen;
  const tha = spa + plen;
  const tpa = tha + hlen;
  const hardware = (at: number) => (hlen === 6 ? macText(bytes, at) : colonHex(bytes, at, at + hlen));
  const protocol = (at: number) => (ptype === EtherType.Ipv4 && plen === 4 ? Ipv4.format(Ipv4.fromBytes(bytes, at)) : colonHex(bytes, at, at + plen));
  out.arp = { htype, ptype: hex16(ptype), hlen, plen, op: operation, sha: hardware(ARP_HEADER_LEN), spa: protocol(spa), tha: hardware(tha), tpa: protocol(tpa) };
  try {
    checkEthIpv4(htype, ptype, hlen, plen, operation); // ArpRepr.parse's checks: hlen/plen that contradict htype/ptype
  } catch (err) {
    if (!(err instanceof UnsupportedError)) throw err; // another htype, ptype or op: shown above, not broken
  }
}

function decodeIpv4(bytes: Uint8Array, out: Layers): void {
  // Show the addresses even when a later check fails: they are what a reader looks for first.
  if (bytes.length >= IPV4_HEADER_LEN && bytes[0]! >>> 4 === 4) {
    out.ipv4 = { src: Ipv4.format(Ipv4.fromBytes(bytes, 12)), dst: Ipv4.format(Ipv4.fromBytes(bytes, 16)), proto: bytes[9]! };
  }
  const ip = Ipv4Packet.checked(bytes);
  Ipv4Repr.parse(ip); // verifies the header checksum
  // Only the first fragment starts with the ICMP header (as tcpdump, show it), and no single fragment holds all
  // the bytes the checksum covers.
  if (ip.protocol !== IpProtocol.Icmp || ip.fragmentOffset !== 0) return;
  const icmp = Icmpv4Packet.checked(ip.payload);
  const type = icmp.type;
  const echo = type === IcmpType.EchoRequest || type === IcmpType.EchoReply;
  out.icmp = echo ? { type, code: icmp.code, id: icmp.id, seq: icmp.seq } : { type, code: icmp.code };
  if (!ip.moreFragments && !icmp.verifyChecksum()) throw new ChecksumError('icmp', icmp.checksum, icmp.computeChecksum());
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
 * The hot path: reads an Ethernet ARP/RARP frame (up to two VLAN tags, trailing padding/FCS ignored) straight into
 * plain values, without building views. Returns the frame; throws the same WireError subclasses, with the same
 * messages, as EthernetFrame.checked + ArpPacket.checked + ArpRepr.parse: TruncatedError, UnsupportedError (another
 * EtherType, an 802.3 frame, a third tag, htype/ptype/operation), InvalidFieldError (type/length 1501..1535) and
 * FieldMismatchError (hlen/plen).
 */
export function parseArpFrame(bytes: Uint8Array): ArpFrame {
  const len = bytes.length;
  if (len < ETH_HEADER_LEN) throw new TruncatedError('ethernet', ETH_HEADER_LEN, len);
  let at = 12; // the type/length field, after any tags
  let type = readU16(bytes, at);
  let vlan: number | null = null;
  for (let tags = 0; isVlanTpid(type); ) {
    if (tags === ETH_MAX_VLAN_TAGS) throw new UnsupportedError('ethernet', 'VLAN tag count', tags + 1);
    tags++;
    at += VLAN_TAG_LEN;
    if (len < at + 2) throw new TruncatedError('ethernet', at + 2, len);
    vlan ??= readU16(bytes, at - 2) & 0x0fff;
    type = readU16(bytes, at);
  }
  if (type !== EtherType.Arp && type !== EtherType.Rarp) {
    if (type >= ETHERTYPE_MIN) throw new UnsupportedError('ethernet', 'ethertype', type);
    if (type > ETH_MTU) throw new InvalidFieldError('ethernet', 'type/length', type, 'a length is ≤ 1500, an EtherType ≥ 1536');
    throw new UnsupportedError('ethernet', '802.3 frame of length', type);
  }
  const o = at + 2;
  const have = len - o;
  if (have < ARP_HEADER_LEN) throw new TruncatedError('arp', ARP_HEADER_LEN, have);
  const hlen = bytes[o + 4]!;
  const plen = bytes[o + 5]!;
  const need = ARP_HEADER_LEN + 2 * (hlen + plen);
  if (have < need) throw new TruncatedError('arp', need, have);
  const operation = readU16(bytes, o + 6);
  checkEthIpv4(readU16(bytes, o), readU16(bytes, o + 2), hlen, plen, operation);
  return {
    ethSrc: Mac.fromBytes(bytes, 6),
    ethDst: Mac.fromBytes(bytes, 0),
    vlan,
    arp: {
      operation: operation as ArpRepr['operation'],
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
