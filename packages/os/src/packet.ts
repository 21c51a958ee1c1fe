// AF_PACKET sockets as the capture and transmit workers open them (Linux): the constants, a sockaddr_ll to bind, and
// where the fields of `struct mmsghdr` (its msghdr and iovec) lie for the arrays they build in native memory for
// sendmmsg and recvmmsg, laid out by koffi for this platform's ABI.
import koffi from 'koffi';
import { LE } from './libc.js';
import { setIntOption } from './sockopt.js';

export const AF_PACKET = 17;
export const SOL_PACKET = 263;
/** sizeof(struct sockaddr_ll) */
export const SOCKADDR_LL_LEN = 20;

/**
 * A `struct sockaddr_ll` for bind: `protocol` (an EtherType, 0 for none: such a socket receives nothing) on the
 * interface `ifindex`.
 */
export function sockaddrLl(ifindex: number, protocol: number): Uint8Array {
  const sll = new Uint8Array(SOCKADDR_LL_LEN);
  const dv = new DataView(sll.buffer);
  dv.setUint16(0, AF_PACKET, LE); // sll_family, host order
  dv.setUint16(2, protocol, false); // network order
  dv.setInt32(4, ifindex, LE); // host order
  return sll;
}

const IoVec = koffi.struct('ersatz_iovec', { iov_base: 'void *', iov_len: 'size_t' });
const MsgHdr = koffi.struct('ersatz_msghdr', {
  msg_name: 'void *',
  msg_namelen: 'uint32_t',
  msg_iov: 'void *',
  msg_iovlen: 'size_t',
  msg_control: 'void *',
  msg_controllen: 'size_t',
  msg_flags: 'int',
});
const MMsgHdr = koffi.struct('ersatz_mmsghdr', { msg_hdr: MsgHdr, msg_len: 'uint32_t' });

/** Byte sizes and offsets; msghdr's fields are at the same offsets inside an mmsghdr (it comes first). */
export const MMSG = {
  IOV_SIZE: koffi.sizeof(IoVec),
  IOV_LEN: koffi.offsetof(IoVec, 'iov_len'),
  SIZE: koffi.sizeof(MMsgHdr),
  NAME: koffi.offsetof(MsgHdr, 'msg_name'),
  NAMELEN: koffi.offsetof(MsgHdr, 'msg_namelen'),
  IOV: koffi.offsetof(MsgHdr, 'msg_iov'),
  IOVLEN: koffi.offsetof(MsgHdr, 'msg_iovlen'),
  CONTROL: koffi.offsetof(MsgHdr, 'msg_control'),
  CONTROLLEN: koffi.offsetof(MsgHdr, 'msg_controllen'),
  /** Bytes received into this message (recvmmsg) or sent from it (sendmmsg). */
  LEN: koffi.offsetof(MMsgHdr, 'msg_len'),
} as const;

const PACKET_IGNORE_OUTGOING = 23;

/** Asks the kernel not to queue frames this host sends on packet socket `fd` (Linux 4.20). Returns false if refused. */
export function ignoreOutgoing(fd: number): boolean {
  return setIntOption(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1);
}
