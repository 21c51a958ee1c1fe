// What a pipeline is opened with and what it reports: the types callers see and the options' checks, apart from the
// class that runs it.
import type { RingStats } from '@ersatz/ring';
import type { CaptureOptions, CaptureStats, CaptureWait } from '@ersatz/capture-worker';
import type { DecodeStats } from '@ersatz/decode-worker';
import type { TransmitOptions, TransmitStats, TransmitVia } from '@ersatz/transmit-worker';
import { PipelineOptionError, type Stage } from './error.js';

/** Options for Pipeline.open: one object, every field but `ifname` defaulted. */
export interface PipelineOptions {
  /** The interface: captured on and sent on. */
  readonly ifname: string;
  /** BPF capture filter (pcap-filter(7)). Default `arp`; `arp or icmp` for ping. */
  readonly filter?: string;
  /** Also deliver every raw frame on frames$ (for --pcap). Default false. */
  readonly keepFrames?: boolean;
  /** Captured frames, capture → decode. Default 8 MiB (~100 000 ARP frames). */
  readonly rxRingBytes?: number;
  /** Decoded events, decode → main thread. Default 4 MiB (~75 000 events). */
  readonly eventsRingBytes?: number;
  /** Raw frames, decode → main thread, with keepFrames. Default 8 MiB. */
  readonly framesRingBytes?: number;
  /** Frames to send, main thread → transmit. Default 4 MiB (~50 000 ARP requests queued). */
  readonly txRingBytes?: number;
  /** The kernel's capture buffer (see CaptureOptions.bufferBytes). Default 32 MiB. */
  readonly captureBufferBytes?: number;
  /**
   * Capture through libpcap's mapped ring (default true). False (Linux): a socket read with recvmmsg, which opens
   * and closes one RCU grace period each sooner (10–20 ms here) and reads no slower; `resolve$`'s shared link and
   * the CLI's commands but `watch` use it. See CaptureOptions.ring; LinkInfo.ring says what was used.
   */
  readonly captureRing?: boolean;
  /** Bytes kept per captured frame (see CaptureOptions.snaplen). Default 128 with the `arp` filter, else MTU + 26. */
  readonly snaplen?: number;
  /** Promiscuous capture (see CaptureOptions.promiscuous). Default false. */
  readonly promiscuous?: boolean;
  /** Capture our own frames too (see CaptureOptions.outgoing). Default true; departedNs times our sends without them. */
  readonly outgoing?: boolean;
  /**
   * When the interface goes down or away: `reopen` (default) says so on warnings$ and reopens capture and transmit
   * with backoff once it is back, until close (a long-lived link survives a flap); `fail` stops the pipeline at
   * once, events$ erroring with InterfaceLostError (a one-shot command should say so, not wait out its timeouts).
   */
  readonly linkLoss?: 'reopen' | 'fail';
  /**
   * How frames go out: `packet-socket` (AF_PACKET + sendmmsg; default on Linux) or `pcap` (libpcap's
   * pcap_sendpacket; the default on Windows, where it goes through Npcap's wpcap.dll).
   */
  readonly transmitVia?: TransmitVia;
  /**
   * How the capture thread waits for frames: `selectable-fd` (poll on libpcap's descriptor; default on Linux) or
   * `wait-loop` (nonblocking pcap_dispatch and a wait of at most 50 ms on the capture thread: WaitForSingleObject
   * on pcap_getevent on Windows, where it is the default, poll(2) on Linux). See CaptureWait.
   */
  readonly captureWaitVia?: CaptureWait;
  /** Bench only: per-hop timestamps of the latest request and reply (`createTrace()` in @ersatz/ring). */
  readonly trace?: SharedArrayBuffer;
  /**
   * Keep the three threads and the thread that opens the pipeline on one CPU (the one it runs on then) until close
   * (Linux; elsewhere ignored). Each hand-off is then a context switch instead of waking another CPU, which on some
   * VMs costs ~40 µs per hop (measured on one: sequential queries answered in a median of ~50 µs instead of ~150 µs;
   * on another, where a wake costs less, no faster than the default); sweeps and cold starts, which need both CPUs,
   * get slower. The opening thread's CPUs are given back when the last such pipeline closes. Default false.
   */
  readonly sameCpu?: boolean;
  /**
   * While open, ask the kernel to keep idle CPUs polling instead of halting (Linux: a PM QoS CPU latency request of
   * 0 µs on /dev/cpu_dma_latency, as cyclictest makes; needs root; elsewhere ignored). A hand-off between the
   * threads then no longer waits for a halted CPU to wake, which on a VM is an exit to the hypervisor (measured on
   * one 2-vCPU VM, the bench: sequential queries answered in a median of 52–60 µs instead of 76–117; by hand, 46–63
   * instead of ~157 before the main thread looked for a lone query's answer itself, see Inbox.queued). Every idle CPU
   * of the machine polls until close: for a run of queries, not for a link kept open for hours. Default false.
   */
  readonly idlePoll?: boolean;
}

/**
 * A stage is working again after a fault during which frames may have been lost in either direction (a worker
 * restarted with fresh rings, or capture/transmit reopened): a coordinator re-sends what is still unanswered.
 */
export interface Recovery {
  readonly stage: Stage;
  readonly how: 'restarted' | 'reopened';
}

/** A raw frame as captured (frames$, with keepFrames). `bytes` is the pipeline's own copy. */
export interface CapturedFrame {
  readonly tsNs: bigint;
  readonly bytes: Uint8Array;
}

export interface PipelineStats {
  /** Each worker's own counters; null when it could not answer (dead, restarting). */
  readonly capture: CaptureStats | null;
  readonly decode: DecodeStats | null;
  readonly transmit: TransmitStats | null;
  /** The rings in use now (a restart replaces the rings of the stage it restarts, and their counters start over). */
  readonly rings: { readonly rx: RingStats; readonly events: RingStats; readonly frames: RingStats | null; readonly tx: RingStats };
  /** Worker restarts so far. */
  readonly restarts: Readonly<Record<Stage, number>>;
  /** The main thread's side. */
  readonly main: {
    /** Events delivered on events$. */
    readonly events: number;
    /** Frames delivered on frames$. */
    readonly frames: number;
    /** Frames send()/sendBatch() could not queue (tx ring full or pipeline closed). */
    readonly sendRefused: number;
    /** Event records that did not read back (a bug: the first one is also a warning). */
    readonly badRecords: number;
    /** Times the main thread looked for a lone frame's answer right after sending it, before it parked. */
    readonly looks: number;
    /** Of `events`, those these looks delivered (the rest woke the parked main thread). */
    readonly looked: number;
  };
  /** The latest warnings (also on warnings$), oldest first, at most 20. */
  readonly warnings: readonly string[];
}

/** Ring sizes when PipelineOptions leave them out. */
export const RING_DEFAULTS = { rxRingBytes: 8 << 20, eventsRingBytes: 4 << 20, framesRingBytes: 8 << 20, txRingBytes: 4 << 20 } as const;

/** PipelineOptions checked, defaulted, and split into what each worker is opened with. Throws PipelineOptionError. */
export function checkOptions(o: PipelineOptions): {
  readonly ifname: string;
  readonly keepFrames: boolean;
  readonly sameCpu: boolean;
  readonly idlePoll: boolean;
  readonly ringBytes: { readonly rx: number; readonly events: number; readonly frames: number; readonly tx: number };
  readonly linkLoss: 'reopen' | 'fail';
  readonly captureOpts: CaptureOptions;
  readonly transmitOpts: TransmitOptions;
} {
  if (typeof o.ifname !== 'string' || o.ifname === '') throw new PipelineOptionError('ifname', 'an interface name', o.ifname);
  const linkLoss = o.linkLoss ?? 'reopen';
  if (linkLoss !== 'reopen' && linkLoss !== 'fail') throw new PipelineOptionError('linkLoss', "'reopen' or 'fail'", o.linkLoss);
  if (o.transmitVia !== undefined && o.transmitVia !== 'packet-socket' && o.transmitVia !== 'pcap') {
    throw new PipelineOptionError('transmitVia', "'packet-socket' or 'pcap'", o.transmitVia);
  }
  if (o.captureWaitVia !== undefined && o.captureWaitVia !== 'selectable-fd' && o.captureWaitVia !== 'wait-loop') {
    throw new PipelineOptionError('captureWaitVia', "'selectable-fd' or 'wait-loop'", o.captureWaitVia);
  }
  return {
    ifname: o.ifname,
    keepFrames: o.keepFrames ?? false,
    sameCpu: o.sameCpu === true,
    idlePoll: o.idlePoll === true,
    ringBytes: {
      rx: o.rxRingBytes ?? RING_DEFAULTS.rxRingBytes,
      events: o.eventsRingBytes ?? RING_DEFAULTS.eventsRingBytes,
      frames: o.framesRingBytes ?? RING_DEFAULTS.framesRingBytes,
      tx: o.txRingBytes ?? RING_DEFAULTS.txRingBytes,
    },
    linkLoss,
    captureOpts: {
      ifname: o.ifname,
      ...(o.filter !== undefined ? { filter: o.filter } : {}),
      ...(o.captureBufferBytes !== undefined ? { bufferBytes: o.captureBufferBytes } : {}),
      ...(o.captureRing !== undefined ? { ring: o.captureRing } : {}),
      ...(o.snaplen !== undefined ? { snaplen: o.snaplen } : {}),
      ...(o.promiscuous !== undefined ? { promiscuous: o.promiscuous } : {}),
      ...(o.outgoing !== undefined ? { outgoing: o.outgoing } : {}),
      ...(o.captureWaitVia !== undefined ? { waitVia: o.captureWaitVia } : {}),
    },
    // Unset backends are left to the workers, which pick the platform's default.
    transmitOpts: { ifname: o.ifname, ...(o.transmitVia !== undefined ? { via: o.transmitVia } : {}) },
  };
}
