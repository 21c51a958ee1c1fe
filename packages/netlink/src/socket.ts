// An AF_NETLINK / NETLINK_ROUTE socket through koffi. Requests are blocking calls with a receive timeout: the
// kernel answers rtnetlink requests synchronously inside sendto, so a recv never waits in practice and the
// main thread is fine. Event sockets are non-blocking and read from a libuv poll (koffi.node.poll), so the
// event loop is never blocked.
import koffi from 'koffi';
import { MSG_DONTWAIT, SOCK_CLOEXEC, SOCK_RAW, SOL_SOCKET, libc, receiveBufferBytes, setIntOption, setSocketBuffer, type Libc } from '@ersatz/os';
import { constants } from 'node:os';
import {
  AF_NETLINK,
  MSG_TRUNC,
  NETLINK_ROUTE,
  NetlinkOpt,
  NlmF,
  Nlmsg,
  SOCK_NONBLOCK,
  SOL_NETLINK,
  SO_RCVTIMEO,
} from './constants.js';
import { NetlinkError, NetlinkMalformedError, NetlinkOverrunError, NetlinkPermissionError, NetlinkPlatformError, NetlinkSystemError, NetlinkTimeoutError } from './error.js';
import { Hdr, LE, NetlinkAck, NetlinkMessage, collectAcks, parseDatagram, type BatchAnswer, type NetlinkMessageRepr } from './message.js';
import type { Codec } from './rtnl.js';

const { EINTR, EAGAIN, EPERM, EACCES, ENOBUFS } = constants.errno;

function bindLibc(): Libc {
  if (process.platform !== 'linux') throw new NetlinkPlatformError(process.platform);
  return libc();
}

/** `struct sockaddr_nl` (12 bytes): family, pad, port id (0 = the kernel, or let it pick), groups bitmask. */
function sockaddrNl(pid = 0, groups = 0): Uint8Array {
  const b = new Uint8Array(12);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, AF_NETLINK, LE);
  dv.setUint32(4, pid, LE);
  dv.setUint32(8, groups, LE);
  return b;
}
const KERNEL = sockaddrNl();

/** Maps a kernel refusal to the error the caller can act on. */
export function systemError(operation: string, errno: number, extack?: string): NetlinkSystemError {
  return errno === EPERM || errno === EACCES ? new NetlinkPermissionError(operation, errno, extack) : new NetlinkSystemError(operation, errno, extack);
}

export interface NetlinkSocketOptions {
  /** RTNLGRP_* multicast groups to join (events arrive on this socket). Default none. */
  readonly groups?: readonly number[];
  /** Non-blocking (for a poll-driven event socket). Default false. */
  readonly nonBlocking?: boolean;
  /** Receive timeout for blocking requests. Default 5000 ms. */
  readonly timeoutMs?: number;
  /** Receive buffer in bytes (the kernel doubles it for bookkeeping). Default: the system's. */
  readonly receiveBufferBytes?: number;
  /** Send buffer in bytes: one sendto may carry at most this minus 32 bytes. Default: the system's. */
  readonly sendBufferBytes?: number;
}

/**
 * An rtnetlink socket. Open with `NetlinkSocket.open()`, close with `close()` (or `using`).
 * Every method throws NetlinkSystemError (NetlinkPermissionError for EPERM/EACCES) when a system call or the
 * kernel refuses, NetlinkTimeoutError when the kernel stays silent, NetlinkPlatformError off Linux.
 */
export class NetlinkSocket implements Disposable {
  #fd: number;
  #seq: number;
  readonly #timeoutMs: number;
  readonly #nonBlocking: boolean;
  // 64 KiB: rtnetlink dump datagrams stay under 32 KiB (the kernel sizes them from the largest recv buffer, up to 32 KiB).
  #rx = new Uint8Array(65536);

  private constructor(
    fd: number,
    timeoutMs: number,
    nonBlocking: boolean,
    readonly groups: readonly number[],
  ) {
    this.#fd = fd;
    this.#timeoutMs = timeoutMs;
    this.#nonBlocking = nonBlocking;
    // Start from the clock so two sockets in one process rarely share sequence numbers (nothing depends on it).
    this.#seq = Math.floor(Date.now() / 1000) >>> 0;
  }

  /** Opens and binds a NETLINK_ROUTE socket. */
  static open(opts: NetlinkSocketOptions = {}): NetlinkSocket {
    const c = bindLibc();
    const fd = c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | (opts.nonBlocking ? SOCK_NONBLOCK : 0), NETLINK_ROUTE);
    if (fd < 0) throw systemError('open netlink socket', koffi.errno());
    const timeoutMs = opts.timeoutMs ?? 5000;
    const sock = new NetlinkSocket(fd, timeoutMs, opts.nonBlocking ?? false, opts.groups ?? []);
    try {
      // Extended ACKs carry the kernel's explanation; capped ACKs do not echo each request back (batches).
      // Both are best effort: kernels before 4.12 lack them and still work.
      sock.#setOption(SOL_NETLINK, NetlinkOpt.EXT_ACK, 1, true);
      sock.#setOption(SOL_NETLINK, NetlinkOpt.CAP_ACK, 1, true);
      // Best effort: a smaller buffer still works, and the receive side says what it got (receiveBufferBytes).
      if (opts.receiveBufferBytes !== undefined) setSocketBuffer(fd, 'receive', opts.receiveBufferBytes);
      if (opts.sendBufferBytes !== undefined) setSocketBuffer(fd, 'send', opts.sendBufferBytes);
      if (!opts.nonBlocking) {
        // struct timeval { long tv_sec; long tv_usec; } on LP64.
        const tv = new Uint8Array(16);
        const dv = new DataView(tv.buffer);
        dv.setBigInt64(0, BigInt(Math.floor(timeoutMs / 1000)), LE);
        dv.setBigInt64(8, BigInt((timeoutMs % 1000) * 1000), LE);
        if (c.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv, 16) < 0) throw systemError('set netlink receive timeout', koffi.errno());
      }
      if (c.bind(fd, sockaddrNl(), 12) < 0) throw systemError('bind netlink socket', koffi.errno());
      for (const g of sock.groups) sock.#setOption(SOL_NETLINK, NetlinkOpt.ADD_MEMBERSHIP, g, false, `join rtnetlink group ${g}`);
    } catch (err) {
      sock.close();
      throw err;
    }
    return sock;
  }

  /** The file descriptor (-1 once closed). */
  get fd(): number {
    return this.#fd;
  }

  /** A fresh sequence number for the next request. */
  nextSeq(): number {
    this.#seq = (this.#seq + 1) >>> 0;
    return this.#seq;
  }

  /** Sends `bytes` (one or more whole messages) to the kernel in one datagram. */
  send(bytes: Uint8Array, operation: string): void {
    const c = bindLibc();
    for (;;) {
      const n = c.sendto(this.#live(operation), bytes, bytes.length, 0, KERNEL, KERNEL.length);
      if (n >= 0) return;
      const errno = koffi.errno();
      if (errno !== EINTR) throw systemError(operation, errno);
    }
  }

  /**
   * Receives one datagram. Returns a view of the socket's own buffer, valid until the next receive (copy what you
   * keep), or null when a non-blocking socket has nothing. Throws NetlinkTimeoutError, NetlinkOverrunError (events
   * lost, ENOBUFS), NetlinkSystemError.
   */
  receive(operation: string): Uint8Array | null {
    const c = bindLibc();
    for (;;) {
      const fd = this.#live(operation);
      const flags = MSG_TRUNC | (this.#nonBlocking ? MSG_DONTWAIT : 0);
      const n = c.recv(fd, this.#rx, this.#rx.length, flags);
      if (n >= 0) {
        // MSG_TRUNC makes recv return the datagram's real length: more than the buffer means bytes were cut.
        if (n > this.#rx.length) {
          const had = this.#rx.length;
          this.#rx = new Uint8Array(n); // the datagram is gone, but a retry of the request will fit
          throw new NetlinkMalformedError('netlink datagram', `${n} bytes did not fit the ${had}-byte receive buffer: retry`);
        }
        return this.#rx.subarray(0, n);
      }
      const errno = koffi.errno();
      if (errno === EINTR) continue;
      if (errno === EAGAIN) {
        if (this.#nonBlocking) return null;
        throw new NetlinkTimeoutError(operation, this.#timeoutMs);
      }
      if (errno === ENOBUFS) throw new NetlinkOverrunError(this.groups.length ? `rtnetlink group ${this.groups.join(',')}` : 'netlink');
      throw systemError(operation, errno);
    }
  }

  /**
   * Emits one request (`header` flags get NLM_F_REQUEST | NLM_F_ACK, or NLM_F_DUMP for a dump), sends it and
   * returns the answers in order (ACKs and DONE left out). Throws NetlinkSystemError when the kernel refuses.
   */
  request<R>(type: number, flags: number, codec: Codec<R>, repr: R, operation: string): NetlinkMessageRepr[] {
    const seq = this.nextSeq();
    const dump = (flags & NlmF.DUMP) === NlmF.DUMP;
    const len = codec.bufferLen(repr);
    const bytes = new Uint8Array(Hdr.SIZE + len);
    // ACK on non-dumps too: GET requests then end with an ACK after the answer, so every request has a clear end.
    NetlinkMessage.emitHeader({ type, flags: flags | NlmF.REQUEST | (dump ? 0 : NlmF.ACK), seq, pid: 0 }, len, bytes);
    codec.emit(repr, bytes, Hdr.SIZE);
    // A dump the kernel had to restart (NLM_F_DUMP_INTR: the table changed under it) is asked again, a few times.
    for (let attempt = 0; ; attempt++) {
      const answer = this.#transact(bytes, seq, dump, operation);
      if (answer.interrupted && attempt < 3) continue;
      return answer.messages;
    }
  }

  /**
   * Sends many requests (whole messages with consecutive sequence numbers from `firstSeq`, the last one with
   * NLM_F_ACK) in one datagram and returns the refusals, in request order. The kernel handles the requests in
   * order and answers every refusal whether or not it asked for an ACK, so once the last request's answer is in,
   * every request without a refusal succeeded. The receive buffer must hold all the answers at once (one skb
   * each, ~1 KiB with overhead): size it with `receiveBufferBytes`. Throws NetlinkOverrunError when answers were
   * dropped (then what happened is unknown), NetlinkTimeoutError, NetlinkSystemError.
   */
  batch(bytes: Uint8Array, firstSeq: number, count: number, operation: string): BatchAnswer[] {
    this.send(bytes, operation);
    const refused: BatchAnswer[] = [];
    for (;;) {
      const datagram = this.receive(operation);
      if (datagram === null) throw new NetlinkTimeoutError(operation, this.#timeoutMs);
      if (collectAcks(datagram, firstSeq, count, refused)) return refused;
    }
  }

  /** The receive buffer the kernel granted, in bytes (SO_RCVBUF: twice what was asked, for its bookkeeping). */
  get receiveBufferBytes(): number {
    const bytes = receiveBufferBytes(this.#live('read the receive buffer size'));
    if (bytes === undefined) throw systemError('read the receive buffer size', koffi.errno());
    return bytes;
  }

  /** Closes the socket (idempotent). */
  close(): void {
    if (this.#fd < 0) return;
    bindLibc().close(this.#fd);
    this.#fd = -1;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #transact(bytes: Uint8Array, seq: number, dump: boolean, operation: string): { messages: NetlinkMessageRepr[]; interrupted: boolean } {
    this.send(bytes, operation);
    const messages: NetlinkMessageRepr[] = [];
    let interrupted = false;
    for (;;) {
      const datagram = this.receive(operation);
      if (datagram === null) throw new NetlinkTimeoutError(operation, this.#timeoutMs);
      // Copy: the receive buffer is reused by the next recv, and the answers outlive it.
      for (const m of parseDatagram(datagram.slice())) {
        if (m.seq !== seq) continue; // a stale answer to an earlier, abandoned request
        if (m.flags & NlmF.DUMP_INTR) interrupted = true;
        if (m.type === Nlmsg.DONE) return { messages, interrupted };
        if (m.type === Nlmsg.ERROR) {
          const ack = NetlinkAck.parse(m.payload, m.flags);
          if (ack.error !== 0) throw systemError(operation, -ack.error, ack.message);
          if (!dump) return { messages, interrupted };
          continue;
        }
        if (m.type === Nlmsg.NOOP) continue;
        if (m.type === Nlmsg.OVERRUN) throw new NetlinkOverrunError('netlink');
        messages.push(m);
      }
    }
  }

  #live(operation: string): number {
    if (this.#fd < 0) throw new NetlinkError(`${operation}: the netlink socket is closed`);
    return this.#fd;
  }

  #setOption(level: number, name: number, value: number, bestEffort: boolean, operation = `setsockopt ${level}/${name}`): void {
    if (!setIntOption(this.#fd, level, name, value) && !bestEffort) throw systemError(operation, koffi.errno());
  }
}

/** Runs `fn` with a fresh request socket and closes it afterwards, whatever happens. */
export function withSocket<T>(fn: (sock: NetlinkSocket) => T, opts?: NetlinkSocketOptions): T {
  const sock = NetlinkSocket.open(opts);
  try {
    return fn(sock);
  } finally {
    sock.close();
  }
}
