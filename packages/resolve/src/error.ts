import { Ipv4, type Ipv6, type Mac } from '@ersatz/wire';

/** Base of every error this package throws: catch `ResolveError` to catch them all. Facts live in fields. */
export class ResolveError extends Error {
  override name = 'ResolveError';
  readonly code: string = 'ERSATZ_RESOLVE';
  /** Its message is written for the user (what went wrong, what to do): the CLI prints it as one line, exit 2. */
  get userFacing(): true {
    return true;
  }
}

/**
 * No acceptable reply came: `no ARP reply from 192.0.2.7 after 3 tries (3000 ms): ...`. When frames from the IP came
 * but were not believed, the message says how many and why (`ignored`: how many of each kind, described by the
 * first of them, see describeRejection) instead of suggesting the host is down.
 */
export class ResolveTimeoutError extends ResolveError {
  override name = 'ResolveTimeoutError';
  override readonly code = 'ERSATZ_TIMEOUT';
  /** The network gave no usable answer (not a usage problem): the CLI exits 1. */
  get noReply(): true {
    return true;
  }
  constructor(
    readonly ip: Ipv4,
    readonly tries: number,
    readonly elapsedMs: number,
    readonly ignored: readonly { readonly count: number; readonly why: string }[] = [],
  ) {
    const total = ignored.reduce((n, i) => n + i.count, 0);
    super(
      `no ARP reply from ${Ipv4.format(ip)} ${afterTries(tries, elapsedMs)}: ` +
        (total === 0
          ? 'check that the host is up and on the same link, or raise --tries/--timeout'
          : `${total} ${total === 1 ? 'reply' : 'replies'} ignored: ${ignored.map((i) => i.why).join('; ')}`),
    );
  }
}

/** IPv6's: no valid Neighbor Advertisement for `ip` came (`no neighbor advertisement for 2001:db8::7 after 3 tries`). */
export class NeighborTimeoutError extends ResolveError {
  override name = 'NeighborTimeoutError';
  override readonly code = 'ERSATZ_TIMEOUT';
  get noReply(): true {
    return true;
  }
  constructor(
    readonly ip: Ipv6,
    readonly tries: number,
    readonly elapsedMs: number,
  ) {
    super(`no neighbor advertisement for ${ip} ${afterTries(tries, elapsedMs)}: check that the host is up and on the same link, or raise --tries/--timeout`);
  }
}

/** `after 3 tries (3000 ms)`: how long a query asked before it gave up, as both timeouts say it. */
function afterTries(tries: number, elapsedMs: number): string {
  return `after ${tries} ${tries === 1 ? 'try' : 'tries'} (${elapsedMs} ms)`;
}

/**
 * What several MACs answering for one IP can mean, benign cause included: a multi-homed Linux host answers from every
 * NIC on the segment by default (arp_ignore=0, "ARP flux"), which arpwatch also flags.
 */
export const CONFLICT_CAUSES = 'two hosts claim it, one is spoofing, or one host answers from two NICs (ARP flux, Linux arp_ignore=0)';

/**
 * Several MACs answered one query within its settle window (`settleMs`): `address conflict: 192.0.2.7 answered from
 * 02:00:00:00:00:01 and 02:00:00:00:00:02 ...`. Two hosts claim the address, or one of them is spoofing; ARP gives
 * no ground to prefer either, so `resolve$` does not pick one. `macs` lists every claimant in arrival order.
 */
export class AddressConflictError extends ResolveError {
  override name = 'AddressConflictError';
  override readonly code = 'ERSATZ_CONFLICT';
  /** The network gave no usable answer (not a usage problem): the CLI exits 1. */
  get noReply(): true {
    return true;
  }
  constructor(
    readonly ip: Ipv4,
    readonly macs: readonly Mac[],
  ) {
    super(
      `address conflict: ${Ipv4.format(ip)} answered from ${macs.join(' and ')} (${CONFLICT_CAUSES}): ` +
        'find the host that should not have it; query$ reports every claimant in conflicts',
    );
  }
}

/**
 * A sender protocol address that is not assigned to the interface: `arping: 192.0.2.1 is not an address of eth1
 * (it has 192.0.2.7)...`. Sending it would teach every neighbour that the address lives at our MAC, so their
 * traffic for it (a gateway's: the whole LAN's) comes to us. bind(2) refuses the same for iputils arping.
 */
export class ForeignSenderError extends ResolveError {
  override name = 'ForeignSenderError';
  override readonly code = 'ERSATZ_FOREIGN_SENDER';
  constructor(
    readonly operation: string,
    readonly ifname: string,
    readonly sender: Ipv4,
    readonly addresses: readonly Ipv4[],
  ) {
    const has = addresses.length === 0 ? 'it has no IPv4 address' : `it has ${addresses.map(Ipv4.format).join(', ')}`;
    super(
      `${operation}: ${Ipv4.format(sender)} is not an address of ${ifname} (${has}): refusing to send it as our sender ` +
        'address, which would teach neighbours that it lives at our MAC; announce only addresses of the interface ' +
        '(--spoof-sender overrides this, in a lab of your own only)',
    );
  }
}

/** An option outside its domain: `scan: invalid tries 0: expected an integer >= 1`. */
export class OptionError extends ResolveError {
  override name = 'OptionError';
  override readonly code = 'ERSATZ_INVALID_OPTION';
  constructor(
    readonly operation: string,
    readonly option: string,
    readonly value: unknown,
    readonly expected: string,
  ) {
    super(`${operation}: invalid ${option} ${String(value)}: expected ${expected}`);
  }
}

/** Checks `value` is an integer in [min, max] (undefined passes through to the default). Throws OptionError. */
export function checkInt(operation: string, option: string, value: number | undefined, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new OptionError(operation, option, value, max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in ${min}..${max}`);
  }
}

/** The longest delay a timer can take: setTimeout fires at once (after 1 ms) for anything longer. */
export const MAX_DELAY_MS = 2 ** 31 - 1;

/** Checks `value` is a finite number >= min (or > min when `exclusive`) and <= max. Throws OptionError. */
export function checkNumber(operation: string, option: string, value: number | undefined, min: number, exclusive = false, max = Infinity): void {
  if (value === undefined) return;
  if (!Number.isFinite(value) || value < min || (exclusive && value === min) || value > max) {
    throw new OptionError(operation, option, value, `a finite number ${exclusive ? '>' : '>='} ${min}${max === Infinity ? '' : ` and <= ${max}`}`);
  }
}

/** A time option in ms: what checkNumber checks, and no longer than a timer can wait (MAX_DELAY_MS). */
export function checkDelay(operation: string, option: string, value: number | undefined, exclusive = false): void {
  checkNumber(operation, option, value, 0, exclusive, MAX_DELAY_MS);
}
