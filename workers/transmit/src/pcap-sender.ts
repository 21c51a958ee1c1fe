// libpcap's pcap_sendpacket through koffi: the transmit backend on Windows (wpcap.dll, Npcap), where AF_PACKET does
// not exist, and selectable on Linux (libpcap.so), where it runs in the tests. The library is found and bound in one
// place, @ersatz/os's libpcap(), so both workers load the same file the same way.
//
// On Linux the packet socket stays the default: pcap_sendpacket did 354–357 k frames/s against sendmmsg's
// 448–535 k (measured, see packet-socket.ts), and opening a pcap handle builds a capture ring.
import { activateErrorCode, errbuf, errbufText, libpcap, type Libpcap, type Pointer } from '@ersatz/os/libpcap';
import koffi from 'koffi';
import { TransmitError, errnoName } from './error.js';
import { interfaceIndex } from './packet-socket.js';
import { SLOT_PCAP, SLOT_WORDS, type SendResult, type Sender } from './sender.js';

/**
 * The handle only sends, but libpcap always opens a capture too: keep its kernel buffer at the minimum and give
 * it a filter no frame passes (no Ethernet frame is 1 byte long), so the kernel copies nothing into it.
 */
const CAPTURE_NOTHING = 'less 1';
const MIN_BUFFER_BYTES = 64 << 10;
const SNAPLEN = 64;
const PCAP_NETMASK_UNKNOWN = 0xffffffff;
const IS_WIN32 = process.platform === 'win32';
const SEND_RETRIES = 3;

/**
 * A libpcap handle opened for sending on `ifname` (a Linux interface name, or an Npcap `\Device\NPF_{GUID}` on
 * Windows) plus `slots` staging places in JavaScript memory: koffi passes a Uint8Array to pcap_sendpacket as a
 * pointer to its bytes, so staging is one copy and nothing native is allocated.
 */
export class PcapSender implements Sender {
  readonly via = 'pcap';
  readonly ifindex: number;
  readonly slots: number;
  readonly slotBytes: number;
  readonly #lib: Libpcap;
  #pcap: Pointer | null;
  readonly #arena: Uint8Array;
  readonly #lens: Uint32Array;
  readonly #slot: BigInt64Array;

  /**
   * Opens the handle (pcap_create, pcap_activate). Throws TransmitError: ELIBACC (no libpcap / wpcap.dll), EPERM
   * (no CAP_NET_RAW; on Windows, Npcap restricted to Administrators), ENODEV, ENETDOWN, EIO with libpcap's words.
   * `slot` (newSocketSlot) records the handle for a successor to close should this thread die holding it.
   */
  constructor(
    readonly ifname: string,
    slots: number,
    slotBytes: number,
    slot: SharedArrayBuffer,
  ) {
    this.#slot = new BigInt64Array(slot, 0, SLOT_WORDS);
    if (typeof ifname !== 'string' || ifname === '' || ifname.includes('\0')) throw new TransmitError('ENODEV', String(ifname), 'pcap_create');
    this.#lib = libpcap((tried) => new TransmitError('ELIBACC', ifname, `load ${tried}`));
    const lib = this.#lib;
    const eb = errbuf();
    const p = lib.create(ifname, eb);
    if (p === null || p === 0n) throw new TransmitError('EIO', ifname, `pcap_create: ${errbufText(eb)}`);
    try {
      lib.setSnaplen(p, SNAPLEN);
      lib.setBufferSize(p, MIN_BUFFER_BYTES);
      lib.setTimeout(p, 1000);
      const status = lib.activate(p);
      if (status < 0) throw activateError(status, ifname, lib.geterr(p));
      const prog: Record<string, unknown> = {};
      if (lib.compile(p, prog, CAPTURE_NOTHING, 1, PCAP_NETMASK_UNKNOWN) < 0) throw new TransmitError('EIO', ifname, `pcap_compile: ${lib.geterr(p)}`);
      try {
        if (lib.setFilter(p, prog) < 0) throw new TransmitError('EIO', ifname, `pcap_setfilter: ${lib.geterr(p)}`);
      } finally {
        lib.freeCode(prog);
      }
    } catch (err) {
      lib.close(p);
      throw err;
    }
    this.#pcap = p;
    Atomics.store(this.#slot, SLOT_PCAP, BigInt.asIntN(64, p));
    this.ifindex = IS_WIN32 ? 0 : interfaceIndex(ifname);
    this.slots = slots;
    this.slotBytes = slotBytes;
    this.#arena = new Uint8Array(slots * slotBytes);
    this.#lens = new Uint32Array(slots);
  }

  stage(i: number, frame: Uint8Array): void {
    this.#arena.set(frame, i * this.slotBytes);
    this.#lens[i] = frame.length;
  }

  stagedLength(i: number): number {
    return this.#lens[i]!;
  }

  /** One pcap_sendpacket per frame (libpcap has no batch send that works on both systems). */
  send(from: number, to: number): SendResult {
    const p = this.#pcap;
    if (p === null) return { sent: 0, code: 'EBADF', errno: 0, operation: 'pcap_sendpacket' };
    for (let i = from; i < to; i++) {
      const off = i * this.slotBytes;
      const len = this.#lens[i]!;
      const frame = this.#arena.subarray(off, off + len);
      if (this.#lib.sendpacket(p, frame, len) === 0) continue;
      // Tried again before it counts: libpcap's socket keeps the ENETDOWN of a link that went down and reports it
      // to the first send after the link is back up (measured: that send fails, the next succeeds); and EINTR,
      // EAGAIN, ENOBUFS pass, as in the packet socket's retries.
      let retries = 0;
      while (retries++ < SEND_RETRIES && this.#lib.sendpacket(p, frame, len) !== 0);
      if (retries <= SEND_RETRIES) continue;
      // libpcap on Linux fails right after send(2), whose errno koffi kept. wpcap.dll reports GetLastError only in
      // its text (`send error: PacketSendPacket failed: ...`): read the text there.
      const e = IS_WIN32 ? 0 : koffi.errno();
      return { sent: i - from, code: e !== 0 ? errnoName(e) : sendErrorCode(this.#lib.geterr(p)), errno: e, operation: 'pcap_sendpacket' };
    }
    return { sent: to - from, code: '', errno: 0, operation: 'pcap_sendpacket' };
  }

  close(): void {
    const p = this.#pcap;
    if (p === null) return;
    this.#pcap = null;
    // Cleared before closing: a thread killed in between leaks the handle rather than have it closed twice.
    Atomics.store(this.#slot, SLOT_PCAP, 0n);
    this.#lib.close(p);
  }

  /**
   * Closes a handle a worker that died left in `slot`. Only before this thread opens anything with the same slot,
   * once the old thread has exited. libpcap stays mapped at the same address across threads (libpcap() pins it), so the dead thread's handle can be closed from here; loads nothing when the slot is empty.
   */
  static releaseOrphan(slot: SharedArrayBuffer): void {
    const words = new BigInt64Array(slot, 0, SLOT_WORDS);
    const p = Atomics.exchange(words, SLOT_PCAP, 0n);
    if (p === 0n) return;
    libpcap((tried) => new TransmitError('ELIBACC', '(orphan)', `load ${tried}`)).close(BigInt.asUintN(64, p));
  }
}

function activateError(status: number, ifname: string, text: string): TransmitError {
  return new TransmitError(activateErrorCode(status), ifname, `pcap_activate: ${text || status}`);
}

/**
 * An errno name for a failed send from libpcap's words alone: Linux's strerror texts, and the FormatMessage texts
 * of the Win32 errors Npcap's PacketSendPacket is known to fail with (never seen here: nothing ran on Windows).
 */
export function sendErrorCode(text: string): string {
  if (/network is down|network location cannot be reached/i.test(text)) return 'ENETDOWN';
  if (/no such device|no longer available/i.test(text)) return 'ENXIO';
  if (/message too long/i.test(text)) return 'EMSGSIZE';
  return 'EIO';
}
