/**
 * The link-layer header types a capture file names in its header (pcap) or per interface (pcapng),
 * from the tcpdump.org LINKTYPE_ registry. Only the ones ersatz meets on Linux and Windows are named.
 */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  IEEE802_11: 105,
  LOOP: 108,
  LINUX_SLL: 113,
  IEEE802_11_RADIOTAP: 127,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;
export type LinkType = (typeof LinkType)[keyof typeof LinkType];

const names = new Map<number, string>(Object.entries(LinkType).map(([name, value]) => [value, name === 'ETHERNET' ? 'EN10MB' : name]));

/** `1` → `EN10MB`, `276` → `LINUX_SLL2`, unknown → the number as text (tcpdump's names for the link types). */
export function linkTypeName(linktype: number): string {
  return names.get(linktype) ?? String(linktype);
}

/** A link type as a message names it: `EN10MB (1)` for a named one, else just the number (`284`). */
export function linkTypeLabel(linktype: number): string {
  const name = names.get(linktype);
  return name === undefined ? String(linktype) : `${name} (${linktype})`;
}
