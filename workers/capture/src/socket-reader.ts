// A capture without libpcap's ring (CaptureOptions.ring false, Linux): an AF_PACKET socket of our own, read with
// recvmmsg. Why: the kernel waits for an RCU grace period when it sets up a packet socket's mapped ring and again when
// it tears one down (packet_set_ring's synchronize_net), on top of the one every packet socket's close waits for.
// Measured here: PACKET_RX_RING took 18 ms of a cold `ersatz --target`, a close 24–32 ms with a ring against 4–16
// without. libpcap maps a ring on every Linux capture, so a link that sees a few frames (one query) opens its socket
// itself; libpcap still compiles the filter, and the frames come out as libpcap would hand them over (VLAN tags the
// kernel took off put back, from PACKET_AUXDATA, as libpcap does).
import koffi from 'koffi';
import { constants } from 'node:os';
import {
  AF_PACKET,
  LE,
  MMSG,
  MSG_DONTWAIT,
  SOCKADDR_LL_LEN,
  SOCK_CLOEXEC,
  SOCK_RAW,
  SOL_PACKET,
  SOL_SOCKET,
  errnoText,
  getIntOption,
  ignoreOutgoing,
  intOption,
  libc,
  receiveBufferBytes,
  setSocketBuffer,
  sockaddrLl,
  type Libc,
} from '@ersatz/os';
import { DLT_EN10MB, PCAP_NETMASK_UNKNOWN, type Libpcap } from '@ersatz/os/libpcap';
import { EtherType, VLAN_TAG_LEN } from '@ersatz/wire';
import { CaptureError } from './error.js';

const ETH_P_ALL = 0x0003;
const SO_ERROR = 4;
const SO_ATTACH_FILTER = 26;
const PACKET_ADD_MEMBERSHIP = 1;
const PACKET_MR_PROMISC = 1;
const PACKET_STATISTICS = 6;
const PACKET_AUXDATA = 8;
/** sockaddr_ll.sll_pkttype of a frame this host sent. */
const PACKET_OUTGOING = 4;
const SLL_PKTTYPE = 10;
/** struct tpacket_auxdata's tp_status bits: the kernel took a VLAN tag off the frame (and says which TPID it had). */
const TP_STATUS_VLAN_VALID = 1 << 4;
const TP_STATUS_VLAN_TPID_VALID = 1 << 6;
/** Frames per recvmmsg. */
const BATCH = 64;
/** Per message: room for a sockaddr_ll, and CMSG_SPACE(sizeof(struct tpacket_auxdata)) (a 16-byte cmsghdr, 20 → 24). */
const NAME_BYTES = 24;
const CONTROL_BYTES = 40;
const CMSG_LEVEL = 8;
const CMSG_TYPE = 12;
const CMSG_DATA = 16;
const AUX_BYTES = 20;
const { EACCES, EAGAIN, EINTR, ENETDOWN, ENODEV, EPERM, EWOULDBLOCK } = constants.errno;
/** The low 32 bits of a size_t field (the values written are small). */
const LOW = LE ? 0 : 4;

export interface SocketReaderOptions {
  readonly ifname: string;
  readonly filter: string;
  readonly snaplen: number;
  readonly bufferBytes: number;
  readonly promiscuous: boolean;
  readonly outgoing: boolean;
}

/** One frame as read: the bytes kept, the length it had on the wire (more when cut to snaplen). */
export type OnFrame = (frame: Uint8Array, wireLength: number) => void;

/**
 * An open, bound, filtered packet socket and its native receive area: BATCH messages of up to snaplen bytes each,
 * with the mmsghdr/iovec arrays built once. Linux only.
 */
export class SocketReader {
  /**
   * Opens a reader on `o.ifname` (see the constructor), or returns null when the kernel will not give its socket the
   * receive buffer asked for: without CAP_NET_ADMIN a socket's buffer stops at net.core.rmem_max, where libpcap's
   * ring is not capped, so a capture that must hold a sweep's replies then keeps the ring. Throws CaptureError.
   */
  static open(o: SocketReaderOptions, pcap: Libpcap, slot: BigInt64Array): SocketReader | null {
    try {
      return new SocketReader(o, pcap, slot);
    } catch (err) {
      if (err instanceof BufferRefused) return null;
      throw err;
    }
  }

  readonly fd: number;
  /** The receive buffer the kernel granted (SO_RCVBUF: its own accounting, twice what was asked). */
  readonly bufferBytes: number;
  readonly #lib: Libc;
  readonly #block: bigint;
  readonly #u8: Uint8Array;
  readonly #dv: DataView;
  readonly #names: number;
  readonly #controls: number;
  readonly #frames: number;
  readonly #frameBytes: number;
  /** The kernel did not take PACKET_IGNORE_OUTGOING: drop our own frames here. */
  readonly #skipOutgoing: boolean;
  readonly #slot: BigInt64Array;
  // PACKET_STATISTICS resets the kernel's counters as it reads them: their sums.
  #received = 0;
  #dropped = 0;
  readonly #st = new Uint8Array(8);
  readonly #stLen = new Uint32Array(1);

  /**
   * Opens the socket on `o.ifname`: filter, options and receive area first, bound last, so no frame arrives before
   * the filter. `slot` (three words of a capture handle slot) records the descriptor and the receive area for a
   * successor should this thread die holding them (see releaseOrphan). Throws CaptureError.
   */
  constructor(o: SocketReaderOptions, pcap: Libpcap, slot: BigInt64Array) {
    const lib = (this.#lib = libc());
    const ifindex = lib.if_nametoindex(o.ifname);
    if (ifindex === 0) throw new CaptureError('ENODEV', o.ifname, 'No such device exists');
    const fd = lib.socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      const e = koffi.errno();
      throw new CaptureError(e === EPERM || e === EACCES ? 'EPERM' : 'EIO', o.ifname, `socket(AF_PACKET): ${errnoText(e)}`);
    }
    let block = 0n;
    try {
      const set = (level: number, name: number, value: Uint8Array, what: string): void => {
        if (lib.setsockopt(fd, level, name, value, value.length) < 0) throw new CaptureError('EIO', o.ifname, `${what}: ${errnoText(koffi.errno())}`);
      };
      attachFilter(pcap, fd, o);
      set(SOL_PACKET, PACKET_AUXDATA, intOption(1), 'PACKET_AUXDATA');
      // Without CAP_NET_ADMIN, what net.core.rmem_max allows. The kernel keeps twice what is asked (its own
      // accounting), and reads that back; its int caps the doubled figure just below 2 GiB.
      if (!setSocketBuffer(fd, 'receive', o.bufferBytes)) throw new CaptureError('EIO', o.ifname, `SO_RCVBUF: ${errnoText(koffi.errno())}`);
      this.bufferBytes = receiveBufferBytes(fd) ?? 0;
      if (this.bufferBytes < Math.min(2 * o.bufferBytes, 0x7ffffffe)) throw new BufferRefused();
      if (o.promiscuous) set(SOL_PACKET, PACKET_ADD_MEMBERSHIP, packetMreq(ifindex, PACKET_MR_PROMISC), 'PACKET_ADD_MEMBERSHIP');
      this.#skipOutgoing = !o.outgoing && !ignoreOutgoing(fd);

      this.#frameBytes = (VLAN_TAG_LEN + o.snaplen + 7) & ~7;
      const msgs = 0;
      const iovs = msgs + BATCH * MMSG.SIZE;
      this.#names = iovs + BATCH * MMSG.IOV_SIZE;
      this.#controls = this.#names + BATCH * NAME_BYTES;
      this.#frames = this.#controls + BATCH * CONTROL_BYTES;
      const bytes = this.#frames + BATCH * this.#frameBytes;
      block = koffi.alloc('uint8_t', bytes) as bigint;
      this.#u8 = new Uint8Array(koffi.view(block, bytes));
      this.#u8.fill(0);
      const dv = (this.#dv = new DataView(this.#u8.buffer, this.#u8.byteOffset, bytes));
      for (let i = 0; i < BATCH; i++) {
        const m = msgs + i * MMSG.SIZE;
        const iov = iovs + i * MMSG.IOV_SIZE;
        dv.setBigUint64(m + MMSG.NAME, block + BigInt(this.#names + i * NAME_BYTES), LE);
        dv.setUint32(m + MMSG.NAMELEN, SOCKADDR_LL_LEN, LE);
        dv.setBigUint64(m + MMSG.IOV, block + BigInt(iov), LE);
        dv.setBigUint64(m + MMSG.IOVLEN, 1n, LE);
        dv.setBigUint64(m + MMSG.CONTROL, block + BigInt(this.#controls + i * CONTROL_BYTES), LE);
        dv.setBigUint64(m + MMSG.CONTROLLEN, BigInt(CONTROL_BYTES), LE);
        // Received VLAN_TAG_LEN in: a tag the kernel took off goes back in front of the frame's EtherType.
        dv.setBigUint64(iov, block + BigInt(this.#frames + i * this.#frameBytes + VLAN_TAG_LEN), LE);
        dv.setBigUint64(iov + MMSG.IOV_LEN, BigInt(o.snaplen), LE);
      }
      if (lib.bind(fd, sockaddrLl(ifindex, ETH_P_ALL), SOCKADDR_LL_LEN) < 0) {
        const e = koffi.errno();
        throw new CaptureError(e === ENODEV ? 'ENODEV' : 'EIO', o.ifname, `bind: ${errnoText(e)}`);
      }
      // Bound to an interface that is down, the socket holds ENETDOWN: refused now, as libpcap refuses it.
      const e = getIntOption(fd, SOL_SOCKET, SO_ERROR) ?? 0;
      if (e === ENETDOWN) throw new CaptureError('ENETDOWN', o.ifname, `${o.ifname}: That device is not up`);
      if (e !== 0) throw new CaptureError('EIO', o.ifname, `bind: ${errnoText(e)}`);
    } catch (err) {
      lib.close(fd);
      if (block !== 0n) koffi.free(block);
      throw err;
    }
    this.fd = fd;
    this.#block = block;
    this.#slot = slot;
    Atomics.store(slot, 1, BigInt(fd + 1));
    Atomics.store(slot, 2, BigInt.asIntN(64, block));
  }

  /**
   * Reads what the socket holds, one recvmmsg of up to BATCH frames, each handed to `onFrame` (valid until it
   * returns). Returns the number of messages read (0: none waiting), or −errno when the socket reports an error
   * (ENETDOWN: the interface went down).
   */
  read(onFrame: OnFrame): number {
    let n: number;
    do n = this.#lib.recvmmsg(this.fd, this.#block, BATCH, MSG_DONTWAIT, null);
    while (n < 0 && koffi.errno() === EINTR);
    if (n < 0) {
      const e = koffi.errno();
      return e === EAGAIN || e === EWOULDBLOCK ? 0 : -e;
    }
    const dv = this.#dv;
    const u8 = this.#u8;
    for (let i = 0; i < n; i++) {
      const m = i * MMSG.SIZE;
      const got = dv.getUint32(m + MMSG.LEN, LE);
      const controlLen = dv.getUint32(m + MMSG.CONTROLLEN + LOW, LE);
      // recvmmsg wrote back how much name and control it filled: room for the next call.
      dv.setUint32(m + MMSG.NAMELEN, SOCKADDR_LL_LEN, LE);
      dv.setUint32(m + MMSG.CONTROLLEN + LOW, CONTROL_BYTES, LE);
      if (this.#skipOutgoing && u8[this.#names + i * NAME_BYTES + SLL_PKTTYPE] === PACKET_OUTGOING) continue;
      const c = this.#controls + i * CONTROL_BYTES;
      const aux = controlLen >= CMSG_DATA + AUX_BYTES && dv.getInt32(c + CMSG_LEVEL, LE) === SOL_PACKET && dv.getInt32(c + CMSG_TYPE, LE) === PACKET_AUXDATA;
      const status = aux ? dv.getUint32(c + CMSG_DATA, LE) : 0;
      const wire = aux ? dv.getUint32(c + CMSG_DATA + 4, LE) : got;
      const at = this.#frames + i * this.#frameBytes;
      if ((status & TP_STATUS_VLAN_VALID) !== 0 && got >= 12) {
        u8.copyWithin(at, at + VLAN_TAG_LEN, at + VLAN_TAG_LEN + 12); // the two MACs, moved 4 bytes to the front
        dv.setUint16(at + 12, (status & TP_STATUS_VLAN_TPID_VALID) !== 0 ? dv.getUint16(c + CMSG_DATA + 18, LE) : EtherType.Vlan, false);
        dv.setUint16(at + 14, dv.getUint16(c + CMSG_DATA + 16, LE), false);
        onFrame(u8.subarray(at, at + VLAN_TAG_LEN + got), wire + VLAN_TAG_LEN);
      } else {
        onFrame(u8.subarray(at + VLAN_TAG_LEN, at + VLAN_TAG_LEN + got), wire);
      }
    }
    return n;
  }

  /** The kernel's counters since open: frames that passed the filter (dropped ones included) and those dropped. */
  stats(): { received: number; dropped: number } {
    this.#stLen[0] = 8;
    if (this.#lib.getsockopt(this.fd, SOL_PACKET, PACKET_STATISTICS, this.#st, this.#stLen) === 0) {
      const dv = new DataView(this.#st.buffer);
      this.#received += dv.getUint32(0, LE);
      this.#dropped += dv.getUint32(4, LE);
    }
    return { received: this.#received, dropped: this.#dropped };
  }

  /** Closes the socket and frees the receive area. Call once. */
  close(): void {
    // Cleared before closing: a thread killed in between leaks the socket rather than have its number closed twice.
    Atomics.store(this.#slot, 1, 0n);
    Atomics.store(this.#slot, 2, 0n);
    this.#lib.close(this.fd);
    koffi.free(this.#block);
  }

  /** What a capture thread that died left in its handle slot's words 1 and 2: close and free them. */
  static releaseOrphan(slot: BigInt64Array): void {
    const fdPlus1 = Atomics.exchange(slot, 1, 0n);
    const block = Atomics.exchange(slot, 2, 0n);
    if (fdPlus1 !== 0n) libc().close(Number(fdPlus1) - 1);
    if (block !== 0n) koffi.free(BigInt.asUintN(64, block)); // koffi.alloc's memory: free() is thread-agnostic
  }
}

/** The kernel granted the socket less receive buffer than asked (see SocketReader.open). */
class BufferRefused extends Error {}

/** Attaches `o.filter`, compiled by libpcap for Ethernet, to socket `fd` (SO_ATTACH_FILTER copies the program). */
function attachFilter(pcap: Libpcap, fd: number, o: SocketReaderOptions): void {
  const dead = pcap.openDead(DLT_EN10MB, o.snaplen);
  if (dead === null || dead === 0n) throw new CaptureError('EIO', o.ifname, 'pcap_open_dead failed');
  try {
    const prog: { bf_len?: number; bf_insns?: bigint } = {};
    if (pcap.compile(dead, prog, o.filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
      throw new CaptureError('EINVAL', o.ifname, `bad capture filter ${JSON.stringify(o.filter)}: ${pcap.geterr(dead)} (see pcap-filter(7))`);
    }
    try {
      // struct sock_fprog { unsigned short len; struct sock_filter *filter; }: a sock_filter is a bpf_insn.
      const fprog = new Uint8Array(16);
      const dv = new DataView(fprog.buffer);
      dv.setUint16(0, prog.bf_len!, LE);
      dv.setBigUint64(8, prog.bf_insns!, LE);
      if (libc().setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, fprog, fprog.length) < 0) {
        throw new CaptureError('EIO', o.ifname, `SO_ATTACH_FILTER: ${errnoText(koffi.errno())}`);
      }
    } finally {
      pcap.freeCode(prog);
    }
  } finally {
    pcap.close(dead);
  }
}

/** struct packet_mreq { int mr_ifindex; unsigned short mr_type, mr_alen; unsigned char mr_address[8]; } */
function packetMreq(ifindex: number, type: number): Uint8Array {
  const mreq = new Uint8Array(16);
  const dv = new DataView(mreq.buffer);
  dv.setInt32(0, ifindex, LE);
  dv.setUint16(4, type, LE);
  return mreq;
}
