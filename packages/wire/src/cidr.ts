import { Ipv4 } from './address.js';
import { AddressParseError } from './error.js';

const PREFIX = /^(0|[1-9]\d?)$/;

/**
 * An IPv4 network in CIDR form, e.g. `198.51.100.0/24`. `address` keeps the text's address (an interface
 * address such as 198.51.100.7/24 keeps its host bits there); `network` has them masked off.
 */
export class Cidr {
  /** The address as given, host bits included. */
  readonly address: Ipv4;
  /** 0..32 */
  readonly prefix: number;
  /** The address with the host bits cleared. */
  readonly network: Ipv4;
  /** The prefix as a mask: /24 is 255.255.255.0. */
  readonly netmask: Ipv4;
  /** The address with every host bit set (for /31 and /32, simply the last address). */
  readonly broadcast: Ipv4;

  private constructor(address: Ipv4, prefix: number) {
    this.address = address;
    this.prefix = prefix;
    this.netmask = prefixToNetmask(prefix);
    this.network = ((address & this.netmask) >>> 0) as Ipv4;
    this.broadcast = ((this.network | ~this.netmask) >>> 0) as Ipv4;
  }

  /** The network `address/prefix`. Throws AddressParseError for a prefix outside 0..32. */
  static of(address: Ipv4, prefix: number): Cidr {
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw new AddressParseError('CIDR prefix', String(prefix), 'expected 0..32');
    return new Cidr(address, prefix);
  }

  /**
   * Parses `a.b.c.d/N`. Host bits may be set (10.1.2.3/16 is the network 10.1.0.0/16, as arp-scan reads it).
   * Returns the Cidr; throws AddressParseError for a bad address or a prefix outside 0..32.
   */
  static parse(text: string): Cidr {
    const slash = text.indexOf('/');
    if (slash < 0) throw new AddressParseError('CIDR', text, 'expected a.b.c.d/N like 198.51.100.0/24');
    const address = Ipv4.parse(text.slice(0, slash));
    const prefixText = text.slice(slash + 1);
    if (!PREFIX.test(prefixText)) throw new AddressParseError('CIDR', text, `prefix ${JSON.stringify(prefixText)} is not a number 0..32`);
    const prefix = Number(prefixText);
    if (prefix > 32) throw new AddressParseError('CIDR', text, `prefix ${prefix} is over 32`);
    return new Cidr(address, prefix);
  }

  /** The number of usable hosts: 2^(32−prefix) − 2 up to /30 (network and broadcast excluded), 2 for /31 (RFC 3021), 1 for /32. */
  get hostCount(): number {
    const size = 2 ** (32 - this.prefix);
    return this.prefix <= 30 ? size - 2 : size;
  }

  /** The first usable host (see hostCount). */
  get firstHost(): Ipv4 {
    return (this.prefix <= 30 ? this.network + 1 : this.network) as Ipv4;
  }

  /** The last usable host (see hostCount). */
  get lastHost(): Ipv4 {
    return (this.prefix <= 30 ? this.broadcast - 1 : this.broadcast) as Ipv4;
  }

  /** True when `ip` lies in the network (network and broadcast addresses included). */
  contains(ip: Ipv4): boolean {
    return ((ip ^ this.network) & this.netmask) === 0;
  }

  /** The usable hosts in ascending order, lazily (see hostCount for which). */
  *hosts(): IterableIterator<Ipv4> {
    for (let ip = this.firstHost as number; ip <= this.lastHost; ip++) yield ip as Ipv4;
  }

  /** `198.51.100.7/24`: the address as given and the prefix. */
  toString(): string {
    return `${Ipv4.format(this.address)}/${this.prefix}`;
  }
}

/** The mask for a prefix length 0..32 (the caller checks the range). */
export function prefixToNetmask(prefix: number): Ipv4 {
  // `x << 32` is `x << 0` in JavaScript, so /0 needs its own case.
  return (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0) as Ipv4;
}

/** The prefix length of a contiguous netmask (255.255.240.0 → 20). Throws AddressParseError for a non-contiguous mask. */
export function netmaskToPrefix(mask: Ipv4): number {
  const inverted = ~mask >>> 0;
  // A contiguous mask inverted is 2^k − 1: adding one leaves a single bit (or zero, for /0).
  if ((inverted & (inverted + 1)) !== 0) throw new AddressParseError('netmask', Ipv4.format(mask), 'the one bits must be contiguous, like 255.255.255.0');
  return 32 - Math.log2(inverted + 1);
}
