// A capture's options checked and defaulted, apart from the class that opens it.
import { readFileSync } from 'node:fs';
import { CaptureError } from './error.js';
import type { CaptureOptions, CaptureWait } from './types.js';

const DEFAULT_FILTER = 'arp';
const DEFAULT_BUFFER_BYTES = 32 << 20;
const MIN_BUFFER_BYTES = 64 << 10;
const MAX_BUFFER_BYTES = 1 << 30;
const MIN_SNAPLEN = 64;
/**
 * Enough for any ARP frame with room to spare: 14-byte header, 28-byte packet, padding to 60 (64 with an FCS), and
 * still whole behind an 8-byte LLC/SNAP header and up to 19 VLAN tags. libpcap sizes every ring slot by snaplen, so
 * this is what makes the kernel buffer deep: a stalled capture held 161 311 frames in 32 MiB at snaplen 128, 20 972
 * at 1526 and 513 at 65535 (measured, of 200 000 sent).
 */
const ARP_SNAPLEN = 128;
const MAX_SNAPLEN = 262144;
/** Ethernet header (14) + two VLAN tags (8) + FCS (4): a full frame at the interface's MTU (Q-in-Q is the common stack). */
const LINK_OVERHEAD = 26;

export interface Settings {
  readonly ifname: string;
  readonly filter: string;
  readonly bufferBytes: number;
  readonly snaplen: number;
  readonly promiscuous: boolean;
  readonly waitVia: CaptureWait;
}

/** What open() works with: every option checked, and defaulted as CaptureOptions says (not `outgoing`, `ring`). */
export function settings(o: CaptureOptions, defaultWait: CaptureWait): Settings {
  const ifname = checkIfname(o.ifname);
  const filter = o.filter ?? DEFAULT_FILTER;
  const bufferBytes = checkInt(ifname, 'bufferBytes', o.bufferBytes ?? DEFAULT_BUFFER_BYTES, MIN_BUFFER_BYTES, MAX_BUFFER_BYTES);
  const snaplen = checkInt(ifname, 'snaplen', o.snaplen ?? (filter === DEFAULT_FILTER ? ARP_SNAPLEN : defaultSnaplen(ifname)), MIN_SNAPLEN, MAX_SNAPLEN);
  const waitVia = o.waitVia ?? defaultWait;
  if (waitVia !== 'selectable-fd' && waitVia !== 'wait-loop') {
    throw new CaptureError('EINVAL', ifname, `waitVia must be 'selectable-fd' or 'wait-loop', got ${JSON.stringify(waitVia)}`);
  }
  return { ifname, filter, bufferBytes, snaplen, promiscuous: o.promiscuous ?? false, waitVia };
}

function checkIfname(ifname: unknown): string {
  if (process.platform === 'win32') {
    // An Npcap device name, \Device\NPF_{GUID} (what @ersatz/win32's discoverInterface returns): pcap_create checks it.
    if (typeof ifname !== 'string' || ifname.length === 0 || ifname.length > 255 || /[\0-\x1f]/.test(ifname)) {
      throw new CaptureError('ENODEV', String(ifname), 'not a valid Npcap device name');
    }
    return ifname;
  }
  // IFNAMSIZ is 16 with the NUL; '/' and whitespace can never be in a name (dev_valid_name).
  if (typeof ifname !== 'string' || ifname.length === 0 || ifname.length > 15 || /[/\s:]/.test(ifname) || ifname === '.' || ifname === '..') {
    throw new CaptureError('ENODEV', String(ifname), 'not a valid interface name');
  }
  return ifname;
}

function checkInt(ifname: string, what: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new CaptureError('EINVAL', ifname, `${what} must be an integer from ${min} to ${max}, got ${String(v)}`);
  }
  return v;
}

function defaultSnaplen(ifname: string): number {
  try {
    const mtu = Number(readFileSync(`/sys/class/net/${ifname}/mtu`, 'utf8').trim());
    if (Number.isInteger(mtu) && mtu > 0) return Math.min(MAX_SNAPLEN, Math.max(MIN_SNAPLEN, mtu + LINK_OVERHEAD));
  } catch {
    // No sysfs entry (not Linux, or no such interface: pcap_activate will name the real problem).
  }
  return 1500 + LINK_OVERHEAD;
}
