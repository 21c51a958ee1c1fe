// The lines `ersatz decode` prints for a frame: tcpdump-like text (with local times) or a JSON object.
import { Ipv6, readU16, SNAP_HEADER_LEN, type DecodedArp, type DecodedFrame, type NdpMessage } from '@ersatz/wire';

const NS_PER_S = 1_000_000_000n;

export function jsonLine(file: string | undefined, index: number, tsNs: bigint, d: DecodedFrame): string {
  // A string, not a number: a double cannot hold epoch nanoseconds. Negative (a pcapng if_tsoffset) keeps its sign.
  const abs = tsNs < 0n ? -tsNs : tsNs;
  const ts = `${tsNs < 0n ? '-' : ''}${abs / NS_PER_S}.${String(abs % NS_PER_S).padStart(9, '0')}`;
  // decodeFrame's object is already in the documented key order: splice our keys in front of it.
  return `{${file === undefined ? '' : `"file":${JSON.stringify(file)},`}"index":${index},"ts":"${ts}",${JSON.stringify(d).slice(1)}`;
}

// tcpdump's print-arp.c: the words per operation, and the names of the hardware and protocol types of a packet whose
// addresses it does not print. (tcpdump reads ATM ARP, RFC 2225, by a layout of its own and prints Frame Relay
// addresses as Q.922: ersatz reads every htype by RFC 826's layout and prints hardware addresses as colon hex.)
const ARP_OPS: Record<number, (a: Required<DecodedArp>) => string> = {
  1: (a) => `Request who-has ${a.tpa}${/[^0:]/.test(a.tha) ? ` (${a.tha})` : ''} tell ${a.spa}`,
  2: (a) => `Reply ${a.spa} is-at ${a.sha}`,
  3: (a) => `Reverse Request who-is ${a.tha} tell ${a.sha}`,
  4: (a) => `Reverse Reply ${a.tha} at ${a.tpa}`,
  8: (a) => `Inverse Request who-is ${a.tha} tell ${a.sha}`,
  9: (a) => `Inverse Reply ${a.sha} at ${a.spa}`,
};
// Operations tcpdump names but prints as a hex dump (which ersatz does not print), and the rest.
const ARP_OTHER_OPS: Record<number, string> = { 10: 'NACK Reply' };
const ARP_HARDWARE: Record<number, string> = { 1: 'Ethernet', 6: 'TokenRing', 7: 'ArcNet', 15: 'FrameRelay', 19: 'ATM', 23: 'Strip', 24: 'IEEE 1394', 32: 'InfiniBand' };
// tcpdump's names for the EtherTypes an ARP protocol type field is most likely to hold by mistake (tcpdump names
// ~50; the rest print as `Unknown Protocol (0x….)` here).
const ETHERTYPES: Record<string, string> = {
  '0x0800': 'IPv4',
  '0x0806': 'ARP',
  '0x8035': 'Reverse ARP',
  '0x86dd': 'IPv6',
  '0x8100': '802.1Q',
  '0x88a8': '802.1Q-QinQ',
  '0x9100': '802.1Q-9100',
  '0x9200': '802.1Q-9200',
  '0x8847': 'MPLS unicast',
  '0x8848': 'MPLS multicast',
};

/**
 * A whole ARP packet in tcpdump's words. `length` is what tcpdump prints: the bytes after the link-layer header on
 * the wire, Ethernet padding included (46 for a minimal frame), not the 28 bytes ARP uses.
 */
function arpWords(a: Required<DecodedArp>, length: number): string {
  // Addresses are printed only for IPv4 (plen 4) over a hardware address of some length.
  if (a.ptype !== '0x0800' || a.plen !== 4 || a.hlen === 0) {
    const hardware = ARP_HARDWARE[a.htype] ?? `Unknown Hardware (${a.htype})`;
    const protocol = ETHERTYPES[a.ptype] ?? `Unknown Protocol (${a.ptype})`;
    return `${hardware} (len ${a.hlen}), ${protocol} (len ${a.plen}), length ${length}`;
  }
  const words = ARP_OPS[a.op];
  return words === undefined ? (ARP_OTHER_OPS[a.op] ?? `Unknown (${a.op})`) : `${words(a)}, length ${length}`;
}

const ICMP_TYPES: Record<number, string> = { 0: 'echo reply', 3: 'destination unreachable', 5: 'redirect', 8: 'echo request', 11: 'time exceeded', 12: 'parameter problem' };
const ICMP6_TYPES: Record<number, string> = {
  1: 'destination unreachable',
  2: 'packet too big',
  3: 'time exceeded',
  4: 'parameter problem',
  128: 'echo request',
  129: 'echo reply',
  133: 'router solicitation',
  134: 'router advertisement',
  135: 'neighbor solicitation',
  136: 'neighbor advertisement',
  137: 'redirect',
};
// How tcpdump names the target of a neighbor solicitation and advertisement.
const ND_TARGET_WORDS: Record<number, string> = { 135: 'who has', 136: 'tgt is' };
const ND_TYPES: Record<NdpMessage['type'], number> = { rs: 133, ra: 134, ns: 135, na: 136 };

/** tcpdump's words for an ICMPv6 message of `type`, with its target when it is a solicitation or advertisement. */
function icmp6Words(type: number, target: string | undefined): string {
  const words = ICMP6_TYPES[type] ?? `type ${type}`;
  const verb = ND_TARGET_WORDS[type];
  return verb === undefined || target === undefined ? words : `${words}, ${verb} ${target}`;
}

const IP_PROTOCOLS: Record<number, string> = { 1: 'ICMP', 2: 'IGMP', 6: 'TCP', 17: 'UDP', 47: 'GRE', 50: 'ESP', 89: 'OSPF', 132: 'SCTP' };

// tcpdump's words for a cooked capture's packet type (PACKET_HOST, _BROADCAST, _MULTICAST, _OTHERHOST, _OUTGOING).
const PACKET_TYPES: Record<number, string> = { 0: 'In', 1: 'B', 2: 'M', 3: 'P', 4: 'Out' };

/**
 * The target of a neighbor solicitation or advertisement not checked whole (cut by the snap length, or malformed),
 * when the capture holds it: the 16 bytes after the message's first 8, which start at `at`.
 */
function uncheckedNdTarget(frame: Uint8Array, type: number, at: number): string | undefined {
  return ND_TARGET_WORDS[type] !== undefined && at >= 0 && at + 24 <= frame.length ? Ipv6.fromBytes(frame, at + 8) : undefined;
}

/**
 * The length tcpdump prints after a protocol it names: the bytes after the IP header(s), `bytes`; for UDP, the data
 * after its own header (`UDP, length 100` for a 108-byte datagram), when that header was captured and its length
 * field agrees with `bytes` (a later fragment starts with no UDP header).
 */
function upperLength(frame: Uint8Array, protocol: number, at: number, bytes: number): number {
  return protocol === 17 && at + 8 <= frame.length && readU16(frame, at + 4) === bytes && bytes >= 8 ? bytes - 8 : bytes;
}

/**
 * tcpdump -e style, minus the timestamp: `src > dst, [vlan 42, ][LLC/SNAP, ]ARP, Request who-has … tell …, length
 * 46`; a cooked capture starts with the packet type and the source (`Out 02:…, ARP, …`), raw IPv4 with `IPv4`.
 * `frame` is needed for what the decoded layers leave out: the inner EtherType and the IPv4 lengths.
 */
export function humanLine(frame: Uint8Array, d: DecodedFrame, origlen: number): string {
  const bad = d.malformed ? ` [malformed: ${d.error}]` : '';
  let s: string;
  let type: number; // the network layer's EtherType (-1: cut short), or an 802.3 length
  let at: number; // where that layer starts in `frame`
  if (d.eth) {
    const tags = d.vlan ?? [];
    const typeAt = 12 + 4 * tags.length;
    s = `${d.eth.src} > ${d.eth.dst}, ${tags.map((v) => `vlan ${v}, `).join('')}`;
    type = typeAt + 2 <= frame.length ? readU16(frame, typeAt) : -1;
    at = typeAt + 2;
  } else if (d.sll) {
    // An interface without link-layer addresses (a tunnel, PPP) leaves the address empty.
    s = `${PACKET_TYPES[d.sll.pkttype] ?? `pkttype ${d.sll.pkttype}`} ${d.sll.addr === '' ? '' : `${d.sll.addr}, `}`;
    type = parseInt(d.sll.type, 16);
    at = d.sll.ifindex === undefined ? 16 : 20;
  } else if (d.ipv4 || d.ipv6) {
    s = '';
    type = d.ipv4 ? 0x0800 : 0x86dd;
    at = 0;
  } else return `length ${origlen}${bad}`;
  // The bytes tcpdump counts after the link-layer header: to the end of the frame, or to where an 802.3 length field
  // says the LLC frame ends when that comes sooner (the rest is padding).
  let length = origlen - at;
  if (d.snap) {
    if (d.eth) length = Math.min(length, type);
    length = Math.max(0, length - SNAP_HEADER_LEN);
    s += 'LLC/SNAP, ';
    type = parseInt(d.snap.type, 16);
    at += SNAP_HEADER_LEN;
  }
  if (type === 0x0806 || type === 0x8035) {
    s += type === 0x0806 ? 'ARP' : 'RARP';
    const a = d.arp;
    // Only a whole packet is described: one cut short is flagged below, as tcpdump's "[|arp]".
    if (a?.tpa !== undefined) s += `, ${arpWords(a as Required<DecodedArp>, length)}`;
  } else if (type === 0x0800) {
    s += 'IPv4';
    const ip = d.ipv4;
    if (ip) {
      // Payload length from the header (total length minus IHL), as tcpdump prints it; Ethernet padding is not payload.
      const payload = ((frame[at + 2]! << 8) | frame[at + 3]!) - (frame[at]! & 0x0f) * 4;
      s += `, ${ip.src} > ${ip.dst}`;
      const icmp = d.icmp;
      if (icmp) {
        s += `: ICMP ${ICMP_TYPES[icmp.type] ?? `type ${icmp.type}`}`;
        if (icmp.id !== undefined) s += `, id ${icmp.id}, seq ${icmp.seq}`;
        else if (icmp.code !== 0) s += ` code ${icmp.code}`;
        s += `, length ${payload}`;
      } else if (!d.malformed) {
        s += `: ${IP_PROTOCOLS[ip.proto] ?? `ip-proto-${ip.proto}`}, length ${upperLength(frame, ip.proto, at + (frame[at]! & 0x0f) * 4, payload)}`;
      }
    }
  } else if (type === 0x86dd) {
    s += 'IPv6';
    const ip = d.ipv6;
    if (ip) {
      s += `, ${ip.src} > ${ip.dst}`;
      const icmp = d.icmpv6;
      // tcpdump's words and length: the upper layer's bytes (the payload length less any extension headers).
      const length = ip.length === undefined ? '' : `, length ${ip.length}`;
      // The upper layer starts where its bytes end less their count: after the header and any extension headers.
      const upperAt = ip.length === undefined ? -1 : at + 40 + readU16(frame, at + 4) - ip.length;
      if (d.ndp) s += `: ICMP6, ${icmp6Words(ND_TYPES[d.ndp.type], 'target' in d.ndp ? d.ndp.target : undefined)}${length}`;
      else if (icmp) s += `: ICMP6, ${icmp6Words(icmp.type, uncheckedNdTarget(frame, icmp.type, upperAt))}${icmp.id === undefined ? '' : `, id ${icmp.id}, seq ${icmp.seq}`}${length}`;
      else if (!d.malformed && ip.length !== undefined) {
        s += `: ${IP_PROTOCOLS[ip.next] ?? `ip-proto-${ip.next}`}, length ${upperLength(frame, ip.next, upperAt, ip.length)}`;
      }
    }
  } else if (type >= 0 && type <= 1500) {
    s += `802.3, length ${origlen}`;
  } else {
    s += type >= 0 ? `ethertype 0x${type.toString(16).padStart(4, '0')}, length ${origlen}` : `length ${origlen}`;
  }
  return s + bad;
}

/** Local wall-clock `HH:MM:SS.uuuuuu` as tcpdump prints it; the `HH:MM:SS` of the last second is reused. */
export class Clock {
  #sec = -1n;
  #hms = '';
  format(tsNs: bigint): string {
    let sec = tsNs / NS_PER_S;
    let ns = tsNs % NS_PER_S;
    if (ns < 0n) {
      sec -= 1n; // floor, so times before 1970 still count forward within their second
      ns += NS_PER_S;
    }
    if (sec !== this.#sec) {
      const d = new Date(Number(sec) * 1000);
      this.#sec = sec;
      this.#hms = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
    }
    return `${this.#hms}.${String(ns / 1000n).padStart(6, '0')}`;
  }
}
const two = (n: number): string => (n < 10 ? `0${n}` : String(n));
