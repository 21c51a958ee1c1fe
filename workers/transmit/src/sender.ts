/** The two ways onto the wire: an AF_PACKET socket (Linux) or libpcap's pcap_sendpacket (Windows, Linux on request). */
export type TransmitVia = 'packet-socket' | 'pcap';

/**
 * What the transmit loop needs from a backend: `slots` staging places of up to `slotBytes` each, filled with
 * stage() and sent in order with send(). Both backends stage the same way, so pacing is the loop's alone.
 */
export interface Sender {
  readonly via: TransmitVia;
  readonly ifname: string;
  /** The interface index, 0 where the backend does not know it (pcap on Windows). */
  readonly ifindex: number;
  readonly slots: number;
  readonly slotBytes: number;
  /** Copies `frame` into slot `i` (the caller checks `frame.length <= slotBytes`). */
  stage(i: number, frame: Uint8Array): void;
  /** The length of the frame staged in slot `i`. */
  stagedLength(i: number): number;
  /**
   * Sends the staged slots [from, to). Returns how many went out (a prefix) and, when it stopped short, why the
   * next one failed: `code` an errno name (`ENETDOWN`, `ENXIO`, ...), `errno` its number where the OS gave one (0
   * otherwise), `operation` the call that failed.
   */
  send(from: number, to: number): SendResult;
  /** Closes the socket or handle and frees what it holds. Idempotent. */
  close(): void;
}

export interface SendResult {
  readonly sent: number;
  readonly code: string;
  readonly errno: number;
  readonly operation: string;
}

/** The default backend on `platform`: AF_PACKET does not exist on Windows. */
export function defaultTransmitVia(platform: NodeJS.Platform = process.platform): TransmitVia {
  return platform === 'win32' ? 'pcap' : 'packet-socket';
}

/**
 * Words in a transmit slot (newSocketSlot): the packet socket's fd + 1, its staging arena, iovecs and mmsghdrs
 * (words 0–3), then the pcap backend's pcap_t (word 4). 0 means nothing recorded.
 */
export const SLOT_WORDS = 5;
export const SLOT_PCAP = 4;

/** A slot for TransmitHandles.socketSlot. */
export function newSocketSlot(): SharedArrayBuffer {
  return new SharedArrayBuffer(SLOT_WORDS * 8);
}
