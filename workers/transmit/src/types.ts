import type { MessagePort } from 'node:worker_threads';
import type { RingHandle } from '@ersatz/ring';
import type { TransmitErrorWire } from './error.js';
import type { TransmitVia } from './sender.js';

export interface TransmitOptions {
  /** The interface to send on (in the thread's network namespace). */
  readonly ifname: string;
  /** Largest frame accepted, in bytes. Default 9216 (a jumbo frame plus headers); longer ones fail with EMSGSIZE. */
  readonly maxFrameBytes?: number;
  /**
   * The way onto the wire: `packet-socket` (AF_PACKET with sendmmsg, Linux only; the default there) or `pcap`
   * (libpcap's pcap_sendpacket, through wpcap.dll on Windows, where it is the default; works on Linux too).
   */
  readonly via?: TransmitVia;
}

export interface TransmitInfo {
  readonly ifname: string;
  /** 0 where the backend does not know it (pcap on Windows). */
  readonly ifindex: number;
  readonly via: TransmitVia;
  /** Frames staged (and, with the packet socket, sent per sendmmsg call) at most. */
  readonly batch: number;
  readonly maxFrameBytes: number;
  /** Milliseconds opening took (socket + bind, or pcap_create + pcap_activate). */
  readonly openMs: number;
}

export interface TransmitStats {
  readonly open: boolean;
  /** Frames the kernel accepted. */
  readonly sent: number;
  readonly bytes: number;
  /** Frames the kernel refused (or that were too long): counted, not retried. */
  readonly failed: number;
  /** sendmmsg calls (packet socket), or sends of a run of due frames (pcap). */
  readonly batches: number;
  /** Frames that had a "not before" time still in the future when they reached the head of the queue. */
  readonly paced: number;
  /** The latest any paced frame went out after its "not before" time, in µs (how well pacing holds). */
  readonly maxLateUs: number;
  /** errno name of the last failure, e.g. `ENETDOWN` (with pcap on Windows, read from libpcap's text). */
  readonly lastError?: string;
}

/** Control calls, over comlink. Frames never travel this way: the main thread pushes them into the tx ring. */
export interface TransmitApi {
  /**
   * Opens the packet socket or pcap handle (kept open: closing a socket costs 10–15 ms) and starts sending what the
   * tx ring holds. Reopens when already open. Rejects with TransmitError (EPERM, ENODEV, ELIBACC, EINVAL, ...).
   */
  open(opts: TransmitOptions): Promise<TransmitInfo>;
  stats(): Promise<TransmitStats>;
  /** Stops the loop and closes the socket. Frames still queued are not sent. Idempotent. */
  close(): Promise<void>;
}

export interface TransmitHandles {
  /** Frames to send, each with its "do not send before" time (hrtime ns; 0 = now). The worker is its only reader. */
  readonly tx: RingHandle;
  /**
   * 40 bytes (`newSocketSlot()`) where the worker records its socket and staging memory, or its pcap handle. A thread that dies cannot
   * close them; the next worker given the same slot does, so a restart leaks nothing.
   */
  readonly socketSlot?: SharedArrayBuffer;
  /** Per-hop timestamps for the bench (`createTrace()` in @ersatz/ring); absent: no tracing. */
  readonly trace?: SharedArrayBuffer;
  /** The one CPU this thread keeps to (PipelineOptions.sameCpu); absent: any. */
  readonly cpu?: number;
  /** Where each frame's departure is recorded (`createDepartureLog()` in @ersatz/ring); absent: not recorded. */
  readonly departures?: SharedArrayBuffer;
  /** Where the worker posts its TransmitIncidents (one end of a MessageChannel, transferred); absent: not reported. */
  readonly incidents?: MessagePort;
}

/** Posted by the worker on its own when sends start failing with an errno (once per errno until a send succeeds). */
export interface TransmitIncident {
  readonly incident: 'transmit-failing';
  readonly error: TransmitErrorWire;
}
