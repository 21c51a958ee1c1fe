// The one home for what netlink, ioctl and the capture and transmit workers say about the operating system: errno
// names and descriptions, how to grant what is missing, and the C library's functions (libc.ts). libpcap's
// functions are a subpath of their own (`@ersatz/os/libpcap`): only the workers that capture or send through it load them.
import { getSystemErrorMap } from 'node:util';

export { LE, MSG_DONTWAIT, SOCK_CLOEXEC, SOCK_RAW, libc, type Libc } from './libc.js';
export { SOL_SOCKET, getIntOption, intOption, receiveBufferBytes, setIntOption, setSocketBuffer } from './sockopt.js';
export { AF_PACKET, MMSG, SOCKADDR_LL_LEN, SOL_PACKET, ignoreOutgoing, sockaddrLl } from './packet.js';
export { currentCpu, pinThread, unpinThread } from './affinity.js';
export { CPU_LATENCY_DEVICE, holdCpuLatency } from './cpu-latency.js';

/** `EPERM` for errno 1, `errno 4242` when the platform has no name for it. */
export function errnoName(errno: number): string {
  // libuv keys the map by negative errno on POSIX.
  return getSystemErrorMap().get(-errno)?.[0] ?? `errno ${errno}`;
}

/** `operation not permitted (EPERM)` for errno 1, `errno 4242` when the platform has no name for it. */
export function errnoText(errno: number): string {
  const entry = getSystemErrorMap().get(-errno);
  return entry ? `${entry[1]} (${entry[0]})` : `errno ${errno}`;
}

/** The fix for a missing CAP_NET_RAW, spelled the same everywhere. */
export const CAP_NET_RAW_HINT = 'run as root or grant CAP_NET_RAW (setcap cap_net_raw,cap_net_admin+ep $(command -v node))';

/** The fix for a missing CAP_NET_ADMIN, spelled the same everywhere. */
export const CAP_NET_ADMIN_HINT = 'needs CAP_NET_ADMIN: run as root or `setcap cap_net_raw,cap_net_admin+ep $(command -v node)`';

/** What to do when libpcap refuses to open a device for lack of rights, on `platform`. */
export function permissionHint(platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32'
    ? "run from an elevated prompt (Run as administrator): Npcap was installed with \"Restrict Npcap driver's access to Administrators only\""
    : CAP_NET_RAW_HINT;
}

/** What to do when no libpcap library loads, on `platform`. */
export function libraryHint(platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32'
    ? "install Npcap (npcap.com) with \"Install Npcap in WinPcap API-compatible Mode\" ticked, which puts wpcap.dll in System32"
    : 'install it (apt-get install libpcap0.8, dnf install libpcap)';
}
