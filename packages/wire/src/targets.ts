import { Ipv4 } from './address.js';
import { Cidr, netmaskToPrefix } from './cidr.js';
import { AddressParseError } from './error.js';

/** The most hosts one target set may hold: 2^24 (a /8 fits; its 64 MiB Uint32Array is the ceiling). */
export const MAX_TARGETS = 2 ** 24;

/** An inclusive run of addresses. */
export interface TargetRange {
  readonly first: Ipv4;
  readonly last: Ipv4;
}

/**
 * The hosts a scan visits: disjoint ranges in ascending order, duplicates merged. Iterates ascending; `shuffled`
 * gives arp-scan's `--random` order, reproducible from a seed.
 */
export class TargetSet implements Iterable<Ipv4> {
  /** Disjoint, non-adjacent, ascending. */
  readonly ranges: readonly TargetRange[];
  /** How many hosts. */
  readonly size: number;
  // ends[i]: how many hosts ranges[0..i] hold together, for at().
  readonly #ends: number[];

  /**
   * Builds a set from any ranges (overlaps merged). Throws AddressParseError when the union exceeds MAX_TARGETS;
   * `source` (the text the ranges came from) names the input in that error.
   */
  constructor(ranges: Iterable<TargetRange>, source?: string) {
    const sorted = [...ranges].sort((a, b) => a.first - b.first);
    const merged: { first: Ipv4; last: Ipv4 }[] = [];
    for (const r of sorted) {
      const prev = merged.at(-1);
      if (prev && r.first <= prev.last + 1) {
        if (r.last > prev.last) prev.last = r.last;
      } else merged.push({ first: r.first, last: r.last });
    }
    let size = 0;
    this.#ends = merged.map((r) => (size += r.last - r.first + 1));
    if (size > MAX_TARGETS) throw new AddressParseError('target list', source ?? merged.map(formatRange).join(','), `${size} hosts is over the limit of ${MAX_TARGETS} (a /8): scan it in parts`);
    this.ranges = merged;
    this.size = size;
  }

  /**
   * The set of `ips`, duplicates merged: sorted as one Uint32Array and read back as runs, so a long list costs 4 bytes
   * an address and a range object per run, not one per address. Throws AddressParseError past MAX_TARGETS.
   */
  static of(ips: Iterable<Ipv4> | Uint32Array): TargetSet {
    const sorted = Uint32Array.from(ips).sort();
    const ranges: TargetRange[] = [];
    for (let i = 0; i < sorted.length; ) {
      let j = i;
      while (j + 1 < sorted.length && sorted[j + 1]! - sorted[j]! <= 1) j++;
      ranges.push({ first: sorted[i]! as Ipv4, last: sorted[j]! as Ipv4 });
      i = j + 1;
    }
    return new TargetSet(ranges);
  }

  /** The set less `ips` (a range holding one is split around it). Returns a new set; this one is unchanged. */
  without(ips: Iterable<Ipv4>): TargetSet {
    let ranges: readonly TargetRange[] = this.ranges;
    for (const ip of ips) ranges = cut(ranges, { first: ip, last: ip });
    return new TargetSet(ranges);
  }

  /** The set less every address from `r.first` to `r.last`. Returns a new set; this one is unchanged. */
  withoutRange(r: TargetRange): TargetSet {
    return new TargetSet(cut(this.ranges, r));
  }

  /** The addresses of the set from `r.first` to `r.last`. Returns a new set; this one is unchanged. */
  within(r: TargetRange): TargetSet {
    const out: TargetRange[] = [];
    for (const x of this.ranges) {
      const first = Math.max(x.first, r.first) as Ipv4;
      const last = Math.min(x.last, r.last) as Ipv4;
      if (first <= last) out.push({ first, last });
    }
    return new TargetSet(out);
  }

  /** True when `ip` is in the set. */
  has(ip: Ipv4): boolean {
    return this.indexOf(ip) >= 0;
  }

  /**
   * Where `ip` is in ascending order (the inverse of `at`), or -1 when it is not in the set. A binary search over
   * the ranges, written out (no predicate call per step): a sweep asks it for every reply.
   */
  indexOf(ip: Ipv4): number {
    const ranges = this.ranges;
    let lo = 0;
    let hi = ranges.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ranges[mid]!.last < ip) lo = mid + 1;
      else hi = mid;
    }
    const r = ranges[lo];
    if (r === undefined || ip < r.first || ip > r.last) return -1;
    return (lo === 0 ? 0 : this.#ends[lo - 1]!) + (ip - r.first);
  }

  /** The `index`-th host in ascending order. Throws RangeError outside 0..size−1. */
  at(index: number): Ipv4 {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) throw new RangeError(`target index ${index} is outside 0..${this.size - 1}`);
    const i = this.#rangeIndex((_, j) => this.#ends[j]! > index);
    const before = i === 0 ? 0 : this.#ends[i - 1]!;
    return (this.ranges[i]!.first + (index - before)) as Ipv4;
  }

  *[Symbol.iterator](): Iterator<Ipv4> {
    for (const { first, last } of this.ranges) for (let ip: number = first; ip <= last; ip++) yield ip as Ipv4;
  }

  /** Every host, ascending, in one Uint32Array (4 bytes a host: at most 64 MiB). */
  toUint32Array(): Uint32Array {
    const out = new Uint32Array(this.size);
    let n = 0;
    for (const { first, last } of this.ranges) for (let ip: number = first; ip <= last; ip++) out[n++] = ip;
    return out;
  }

  /**
   * Every host in a random order fixed by `seed` (any integer, taken mod 2^32): the same seed gives the same order.
   * A Fisher–Yates shuffle in place of toUint32Array's array, so the memory is that one array. Not cryptographic.
   */
  shuffled(seed: number): Uint32Array {
    const out = this.toUint32Array();
    const next = mulberry32(seed);
    for (let i = out.length - 1; i > 0; i--) {
      const j = below(i + 1, next);
      const t = out[i]!;
      out[i] = out[j]!;
      out[j] = t;
    }
    return out;
  }

  // The first range index whose predicate holds (ranges are sorted, predicates monotone); ranges.length if none.
  #rangeIndex(pred: (r: TargetRange, i: number) => boolean): number {
    let lo = 0;
    let hi = this.ranges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (pred(this.ranges[mid]!, mid)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/**
 * Parses targets the way arp-scan takes them: `a.b.c.d/N`, `a.b.c.d:netmask`, `start-end` (inclusive) and single
 * addresses, several separated by commas or spaces. A network's usable hosts are its targets (Cidr.hosts: network
 * and broadcast excluded up to /30), or with `wholeNetworks` every address of it, as arp-scan takes them (a scanner
 * that knows the link's own prefix then drops that subnet's network and broadcast addresses, which may differ from
 * the typed network's: a /24 inside a /23). Host bits in a network are masked off as arp-scan does.
 * Returns the set; throws AddressParseError naming the bad item, for an empty list, a prefix over 32, a
 * non-contiguous netmask, a range whose end precedes its start, or more than MAX_TARGETS hosts.
 */
export function parseTargets(spec: string, opts: { readonly wholeNetworks?: boolean } = {}): TargetSet {
  const items = spec.split(/[\s,]+/).filter((s) => s !== '');
  if (items.length === 0) throw new AddressParseError('target list', spec, `no targets: ${FORMS}`);
  const whole = opts.wholeNetworks === true;
  return new TargetSet(items.map((item) => parseItem(item, whole)), spec);
}

function parseItem(item: string, whole: boolean): TargetRange {
  const cidrRange = (c: Cidr): TargetRange => (whole ? { first: c.network, last: c.broadcast } : { first: c.firstHost, last: c.lastHost });
  try {
    if (item.includes('/')) return cidrRange(Cidr.parse(item));
    const colon = item.indexOf(':');
    if (colon >= 0) return cidrRange(Cidr.of(Ipv4.parse(item.slice(0, colon)), netmaskToPrefix(Ipv4.parse(item.slice(colon + 1)))));
    const dash = item.indexOf('-');
    if (dash >= 0) {
      const first = Ipv4.parse(item.slice(0, dash));
      const last = Ipv4.parse(item.slice(dash + 1));
      if (last < first) throw new AddressParseError('target range', item, `end ${Ipv4.format(last)} is before start ${Ipv4.format(first)}`);
      return { first, last };
    }
    const ip = Ipv4.parse(item);
    return { first: ip, last: ip };
  } catch (err) {
    // Name the whole item, not just the part that failed (the user typed the item), and the forms it may take.
    if (err instanceof AddressParseError && err.input !== item) {
      throw new AddressParseError('target', item, `${err.kind} ${JSON.stringify(err.input)}: ${err.reason ?? 'invalid'}; ${FORMS}`);
    }
    if (err instanceof AddressParseError && err.kind === 'IPv4 address') throw new AddressParseError('target', item, `${err.reason ?? 'invalid'}; ${FORMS}`);
    throw err;
  }
}

const FORMS = 'expected a.b.c.d, a.b.c.d/N, a.b.c.d:netmask or start-end';

/** `ranges` less every address from `r.first` to `r.last`: a range holding part of it is cut around it. */
function cut(ranges: readonly TargetRange[], r: TargetRange): TargetRange[] {
  return ranges.flatMap((x): TargetRange[] => {
    if (x.last < r.first || x.first > r.last) return [x];
    const parts: TargetRange[] = [];
    if (x.first < r.first) parts.push({ first: x.first, last: (r.first - 1) as Ipv4 });
    if (x.last > r.last) parts.push({ first: (r.last + 1) as Ipv4, last: x.last });
    return parts;
  });
}

function formatRange(r: TargetRange): string {
  return r.first === r.last ? Ipv4.format(r.first) : `${Ipv4.format(r.first)}-${Ipv4.format(r.last)}`;
}

// mulberry32 (Tommy Ettinger, public domain): a tiny 32-bit PRNG with a full 2^32 period, plenty for shuffling.
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

// A uniform integer in [0, n) by rejection: drop the top 2^32 mod n values so every remainder is equally likely.
function below(n: number, next: () => number): number {
  const limit = 2 ** 32 - (2 ** 32 % n);
  let r = next();
  while (r >= limit) r = next();
  return r % n;
}
