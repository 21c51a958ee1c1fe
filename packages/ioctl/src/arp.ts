import koffi from 'koffi';
import { SOCK_CLOEXEC, libc } from '@ersatz/os';
import { constants } from 'node:os';
import { Ipv4, Mac } from '@ersatz/wire';
import { AF_INET, ARPHRD_ETHER, Atf, IFNAMSIZ, emitArpreq, parseArpreq } from './arpreq.js';
import { ArpInvalidError, ArpNoDeviceError, ArpNoEntryError, ArpPermissionError, IoctlError, ipText, type ArpOperation } from './error.js';

/** <linux/sockios.h> */
export const SIOCDARP = 0x8953;
export const SIOCGARP = 0x8954;
export const SIOCSARP = 0x8955;

/** One kernel ARP cache entry as SIOCGARP reports it. */
export interface ArpEntry {
  readonly ip: Ipv4;
  /** The cached hardware address (all zeros while the entry is incomplete). */
  readonly mac: Mac;
  /** `arp_flags`: ATF_COM | ATF_PERM for PERMANENT, ATF_COM for any other valid state, 0 otherwise. */
  readonly flags: number;
  /** ATF_COM: the MAC is valid (states REACHABLE, STALE, DELAY, PROBE, PERMANENT). */
  readonly complete: boolean;
  /** ATF_PERM: a static entry that never expires. */
  readonly permanent: boolean;
}

const SOCK_DGRAM = 2;
const { EPERM, EACCES, ENXIO, ENODEV, EINVAL } = constants.errno;
const utf8 = new TextEncoder();
const MAC_TEXT = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/**
 * Adds or replaces the kernel's ARP entry `ip → mac` on `ifname` (SIOCSARP, like `arp -s`).
 * `permanent` (default true) gives a PERMANENT entry; false gives a STALE one the kernel re-verifies before use.
 * Throws ArpPermissionError (no CAP_NET_ADMIN), ArpNoDeviceError (unknown interface), ArpInvalidError
 * (an argument refused: not a unicast IPv4 address, a name over 15 bytes, a non-Ethernet interface), IoctlError otherwise.
 */
export function arpSet({ ip, mac, ifname, permanent = true }: { ip: Ipv4; mac: Mac; ifname: string; permanent?: boolean }): void {
  check('set', ip, ifname);
  if (typeof mac !== 'string' || !MAC_TEXT.test(mac)) invalid('set', ip, ifname, `${JSON.stringify(mac)} is not a MAC address: parse it with Mac.parse`);
  if (Mac.isZero(mac)) invalid('set', ip, ifname, '00:00:00:00:00:00 is not a station address: give the MAC the entry should map to');
  const req = emitArpreq({ ip, hwFamily: ARPHRD_ETHER, mac, flags: Atf.COM | (permanent ? Atf.PERM : 0), netmask: 0 as Ipv4, ifname });
  ioctl('set', SIOCSARP, req, ip, ifname);
}

/**
 * Reads the kernel's ARP entry for `ip` on `ifname` (SIOCGARP, no privilege needed).
 * Returns the entry, or null when there is none (ENXIO; also for NOARP entries such as broadcast and multicast).
 * Throws ArpNoDeviceError, ArpInvalidError, IoctlError.
 */
export function arpGet(ip: Ipv4, ifname: string): ArpEntry | null {
  check('get', ip, ifname);
  const req = emitArpreq({ ip, hwFamily: 0, mac: Mac.ZERO, flags: 0, netmask: 0 as Ipv4, ifname });
  try {
    ioctl('get', SIOCGARP, req, ip, ifname);
  } catch (err) {
    if (err instanceof ArpNoEntryError) return null;
    throw err;
  }
  const r = parseArpreq(req);
  return { ip: r.ip, mac: r.mac, flags: r.flags, complete: (r.flags & Atf.COM) !== 0, permanent: (r.flags & Atf.PERM) !== 0 };
}

/**
 * Deletes the kernel's ARP entry for `ip` on `ifname` (SIOCDARP, like `arp -d`).
 * Throws ArpNoEntryError when there is none, ArpPermissionError, ArpNoDeviceError, ArpInvalidError, IoctlError.
 */
export function arpDelete(ip: Ipv4, ifname: string): void {
  check('delete', ip, ifname);
  const req = emitArpreq({ ip, hwFamily: ARPHRD_ETHER, mac: Mac.ZERO, flags: 0, netmask: 0 as Ipv4, ifname });
  ioctl('delete', SIOCDARP, req, ip, ifname);
}

/** Refuses what the kernel would silently take or misread. */
function check(op: ArpOperation, ip: Ipv4, ifname: string): void {
  if (!Number.isInteger(ip) || ip < 0 || ip > 0xffffffff) invalid(op, ip, ifname, `${String(ip)} is not an IPv4 address: parse it with Ipv4.parse`);
  // The kernel would store these, but ARP never resolves them: RFC 1112 maps multicast directly, broadcast is
  // ff:ff:ff:ff:ff:ff, 0.0.0.0 names no host (RFC 5227 uses it only as a probe's sender) and 127/8 never leaves the host.
  const kind = Ipv4.isUnspecified(ip) ? 'the unspecified address' : Ipv4.isBroadcast(ip) ? 'the broadcast address' : Ipv4.isMulticast(ip) ? 'a multicast address' : Ipv4.isLoopback(ip) ? 'a loopback address' : undefined;
  if (kind) invalid(op, ip, ifname, `${ipText(ip)} is ${kind}, not a unicast host address ARP resolves: give the neighbour's IPv4 address`);
  if (typeof ifname !== 'string' || ifname === '' || ifname.includes('\0')) invalid(op, ip, ifname, `interface name ${JSON.stringify(ifname)} is empty or holds a NUL: name the interface (ip link)`);
  const n = utf8.encode(ifname).length;
  // arp_dev is IFNAMSIZ bytes with a NUL: a longer name would be cut and could match another interface.
  if (n >= IFNAMSIZ) invalid(op, ip, ifname, `interface name is ${n} bytes, Linux allows at most ${IFNAMSIZ - 1}: name the interface as 'ip link' shows it`);
}

function invalid(op: ArpOperation, ip: Ipv4, ifname: string, reason: string): never {
  throw new ArpInvalidError(op, ip, ifname, EINVAL, reason);
}

/** One ioctl on a fresh AF_INET datagram socket (the kernel routes SIOC*ARP from any inet socket to arp_ioctl). */
function ioctl(op: ArpOperation, request: number, req: Uint8Array, ip: Ipv4, ifname: string): void {
  const c = libc();
  const fd = c.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); // children (ip, tcpdump) must not inherit it
  if (fd < 0) throw new IoctlError(op, ip, ifname, koffi.errno(), 'cannot open an AF_INET socket for the ioctl');
  try {
    // koffi passes the Uint8Array's own memory, so SIOCGARP's answer lands in req.
    if (c.ioctl(fd, request, 'uint8_t *', req) < 0) throw errorFor(op, ip, ifname, koffi.errno());
  } finally {
    c.close(fd);
  }
}

/** Maps an errno from SIOC*ARP to the error the caller can act on. */
export function errorFor(op: ArpOperation, ip: Ipv4, ifname: string, errno: number): IoctlError {
  switch (errno) {
    case EPERM:
    case EACCES:
      return new ArpPermissionError(op, ip, ifname, errno);
    case ENXIO:
      return new ArpNoEntryError(op, ip, ifname, errno);
    case ENODEV:
      return new ArpNoDeviceError(op, ip, ifname, errno);
    case EINVAL:
      // arp_req_dev_by_name (net/ipv4/arp.c): a complete entry's hardware type must equal the device's, so
      // loopback, tun, wireguard and other non-Ethernet links refuse an Ethernet MAC.
      return new ArpInvalidError(op, ip, ifname, errno, op === 'set' ? `${ifname} is not an Ethernet (ARPHRD_ETHER) interface, so it takes no ARP entries: pick an Ethernet interface (ip -d link show ${ifname})` : 'the kernel refused the request');
    default:
      return new IoctlError(op, ip, ifname, errno);
  }
}
