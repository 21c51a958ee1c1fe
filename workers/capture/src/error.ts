import { readFileSync } from 'node:fs';
import { libraryHint, permissionHint } from '@ersatz/os';
import { activateErrorCode } from '@ersatz/os/libpcap';

/** Why a capture could not start or stopped: errno names where one fits, so callers can switch on them. */
export type CaptureErrorCode =
  /** Not allowed to open a packet socket (no root, no CAP_NET_RAW). */
  | 'EPERM'
  /** No interface by that name (in this network namespace). */
  | 'ENODEV'
  /** The interface is down, or went down while capturing. */
  | 'ENETDOWN'
  /** A bad option: the BPF filter does not compile, a size out of range. */
  | 'EINVAL'
  /** The interface is not Ethernet (loopback, tun, wifi in monitor mode): ARP needs Ethernet framing. */
  | 'EPROTONOSUPPORT'
  /** libpcap's shared library (wpcap.dll on Windows) is not installed. */
  | 'ELIBACC'
  /** Anything else libpcap reported; `detail` has its words. */
  | 'EIO';

export { CAP_NET_RAW_HINT, libraryHint, permissionHint } from '@ersatz/os';

/**
 * The capture worker's one error class. Facts live in fields (`code`, `ifname`, libpcap's own words in `detail`);
 * the message is built from them and says what to do. Crosses threads as `{ name, message, code, ifname, detail }`
 * (postMessage would flatten it into a plain Error) and is rebuilt with `CaptureError.fromWire`.
 */
export class CaptureError extends Error {
  override name = 'CaptureError';
  /** Its message is written for the user (what went wrong, what to do): the CLI prints it as one line, exit 2. */
  get userFacing(): true {
    return true;
  }
  constructor(
    readonly code: CaptureErrorCode,
    readonly ifname: string,
    readonly detail = '',
  ) {
    super(captureMessage(code, ifname, detail));
  }

  /** The plain object that crosses postMessage. */
  toWire(): CaptureErrorWire {
    return { name: 'CaptureError', message: this.message, code: this.code, ifname: this.ifname, detail: this.detail };
  }

  /**
   * Rebuilds a CaptureError from what crossed the thread boundary. Returns anything else unchanged (an Error from
   * a bug in the worker arrives as comlink's plain Error and stays one).
   */
  static fromWire(value: unknown): unknown {
    if (isWire(value)) return new CaptureError(value.code, value.ifname, value.detail);
    return value;
  }
}

export interface CaptureErrorWire {
  readonly name: 'CaptureError';
  readonly message: string;
  readonly code: CaptureErrorCode;
  readonly ifname: string;
  readonly detail: string;
}

function isWire(v: unknown): v is CaptureErrorWire {
  return typeof v === 'object' && v !== null && (v as { name?: unknown }).name === 'CaptureError' && typeof (v as { code?: unknown }).code === 'string';
}

function captureMessage(code: CaptureErrorCode, ifname: string, detail: string): string {
  const why = detail ? ` (${detail})` : '';
  switch (code) {
    case 'EPERM':
      return `no permission to capture on ${ifname}: ${permissionHint()}`;
    case 'ENODEV':
      return process.platform === 'win32'
        ? `no Npcap device named ${JSON.stringify(ifname)}${why}: use the \\Device\\NPF_{GUID} name discoverInterface() returns`
        : `no interface named ${JSON.stringify(ifname)}${why}: list them with 'ip link' (names are case-sensitive)`;
    case 'ENETDOWN':
      return `${ifname} is down${why}: bring it up (ip link set ${ifname} up)`;
    case 'EINVAL':
      return `cannot capture on ${ifname}: ${detail}`;
    case 'EPROTONOSUPPORT':
      return `${ifname} is not an Ethernet interface${why}: ARP needs an Ethernet (or Ethernet-like) link`;
    case 'ELIBACC':
      return `libpcap is not installed${why}: ${libraryHint()}`;
    case 'EIO':
      return `capture on ${ifname} failed: ${detail || 'libpcap gave no reason'}`;
  }
}

/** pcap_activate's failure `status` as a CaptureError with libpcap's words. */
export function activateError(status: number, ifname: string, text: string): CaptureError {
  const code = activateErrorCode(status);
  return new CaptureError(code, ifname, code === 'EIO' ? text || `pcap_activate returned ${status}` : text);
}

/** libpcap says "The interface went down" / "The interface disappeared" (pcap-linux.c) when a capture dies. */
export function stopCode(text: string): CaptureErrorCode {
  if (/went down|ENETDOWN|Network is down/i.test(text)) return 'ENETDOWN';
  if (/disappeared|No such device|ENODEV|ENXIO/i.test(text)) return 'ENODEV';
  return 'EIO';
}

/** What sysfs says about the link after a poll error: gone, down, or (unexpectedly) up. */
export function linkState(ifname: string): string {
  let flags: number;
  try {
    flags = Number.parseInt(readFileSync(`/sys/class/net/${ifname}/flags`, 'utf8'), 16);
  } catch {
    return 'The interface disappeared';
  }
  // IFF_UP (0x1): the administrative state `ip link set down` clears.
  return (flags & 0x1) === 0 ? 'The interface went down' : 'poll reported an error on the capture socket';
}
