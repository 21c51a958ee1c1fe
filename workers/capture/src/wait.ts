// The wait-loop capture's one platform-specific piece: block this thread until libpcap has frames or `ms` passed.
// Linux: poll(2) on pcap_get_selectable_fd. Windows: WaitForSingleObject on pcap_getevent's HANDLE, since wpcap.dll
// has no selectable descriptor. Not libpcap's own blocking read: on Linux (1.10.3, measured) a blocking
// pcap_dispatch ignores the read timeout and waits until a frame passes the filter, so it cannot bound the wait.
import { endianness } from 'node:os';
import koffi from 'koffi';
import { libc } from '@ersatz/os';
import type { Libpcap, Pointer } from '@ersatz/os/libpcap';

export type WaitResult = 'ready' | 'timeout' | 'error';
/** Waits up to `ms` for frames on the handle the waiter was made for. */
export type FrameWaiter = (ms: number) => WaitResult;

const POLLIN = 0x1;
const POLLERR = 0x8;
const POLLHUP = 0x10;
const POLLNVAL = 0x20;
const WAIT_OBJECT_0 = 0;
const WAIT_TIMEOUT = 0x102;

let waitForSingleObject: ((h: Pointer, ms: number) => number) | undefined;

/** A waiter for `p`. Throws Error when the platform offers neither primitive (the caller reports it). */
export function frameWaiter(lib: Libpcap, p: Pointer): FrameWaiter {
  if (process.platform === 'win32') {
    if (!lib.getevent) throw new Error(`${lib.loaded} has no pcap_getevent`);
    const event = lib.getevent(p);
    waitForSingleObject ??= koffi.load('kernel32.dll').func('uint32_t __stdcall WaitForSingleObject(void *handle, uint32_t ms)');
    const wait = waitForSingleObject;
    return (ms) => {
      const r = wait(event, ms);
      return r === WAIT_OBJECT_0 ? 'ready' : r === WAIT_TIMEOUT ? 'timeout' : 'error';
    };
  }
  if (!lib.selectableFd) throw new Error(`${lib.loaded} has no pcap_get_selectable_fd`);
  const fd = lib.selectableFd(p);
  const call = libc().poll;
  // struct pollfd { int fd; short events; short revents; }, host byte order.
  const pfd = new Uint8Array(8);
  const dv = new DataView(pfd.buffer);
  const le = endianness() === 'LE';
  dv.setInt32(0, fd, le);
  dv.setInt16(4, POLLIN, le);
  return (ms) => {
    dv.setInt16(6, 0, le);
    const r = call(pfd, 1, ms);
    // r < 0 is EINTR (a signal; poll has no other failure for one valid pollfd): the loop comes back at once.
    if (r <= 0) return 'timeout';
    return (dv.getInt16(6, le) & (POLLERR | POLLHUP | POLLNVAL)) !== 0 ? 'error' : 'ready';
  };
}
