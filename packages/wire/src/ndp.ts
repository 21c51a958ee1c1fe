// ICMPv6 (RFC 4443) Neighbor Discovery (RFC 4861): Router/Neighbor Solicitation and Advertisement with their
// options, read from and written to Ethernet frames, and the validity rules a receiver applies (§6.1, §7.1).
import { Mac } from './address.js';
import { readU16, readU32, writeU16 } from './bytes.js';
import { onesComplementSum } from './checksum.js';
import { ChecksumError, InvalidFieldError, MalformedError, TruncatedError } from './error.js';
import { colonHex } from './format.js';
import { ETH_HEADER_LEN, EtherType } from './ethernet.js';
import { IPV6_HEADER_LEN, Ipv6, Ipv6Next, parseIpv6Header, writeIpv6Header, type Ipv6Header } from './ipv6.js';

/** The ICMPv6 types of Neighbor Discovery. */
export const NdpType = { RouterSolicitation: 133, RouterAdvertisement: 134, NeighborSolicitation: 135, NeighborAdvertisement: 136 } as const;

/** Echo (RFC 4443), for ping's twin and scan's all-nodes echo. */
export const Icmpv6Type = { EchoRequest: 128, EchoReply: 129 } as const;

const Opt = { SourceLinkAddress: 1, TargetLinkAddress: 2, PrefixInformation: 3, Mtu: 5, Nonce: 14 } as const;

export interface PrefixInformation {
  readonly prefix: Ipv6;
  readonly prefixLen: number;
  /** L: the prefix is on-link. A: it may be used for SLAAC. */
  readonly onLink: boolean;
  readonly autonomous: boolean;
  readonly validLifetimeS: number;
  readonly preferredLifetimeS: number;
}

/** The options this package reads; others are skipped (RFC 4861 §4.6: a receiver ignores options it does not know). */
export interface NdpOptions {
  readonly sourceLinkAddress?: Mac;
  readonly targetLinkAddress?: Mac;
  readonly prefixes?: readonly PrefixInformation[];
  readonly mtu?: number;
  /** RFC 7527: the random bytes a DAD solicitation carries, so its sender knows its own when it is looped back. */
  readonly nonce?: string;
}

export type NdpMessage =
  | { readonly type: 'rs'; readonly options: NdpOptions }
  | {
      readonly type: 'ra';
      readonly curHopLimit: number;
      readonly managed: boolean;
      readonly other: boolean;
      readonly routerLifetimeS: number;
      readonly reachableTimeMs: number;
      readonly retransTimerMs: number;
      readonly options: NdpOptions;
    }
  | { readonly type: 'ns'; readonly target: Ipv6; readonly options: NdpOptions }
  | { readonly type: 'na'; readonly router: boolean; readonly solicited: boolean; readonly override: boolean; readonly target: Ipv6; readonly options: NdpOptions };

/** An Ethernet frame's ND message with the IPv6 facts a receiver judges it by. */
export interface NdpFrame {
  readonly ethSrc: Mac;
  readonly ethDst: Mac;
  readonly vlan: number | null;
  readonly ip: Ipv6Header;
  readonly ndp: NdpMessage;
}

/** Where each message's options start (its fixed part), and so its least length. */
const FIXED: Readonly<Record<number, number>> = { 133: 8, 134: 16, 135: 24, 136: 24 };

/** The ICMPv6 checksum of `icmp` (its checksum field read as zero) under the pseudo-header of `src`, `dst` (RFC 8200 §8.1). */
export function icmpv6Checksum(src: Ipv6, dst: Ipv6, icmp: Uint8Array): number {
  const addresses = new Uint8Array(32);
  Ipv6.write(src, addresses, 0);
  Ipv6.write(dst, addresses, 16);
  return checksumOver(addresses, icmp);
}

/** icmpv6Checksum with the source and destination as the 32 bytes an IPv6 header holds them in (no text to parse). */
function checksumOver(addresses: Uint8Array, icmp: Uint8Array): number {
  // The pseudo-header's other words: the upper-layer length (32 bits) and the next header (zeros before it).
  let sum = onesComplementSum(addresses, 0, 32, icmp.length + Ipv6Next.Icmpv6);
  sum = onesComplementSum(icmp, 0, 2, sum);
  sum = onesComplementSum(icmp, 4, icmp.length, sum);
  return ~sum & 0xffff;
}

/**
 * Reads the ND message of an ICMPv6 payload (`icmp`: exactly the upper-layer bytes) after `ip`'s header, checking what
 * RFC 4861 makes every receiver check (§6.1.1, §6.1.2, §7.1.1, §7.1.2): the checksum, hop limit 255, code 0, the
 * least length, no zero-length option, a target that is not multicast, a solicitation from :: only to a
 * solicited-node address and without a source link-layer address, no solicited flag on an advertisement to a
 * multicast address, a Router Advertisement from a link-local source. Returns null for ICMPv6 types other than ND's.
 * `addresses`: the header's 32 bytes of source and destination, when the caller has them (saves parsing their text).
 * Throws ChecksumError, InvalidFieldError, MalformedError or TruncatedError (layer `ndp`).
 */
export function parseNdp(ip: Ipv6Header, icmp: Uint8Array, addresses?: Uint8Array): NdpMessage | null {
  if (icmp.length < 4) throw new TruncatedError('icmpv6', 4, icmp.length);
  const type = icmp[0]!;
  const fixed = FIXED[type];
  if (fixed === undefined) return null;
  if (icmp.length < fixed) throw new TruncatedError('ndp', fixed, icmp.length);
  const found = readU16(icmp, 2);
  const computed = addresses === undefined ? icmpv6Checksum(ip.src, ip.dst, icmp) : checksumOver(addresses, icmp);
  if (found !== computed) throw new ChecksumError('ndp', found, computed);
  if (ip.hopLimit !== 255) throw new InvalidFieldError('ndp', 'hop limit', ip.hopLimit, 'ND messages come from the link itself: 255');
  if (icmp[1] !== 0) throw new InvalidFieldError('ndp', 'code', icmp[1]!, 'ND messages have code 0');
  const options = parseOptions(icmp, fixed);
  switch (type) {
    case NdpType.RouterSolicitation:
      if (Ipv6.isUnspecified(ip.src) && options.sourceLinkAddress !== undefined) throw new MalformedError('ndp', 'a router solicitation from :: with a source link-layer address');
      return { type: 'rs', options };
    case NdpType.RouterAdvertisement:
      if (!Ipv6.isLinkLocal(ip.src)) throw new MalformedError('ndp', `a router advertisement from ${ip.src}, not a link-local address`);
      return {
        type: 'ra',
        curHopLimit: icmp[4]!,
        managed: (icmp[5]! & 0x80) !== 0,
        other: (icmp[5]! & 0x40) !== 0,
        routerLifetimeS: readU16(icmp, 6),
        reachableTimeMs: readU32(icmp, 8),
        retransTimerMs: readU32(icmp, 12),
        options,
      };
    case NdpType.NeighborSolicitation: {
      const target = Ipv6.fromBytes(icmp, 8);
      if (Ipv6.isMulticast(target)) throw new MalformedError('ndp', `a solicitation for the multicast address ${target}`);
      if (Ipv6.isUnspecified(ip.src)) {
        if (ip.dst !== Ipv6.solicitedNode(target)) throw new MalformedError('ndp', `a solicitation from :: to ${ip.dst}, not ${target}'s solicited-node address`);
        if (options.sourceLinkAddress !== undefined) throw new MalformedError('ndp', 'a solicitation from :: with a source link-layer address');
      }
      return { type: 'ns', target, options };
    }
    default: {
      const flags = icmp[4]!;
      const target = Ipv6.fromBytes(icmp, 8);
      const solicited = (flags & 0x40) !== 0;
      if (Ipv6.isMulticast(target)) throw new MalformedError('ndp', `an advertisement for the multicast address ${target}`);
      if (solicited && Ipv6.isMulticast(ip.dst)) throw new MalformedError('ndp', `a solicited advertisement to the multicast address ${ip.dst}`);
      return { type: 'na', router: (flags & 0x80) !== 0, solicited, override: (flags & 0x20) !== 0, target, options };
    }
  }
}

function parseOptions(icmp: Uint8Array, at: number): NdpOptions {
  const o: { -readonly [K in keyof NdpOptions]: NdpOptions[K] } & { prefixes?: PrefixInformation[] } = {};
  while (at < icmp.length) {
    if (at + 2 > icmp.length) throw new TruncatedError('ndp option', at + 2, icmp.length);
    const kind = icmp[at]!;
    const len = icmp[at + 1]! * 8;
    if (len === 0) throw new MalformedError('ndp', `option ${kind} with length 0`);
    if (at + len > icmp.length) throw new TruncatedError('ndp option', at + len, icmp.length);
    // Link-layer addresses of Ethernet (RFC 2464 §6): one 8-octet unit; a longer one is another link's, skipped.
    if ((kind === Opt.SourceLinkAddress || kind === Opt.TargetLinkAddress) && len === 8) {
      o[kind === Opt.SourceLinkAddress ? 'sourceLinkAddress' : 'targetLinkAddress'] = Mac.fromBytes(icmp, at + 2);
    } else if (kind === Opt.PrefixInformation) {
      if (len !== 32) throw new MalformedError('ndp', `prefix information of ${len} bytes, not 32`);
      (o.prefixes ??= []).push({
        prefixLen: icmp[at + 2]!,
        onLink: (icmp[at + 3]! & 0x80) !== 0,
        autonomous: (icmp[at + 3]! & 0x40) !== 0,
        validLifetimeS: readU32(icmp, at + 4),
        preferredLifetimeS: readU32(icmp, at + 8),
        prefix: Ipv6.fromBytes(icmp, at + 16),
      });
    } else if (kind === Opt.Mtu && len === 8) o.mtu = readU32(icmp, at + 4);
    else if (kind === Opt.Nonce) o.nonce = colonHex(icmp, at + 2, at + len);
    at += len;
  }
  return o;
}

/** What emitNdpFrame writes: Ethernet, IPv6 (hop limit 255) and one NS or NA with a link-layer address option. */
export type NdpEmit =
  | { readonly type: 'ns'; readonly target: Ipv6; readonly sourceLinkAddress?: Mac; readonly nonce?: Uint8Array }
  | { readonly type: 'na'; readonly target: Ipv6; readonly router: boolean; readonly solicited: boolean; readonly override: boolean; readonly targetLinkAddress?: Mac };

/**
 * Writes an ND frame at the start of `buf`: `ethSrc` → `ethDst`, `src` → `dst`, the message and its link-layer address
 * option, checksummed (78 or 86 bytes: never under Ethernet's 60). Returns its length. Throws TruncatedError when `buf`
 * is too short.
 */
export function emitNdpFrame(buf: Uint8Array, f: { readonly ethDst: Mac; readonly ethSrc: Mac; readonly src: Ipv6; readonly dst: Ipv6; readonly message: NdpEmit }): number {
  const m = f.message;
  const lla = m.type === 'ns' ? m.sourceLinkAddress : m.targetLinkAddress;
  const nonce = m.type === 'ns' ? m.nonce : undefined;
  // A nonce option is its 6 bytes (the length RFC 7527 recommends) padded to whole 8-octet units.
  const nonceLen = nonce === undefined ? 0 : Math.ceil((nonce.length + 2) / 8) * 8;
  const icmpLen = 24 + (lla === undefined ? 0 : 8) + nonceLen;
  const len = ETH_HEADER_LEN + IPV6_HEADER_LEN + icmpLen;
  if (buf.length < len) throw new TruncatedError('ndp frame buffer', len, buf.length);
  Mac.write(f.ethDst, buf, 0);
  Mac.write(f.ethSrc, buf, 6);
  writeU16(buf, 12, EtherType.Ipv6);
  const at = writeIpv6Header(buf, ETH_HEADER_LEN, { src: f.src, dst: f.dst, next: Ipv6Next.Icmpv6, payloadLength: icmpLen, hopLimit: 255 });
  const icmp = buf.subarray(at, at + icmpLen);
  icmp.fill(0);
  icmp[0] = m.type === 'ns' ? NdpType.NeighborSolicitation : NdpType.NeighborAdvertisement;
  if (m.type === 'na') icmp[4] = (m.router ? 0x80 : 0) | (m.solicited ? 0x40 : 0) | (m.override ? 0x20 : 0);
  Ipv6.write(m.target, icmp, 8);
  if (lla !== undefined) {
    icmp[24] = m.type === 'ns' ? Opt.SourceLinkAddress : Opt.TargetLinkAddress;
    icmp[25] = 1;
    Mac.write(lla, icmp, 26);
  }
  if (nonce !== undefined) {
    const at = icmpLen - nonceLen;
    icmp[at] = Opt.Nonce;
    icmp[at + 1] = nonceLen / 8;
    icmp.set(nonce, at + 2);
  }
  writeU16(icmp, 2, icmpv6Checksum(f.src, f.dst, icmp));
  return len;
}

/** An ICMPv6 echo reply (RFC 4443 §4.2) in an Ethernet frame: who answered a ping, from which MAC. */
export interface Echo6Frame {
  readonly ethSrc: Mac;
  readonly ethDst: Mac;
  readonly vlan: number | null;
  readonly ip: Ipv6Header;
  readonly id: number;
  readonly seq: number;
}

/**
 * An Ethernet frame's ICMPv6 message of the kinds ersatz reads: an ND message (as parseNdp checks it) or an echo reply
 * (checksum verified). Null for any other IPv6 frame (another protocol or ICMPv6 type, a fragment). `payloadAt` is
 * where the IPv6 header starts in `frame` (after the Ethernet header and any VLAN tags). Throws as parseIpv6Header and
 * parseNdp do; TruncatedError for an echo reply under 8 bytes, ChecksumError (layer `icmpv6`).
 */
export function parseIcmpv6Frame(frame: Uint8Array, payloadAt: number, vlan: number | null): NdpFrame | Echo6Frame | null {
  const bytes = frame.subarray(payloadAt);
  const ip = parseIpv6Header(bytes);
  if (ip.protocol !== Ipv6Next.Icmpv6 || ip.fragment) return null;
  const icmp = bytes.subarray(ip.at, ip.at + ip.length);
  const addresses = bytes.subarray(8, 40);
  const ndp = parseNdp(ip, icmp, addresses);
  if (ndp === null) {
    if (icmp[0] !== Icmpv6Type.EchoReply) return null;
    if (icmp.length < 8) throw new TruncatedError('icmpv6', 8, icmp.length);
    const found = readU16(icmp, 2);
    const computed = checksumOver(addresses, icmp);
    if (found !== computed) throw new ChecksumError('icmpv6', found, computed);
  }
  const ethDst = Mac.fromBytes(frame, 0);
  const ethSrc = Mac.fromBytes(frame, 6);
  // Whole literals, not { ...common, more }: on Node 20 such a spread costs ~1 µs an object, and V8 gives each one a
  // map of its own, which makes every later read of it slow (measured: ~0.8 µs for six reads).
  return ndp !== null ? { ethDst, ethSrc, vlan, ip, ndp } : { ethDst, ethSrc, vlan, ip, id: readU16(icmp, 4), seq: readU16(icmp, 6) };
}

/** parseIcmpv6Frame's ND messages only. */
export function parseNdpFrame(frame: Uint8Array, payloadAt: number, vlan: number | null): NdpFrame | null {
  const f = parseIcmpv6Frame(frame, payloadAt, vlan);
  return f !== null && 'ndp' in f ? f : null;
}

/** parseIcmpv6Frame's echo replies only: who answered a ping, from which MAC. */
export function parseEcho6ReplyFrame(frame: Uint8Array, payloadAt: number, vlan: number | null): Echo6Frame | null {
  const f = parseIcmpv6Frame(frame, payloadAt, vlan);
  return f !== null && 'id' in f ? f : null;
}

/** Writes an ICMPv6 echo request frame (hop limit 255 for a link-scope target, else 64) with `data`. Returns its length. */
export function emitEcho6RequestFrame(buf: Uint8Array, f: { readonly ethDst: Mac; readonly ethSrc: Mac; readonly src: Ipv6; readonly dst: Ipv6; readonly id: number; readonly seq: number; readonly data?: Uint8Array }): number {
  const data = f.data ?? new Uint8Array(0);
  const icmpLen = 8 + data.length;
  const len = ETH_HEADER_LEN + IPV6_HEADER_LEN + icmpLen;
  if (buf.length < len) throw new TruncatedError('icmpv6 frame buffer', len, buf.length);
  Mac.write(f.ethDst, buf, 0);
  Mac.write(f.ethSrc, buf, 6);
  writeU16(buf, 12, EtherType.Ipv6);
  const hopLimit = Ipv6.isMulticast(f.dst) || Ipv6.isLinkLocal(f.dst) ? 255 : 64;
  const at = writeIpv6Header(buf, ETH_HEADER_LEN, { src: f.src, dst: f.dst, next: Ipv6Next.Icmpv6, payloadLength: icmpLen, hopLimit });
  const icmp = buf.subarray(at, at + icmpLen);
  icmp.fill(0, 0, 8);
  icmp[0] = Icmpv6Type.EchoRequest;
  writeU16(icmp, 4, f.id);
  writeU16(icmp, 6, f.seq);
  icmp.set(data, 8);
  writeU16(icmp, 2, icmpv6Checksum(f.src, f.dst, icmp));
  return len;
}
