// Integer socket options, set and read one way for every socket ersatz opens itself (Linux, through the C library):
// netlink, the capture's packet socket, the transmit's. Failures return false or undefined with the errno left in
// koffi.errno(), for each caller to word as its own error.
import { LE, libc } from './libc.js';

export const SOL_SOCKET = 1;
const SO_SNDBUF = 7;
const SO_RCVBUF = 8;
const SO_SNDBUFFORCE = 32;
const SO_RCVBUFFORCE = 33;

/** `v` as the 4-byte int setsockopt takes. */
export function intOption(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, LE);
  return b;
}

/** setsockopt(fd, level, name, &v, 4); false when refused. */
export function setIntOption(fd: number, level: number, name: number, v: number): boolean {
  return libc().setsockopt(fd, level, name, intOption(v), 4) === 0;
}

/** getsockopt of a 4-byte int; undefined when refused. */
export function getIntOption(fd: number, level: number, name: number): number | undefined {
  const b = new Uint8Array(4);
  if (libc().getsockopt(fd, level, name, b, new Uint32Array([4])) < 0) return undefined;
  return new DataView(b.buffer).getInt32(0, LE);
}

/**
 * Asks for a `bytes` receive or send buffer: the FORCE options pass net.core.rmem_max/wmem_max but need
 * CAP_NET_ADMIN; without it, the capped SO_RCVBUF/SO_SNDBUF. False when even that was refused.
 */
export function setSocketBuffer(fd: number, which: 'receive' | 'send', bytes: number): boolean {
  const [forced, plain] = which === 'receive' ? [SO_RCVBUFFORCE, SO_RCVBUF] : [SO_SNDBUFFORCE, SO_SNDBUF];
  return setIntOption(fd, SOL_SOCKET, forced, bytes) || setIntOption(fd, SOL_SOCKET, plain, bytes);
}

/** The receive buffer the kernel granted (SO_RCVBUF reads back twice what was asked: its bookkeeping); undefined when refused. */
export function receiveBufferBytes(fd: number): number | undefined {
  return getIntOption(fd, SOL_SOCKET, SO_RCVBUF);
}
