// An AF_PACKET/SOCK_RAW socket through koffi: the transmit worker's way onto the wire.
//
// Why not libpcap's pcap_open_live + pcap_inject (also reachable through koffi): measured on a veth in a namespace,
// 200 000 ARP frames from one thread, the packet socket's send() did 372–384 k frames/s, sendmmsg in batches of 64
// 448–535 k/s, pcap_inject 354–357 k/s. pcap_open_live also took 12–17 ms (it builds a capture ring this thread
// never reads, and that socket would then receive every frame on the link), socket + bind 24 µs. So: a packet
// socket with protocol 0 (it receives nothing), sendmmsg for batches, kept open for the worker's life (closing one
// costs 10–15 ms, measured).
import koffi from 'koffi';
import { constants } from 'node:os';
import { AF_PACKET, LE, MMSG, SOCKADDR_LL_LEN, SOCK_CLOEXEC, SOCK_RAW, libc, sockaddrLl, type Libc } from '@ersatz/os';
import { TransmitError, errnoName } from './error.js';
import type { SendResult, Sender } from './sender.js';

const { EPERM, EACCES, EINTR, EAGAIN, ENOBUFS } = constants.errno;

const { IOV_SIZE, IOV_LEN, SIZE: MMSG_SIZE, IOV: MSG_IOV, IOVLEN: MSG_IOVLEN } = MMSG;

/**
 * A bound packet socket plus a native staging area of `slots` frames of up to `slotBytes` each, with the
 * mmsghdr/iovec arrays for sendmmsg built once: staging a frame is one copy and one length store.
 */
export class PacketSocket implements Sender {
  readonly via = 'packet-socket';
  readonly ifindex: number;
  readonly slots: number;
  readonly slotBytes: number;
  readonly #lib: Libc;
  #fd: number;
  readonly #arena: bigint;
  readonly #arenaU8: Uint8Array;
  readonly #iov: bigint;
  readonly #iovDv: DataView;
  readonly #msgs: bigint;
  readonly #lens: Uint32Array;

  readonly #slot: BigInt64Array;

  /**
   * Opens and binds the socket. Throws TransmitError: EPERM (no CAP_NET_RAW), ENODEV (no such interface), or the
   * errno of socket/bind. `slot` (newSocketSlot) records the socket and staging memory for a successor to release
   * should this thread die holding them (see PacketSocket.releaseOrphan).
   */
  constructor(
    readonly ifname: string,
    slots: number,
    slotBytes: number,
    slot: SharedArrayBuffer,
  ) {
    this.#slot = new BigInt64Array(slot, 0, PS_WORDS);
    if (process.platform !== 'linux') throw new TransmitError('ENOTSUP', ifname, `AF_PACKET on ${process.platform}`);
    // The staging arrays below are written as 64-bit pointers and size_t.
    if (koffi.sizeof('void *') !== 8 || koffi.sizeof('size_t') !== 8) throw new TransmitError('ENOTSUP', ifname, 'sendmmsg staging on a 32-bit platform');
    const lib = (this.#lib = libc());
    this.ifindex = lib.if_nametoindex(ifname);
    if (this.ifindex === 0) throw TransmitError.fromErrno(koffi.errno(), ifname, 'if_nametoindex');
    const fd = lib.socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      const e = koffi.errno();
      throw e === EPERM || e === EACCES ? new TransmitError('EPERM', ifname, 'socket(AF_PACKET)', e) : TransmitError.fromErrno(e, ifname, 'socket(AF_PACKET)');
    }
    // Protocol 0: this socket receives nothing, it only sends.
    if (lib.bind(fd, sockaddrLl(this.ifindex, 0), SOCKADDR_LL_LEN) < 0) {
      const e = koffi.errno();
      lib.close(fd);
      throw TransmitError.fromErrno(e, ifname, 'bind');
    }
    this.#fd = fd;
    this.slots = slots;
    this.slotBytes = slotBytes;
    this.#lens = new Uint32Array(slots);
    this.#arena = koffi.alloc('uint8_t', slots * slotBytes) as bigint;
    this.#arenaU8 = new Uint8Array(koffi.view(this.#arena, slots * slotBytes));
    this.#iov = koffi.alloc('uint8_t', slots * IOV_SIZE) as bigint;
    this.#iovDv = new DataView(koffi.view(this.#iov, slots * IOV_SIZE));
    this.#msgs = koffi.alloc('uint8_t', slots * MMSG_SIZE) as bigint;
    const msgs = new DataView(koffi.view(this.#msgs, slots * MMSG_SIZE));
    new Uint8Array(msgs.buffer).fill(0); // msg_name, msg_control: NULL; flags 0
    // fd + 1, so that 0 means "nothing recorded"; pointers as signed words (calloc never returns ≥ 2^63).
    Atomics.store(this.#slot, 1, this.#arena);
    Atomics.store(this.#slot, 2, this.#iov);
    Atomics.store(this.#slot, 3, this.#msgs);
    Atomics.store(this.#slot, 0, BigInt(fd + 1));
    for (let i = 0; i < slots; i++) {
      this.#iovDv.setBigUint64(i * IOV_SIZE, this.#arena + BigInt(i * slotBytes), LE);
      msgs.setBigUint64(i * MMSG_SIZE + MSG_IOV, this.#iov + BigInt(i * IOV_SIZE), LE);
      msgs.setBigUint64(i * MMSG_SIZE + MSG_IOVLEN, 1n, LE);
    }
  }

  /** Copies `frame` into slot `i` (the caller checks `frame.length <= slotBytes`). */
  stage(i: number, frame: Uint8Array): void {
    this.#arenaU8.set(frame, i * this.slotBytes);
    this.#lens[i] = frame.length;
    this.#iovDv.setBigUint64(i * IOV_SIZE + IOV_LEN, BigInt(frame.length), LE);
  }

  /** The length of the frame staged in slot `i`. */
  stagedLength(i: number): number {
    return this.#lens[i]!;
  }

  /**
   * Sends the staged slots [from, to) with sendmmsg. Returns how many went out (a prefix) and, when it stopped
   * short, the errno of the frame that failed. EINTR/EAGAIN/ENOBUFS are retried a few times before being reported.
   */
  send(from: number, to: number): SendResult {
    let retries = 0;
    for (;;) {
      const r = this.#lib.sendmmsg(this.#fd, this.#msgs + BigInt(from * MMSG_SIZE), to - from, 0);
      if (r >= 0) return { sent: r, code: '', errno: 0, operation: 'sendmmsg' };
      const e = koffi.errno();
      if ((e === EINTR || e === EAGAIN || e === ENOBUFS) && retries++ < 3) continue;
      return { sent: 0, code: errnoName(e), errno: e, operation: 'sendmmsg' };
    }
  }

  /**
   * Closes what a worker that died left in `slot`: its socket and staging memory. Only call it before this thread
   * opens anything with the same slot, and only once the old thread has exited.
   */
  static releaseOrphan(slot: SharedArrayBuffer): void {
    const words = new BigInt64Array(slot, 0, PS_WORDS);
    const fdPlus1 = Atomics.exchange(words, 0, 0n);
    if (fdPlus1 === 0n) return;
    libc().close(Number(fdPlus1) - 1);
    for (let i = 1; i < PS_WORDS; i++) {
      const ptr = Atomics.exchange(words, i, 0n);
      if (ptr !== 0n) koffi.free(ptr); // calloc'd by koffi.alloc in the dead thread: free() is thread-agnostic
    }
  }

  /** Closes the socket and frees the staging memory. Idempotent. */
  close(): void {
    if (this.#fd < 0) return;
    // Cleared before closing: a thread killed in between leaks the socket rather than have its number closed twice
    // (by then it may belong to something else).
    Atomics.store(this.#slot, 0, 0n);
    this.#lib.close(this.#fd);
    this.#fd = -1;
    koffi.free(this.#arena);
    koffi.free(this.#iov);
    koffi.free(this.#msgs);
    for (let i = 1; i < PS_WORDS; i++) Atomics.store(this.#slot, i, 0n);
  }
}

/** The packet socket's words in a transmit slot (see SLOT_WORDS in sender.ts): fd + 1, arena, iovecs, mmsghdrs. */
const PS_WORDS = 4;

/** The interface index of `ifname` (if_nametoindex), 0 when there is none. */
export function interfaceIndex(ifname: string): number {
  return libc().if_nametoindex(ifname);
}
