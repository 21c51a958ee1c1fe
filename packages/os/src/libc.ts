// The C library calls ersatz makes through koffi, each declared once. dlopen(NULL) gives the C library node itself
// links against (glibc or musl) without guessing a file name. Bound on first use, once per thread (koffi loads in
// any number of threads); POSIX only: callers check their platform first and say why not.
import koffi from 'koffi';
import { endianness } from 'node:os';

/** Pointers, size_t and ints are written for the C library in host byte order. */
export const LE = endianness() === 'LE';

/** socket()'s type and flags, and the send/receive flag ersatz uses (Linux values). */
export const SOCK_RAW = 3;
export const SOCK_CLOEXEC = 0o2000000;
export const MSG_DONTWAIT = 0x40;

export interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: Uint8Array, len: number): number;
  close(fd: number): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array, len: number): number;
  getsockopt(fd: number, level: number, name: number, value: Uint8Array, len: Uint32Array): number;
  sendto(fd: number, buf: Uint8Array, len: number, flags: number, addr: Uint8Array, addrLen: number): number;
  /** koffi hands the Uint8Array's own memory to recv, so the datagram lands in it without a copy. */
  recv(fd: number, buf: Uint8Array, len: number, flags: number): number;
  /** `msgs`: the address of a native mmsghdr array. */
  sendmmsg(fd: number, msgs: bigint, n: number, flags: number): number;
  /** `msgs`: the address of a native mmsghdr array; `timeout` null (with MSG_DONTWAIT it never waits). */
  recvmmsg(fd: number, msgs: bigint, n: number, flags: number, timeout: null): number;
  /** Variadic in libc: declared so, the call is right on every ABI koffi supports. Pass the argument's koffi type. */
  ioctl(fd: number, request: number, argType: string, arg: Uint8Array): number;
  /** `fds`: an array of `struct pollfd { int fd; short events; short revents; }`, revents written back. */
  poll(fds: Uint8Array, nfds: number, timeoutMs: number): number;
  if_nametoindex(name: string): number;
  /** Variadic in libc: pass each argument's koffi type before it, as for ioctl. */
  prctl(option: number, ...args: unknown[]): number;
  /** `header`: struct __user_cap_header_struct (version, pid); `data`: two struct __user_cap_data_struct. */
  capset(header: Uint8Array, data: Uint8Array): number;
  /** `pid` 0: the calling thread. `mask`: a cpu_set_t of `size` bytes, bit n for CPU n. */
  sched_getaffinity(pid: number, size: number, mask: Uint8Array): number;
  sched_setaffinity(pid: number, size: number, mask: Uint8Array): number;
  sched_getcpu(): number;
}

let bound: Libc | undefined;

/** The C library's functions above. Throws koffi's error where there is no C library to load (Windows). */
export function libc(): Libc {
  if (bound) return bound;
  const self = koffi.load(null);
  bound = {
    socket: self.func('int socket(int domain, int type, int protocol)'),
    bind: self.func('int bind(int fd, const void *addr, uint32_t len)'),
    close: self.func('int close(int fd)'),
    setsockopt: self.func('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)'),
    getsockopt: self.func('int getsockopt(int fd, int level, int name, void *value, uint32_t *len)'),
    sendto: self.func('intptr_t sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t addrlen)'),
    recv: self.func('intptr_t recv(int fd, void *buf, size_t len, int flags)'),
    sendmmsg: self.func('int sendmmsg(int fd, void *msgvec, unsigned int vlen, int flags)'),
    recvmmsg: self.func('int recvmmsg(int fd, void *msgvec, unsigned int vlen, int flags, void *timeout)'),
    ioctl: self.func('int ioctl(int fd, unsigned long request, ...)'),
    poll: self.func('int poll(_Inout_ uint8_t *fds, unsigned long nfds, int timeout)'),
    if_nametoindex: self.func('unsigned int if_nametoindex(const char *ifname)'),
    prctl: self.func('int prctl(int option, ...)'),
    capset: self.func('int capset(const void *header, const void *data)'),
    sched_getaffinity: self.func('int sched_getaffinity(int pid, size_t size, _Out_ uint8_t *mask)'),
    sched_setaffinity: self.func('int sched_setaffinity(int pid, size_t size, const uint8_t *mask)'),
    sched_getcpu: self.func('int sched_getcpu()'),
  };
  return bound;
}
