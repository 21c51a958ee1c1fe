import { Ipv4 } from '@ersatz/wire';
import { errnoName, errnoText } from '@ersatz/os';

export { errnoName } from '@ersatz/os';

/** The three ARP cache ioctls, by what they do. */
export type ArpOperation = 'set' | 'get' | 'delete';

/** Dotted quad, or the raw value when it is not a uint32 (the error may be about exactly that). */
export function ipText(ip: number): string {
  return Number.isInteger(ip) && ip >= 0 && ip <= 0xffffffff ? Ipv4.format(ip as Ipv4) : String(ip);
}

/**
 * Base of every error this package throws: catch `IoctlError` to catch them all.
 * `errno` is the kernel's answer (EINVAL for arguments refused before the call); the message is
 * `arp set 198.51.100.9 dev ez0: <what happened> (<ERRNO>): <what to do>`.
 */
export class IoctlError extends Error {
  override name = 'IoctlError';
  /** Its message is written for the user (what went wrong, what to do): the CLI prints it as one line, exit 2. */
  get userFacing(): true {
    return true;
  }
  /** The errno symbol, e.g. `EPERM`. */
  readonly code: string;
  constructor(
    readonly operation: ArpOperation,
    readonly ip: Ipv4,
    readonly ifname: string,
    readonly errno: number,
    readonly hint?: string,
  ) {
    super(`arp ${operation} ${ipText(ip)} dev ${ifname}: ${errnoText(errno)}${hint ? `: ${hint}` : ''}`);
    this.code = errnoName(errno);
  }
}

/** EPERM/EACCES: SIOCSARP and SIOCDARP need CAP_NET_ADMIN in the network namespace's user namespace. */
export class ArpPermissionError extends IoctlError {
  override name = 'ArpPermissionError';
  constructor(operation: ArpOperation, ip: Ipv4, ifname: string, errno: number) {
    super(operation, ip, ifname, errno, `changing the ARP cache needs CAP_NET_ADMIN: run as root or grant it (sudo setcap cap_net_admin+ep ${process.execPath})`);
  }
}

/** ENXIO from SIOCDARP (SIOCGARP's ENXIO becomes `null`): the cache holds no entry for that address on that interface. */
export class ArpNoEntryError extends IoctlError {
  override name = 'ArpNoEntryError';
  constructor(operation: ArpOperation, ip: Ipv4, ifname: string, errno: number) {
    super(operation, ip, ifname, errno, `no ARP entry for that address on ${ifname}: list the cache with 'ip neigh show dev ${ifname}'`);
  }
}

/** ENODEV: no interface of that name in the caller's network namespace. */
export class ArpNoDeviceError extends IoctlError {
  override name = 'ArpNoDeviceError';
  constructor(operation: ArpOperation, ip: Ipv4, ifname: string, errno: number) {
    super(operation, ip, ifname, errno, `no interface named ${JSON.stringify(ifname)} in this network namespace: list them with 'ip link'`);
  }
}

/** EINVAL: an argument the kernel (or the check before the call) refuses; `reason` says which and why. */
export class ArpInvalidError extends IoctlError {
  override name = 'ArpInvalidError';
  constructor(
    operation: ArpOperation,
    ip: Ipv4,
    ifname: string,
    errno: number,
    readonly reason: string,
  ) {
    super(operation, ip, ifname, errno, reason);
  }
}
