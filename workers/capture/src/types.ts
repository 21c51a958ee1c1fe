import type { MessagePort } from 'node:worker_threads';
import type { RingHandle } from '@ersatz/ring';
import type { CaptureErrorWire } from './error.js';

/**
 * How the capture thread waits for frames. `selectable-fd` (default on Linux): koffi.node.poll on libpcap's
 * descriptor, the thread's event loop never blocks. `wait-loop` (default on Windows, where wpcap.dll has no
 * selectable descriptor; also runs on Linux): a nonblocking pcap_dispatch, and when it found nothing a wait of at
 * most 50 ms on the thread itself (WaitForSingleObject on pcap_getevent's HANDLE on Windows, poll(2) on Linux),
 * then a turn of the event loop, so control calls (stats, close) may wait up to 50 ms for an answer.
 */
export type CaptureWait = 'selectable-fd' | 'wait-loop';

/** What to capture. One options object; every field but `ifname` has a documented default. */
export interface CaptureOptions {
  /** The interface to capture on (in the thread's network namespace). */
  readonly ifname: string;
  /** A BPF filter in pcap-filter(7) syntax. Default `arp` (use e.g. `arp or icmp` for ping). */
  readonly filter?: string;
  /**
   * The kernel's capture buffer in bytes (pcap_set_buffer_size). Default 32 MiB. With immediate mode libpcap uses a
   * TPACKET_V2 ring of fixed slots sized by `snaplen`: 32 MiB held 161 311 frames at snaplen 128 (the ARP default),
   * 20 972 at 1526, 513 at 65535 (measured with a stalled reader). When it fills, the kernel drops and counts
   * (`stats().pcap.dropped`); nothing is silent.
   */
  readonly bufferBytes?: number;
  /**
   * Bytes kept per frame. Default: 128 with the default `arp` filter (an ARP frame is at most 64 bytes), otherwise
   * the interface's MTU + 26 (Ethernet header, two VLAN tags, FCS) read from /sys/class/net, or 1526. Small keeps
   * the ring slots small: with 65535 (what `cap` forces) a 64 MiB buffer holds only 1023 frames (measured).
   * ICMP events need whole messages (their checksum is verified): do not cut below the largest echo you expect.
   */
  readonly snaplen?: number;
  /**
   * Promiscuous mode: see frames unicast to other hosts' MACs too (replies to a spoofed source MAC). Default false:
   * ARP answers come to our MAC or broadcast, and promiscuity trips "entered promiscuous mode" alarms.
   */
  readonly promiscuous?: boolean;
  /** How the thread waits for frames (see CaptureWait). Default `wait-loop` on Windows, else `selectable-fd`. */
  readonly waitVia?: CaptureWait;
  /**
   * Also capture the frames this host sends (default true, as tcpdump does). False: pcap_setdirection(PCAP_D_IN),
   * so a sweep's own requests never cost a wake, a ring slot or a decode; where libpcap cannot, both directions
   * are captured and LinkInfo.outgoing says so.
   */
  readonly outgoing?: boolean;
  /**
   * Read through libpcap's mapped ring (default true). False (Linux, with `selectable-fd`): an AF_PACKET socket of the
   * capture's own, read with recvmmsg (up to 64 frames a call), libpcap compiling the filter only. The kernel waits for
   * an RCU grace period to set a ring up and another to tear it down (10–20 ms each here), so such a capture opens and
   * closes that much sooner; and it reads no slower (measured here, a /16 sweep's replies: 7 % sooner and 35 MiB less
   * RSS, the frames landing in one small area instead of across the ring). The ring is used where the socket cannot be,
   * and LinkInfo.ring says so: off Linux, and where the kernel will not give the socket `bufferBytes` (without
   * CAP_NET_ADMIN a socket's buffer stops at net.core.rmem_max; libpcap's ring is not capped).
   */
  readonly ring?: boolean;
}

/** What open() found and chose. */
export interface LinkInfo {
  readonly ifname: string;
  /** Always `EN10MB` (Ethernet): other link types are refused with EPROTONOSUPPORT. */
  readonly linkType: 'EN10MB';
  readonly filter: string;
  readonly snaplen: number;
  readonly bufferBytes: number;
  readonly promiscuous: boolean;
  readonly waitVia: CaptureWait;
  /** Whether frames this host sends are captured too (see CaptureOptions.outgoing). */
  readonly outgoing: boolean;
  /** Whether frames come through libpcap's ring (see CaptureOptions.ring). */
  readonly ring: boolean;
  /**
   * libpcap's selectable descriptor, or the socket itself without a ring (-1 where there is none: Windows). Threads
   * share descriptors: the pipeline polls it to tell whether the kernel still holds frames for the capture.
   */
  readonly fd: number;
  /** Milliseconds the open took (pcap_create → activate → setfilter, or socket → bind without a ring). */
  readonly openMs: number;
}

export interface CaptureStats {
  /** Whether a capture is open right now. */
  readonly open: boolean;
  /** Frames copied into the rx ring (all opens of this worker). */
  readonly frames: number;
  readonly bytes: number;
  /** Frames longer than snaplen (kept truncated to snaplen). */
  readonly truncated: number;
  /** Frames the rx ring refused because it was full (the decode thread fell behind): counted, never waited for. */
  readonly ringDropped: number;
  /** libpcap's own counters (pcap_stats; the kernel's PACKET_STATISTICS without a ring), summed over all opens. */
  readonly pcap: {
    /** Frames the kernel passed the filter (ps_recv). */
    readonly received: number;
    /** Frames the kernel dropped because the capture buffer was full (ps_drop): raise bufferBytes. */
    readonly dropped: number;
    /** Frames the interface itself dropped (ps_ifdrop). */
    readonly ifDropped: number;
  };
  /** How many times open() succeeded in this worker. */
  readonly opens: number;
  /** The error that stopped the capture, when one did (the worker keeps running and can be opened again). */
  readonly lastError?: CaptureErrorWire;
}

/** Control calls, over comlink. Frames never travel this way: they go into the rx ring. */
export interface CaptureApi {
  /**
   * Opens the interface and starts copying frames into the rx ring. Closes a capture already open first.
   * Returns what was opened; rejects with CaptureError (EPERM, ENODEV, ENETDOWN, EINVAL, EPROTONOSUPPORT, ELIBACC,
   * EIO).
   */
  open(opts: CaptureOptions): Promise<LinkInfo>;
  /** Sends frames into `rx` from now on (after the decode worker was restarted with a new ring). */
  setOutput(rx: RingHandle): Promise<void>;
  stats(): Promise<CaptureStats>;
  /** Stops capturing and closes the libpcap handle (its socket and ring) or the ringless socket. Idempotent. */
  close(): Promise<void>;
  /** Chaos hook: the thread dies of an uncaught error just after answering, as it would of a bug in it. */
  simulateCrash(): Promise<void>;
}

/** What the worker is given as its first message (startThread). */
export interface CaptureHandles {
  /** The ring the worker writes captured frames into (it becomes its only writer). */
  readonly rx: RingHandle;
  /**
   * 24 bytes (`newHandleSlot()`) where the worker records its open libpcap handle (or ringless socket and its
   * receive area). A thread that dies (terminate, crash) cannot close it; the next worker given the same slot closes
   * it first, so a restart leaks no socket and no capture ring.
   */
  readonly handleSlot?: SharedArrayBuffer;
  /** Per-hop timestamps for the bench (`createTrace()` in @ersatz/ring); absent: no tracing. */
  readonly trace?: SharedArrayBuffer;
  /** The one CPU this thread keeps to (PipelineOptions.sameCpu); absent: any. */
  readonly cpu?: number;
  /** Where the worker posts its CaptureIncidents (one end of a MessageChannel, transferred); absent: not reported. */
  readonly incidents?: MessagePort;
}

/** What the worker posts on its own when a capture stops without being asked (interface down or gone). */
export interface CaptureIncident {
  readonly incident: 'capture-stopped';
  readonly error: CaptureErrorWire;
}
