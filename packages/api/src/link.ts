import type { Observable } from 'rxjs';
import type { IcmpLink, NdpObservation } from '@ersatz/resolve';
import type { CapturedFrame, PipelineStats } from '@ersatz/pipeline';
import type { InterfaceInfo } from './host.js';

export interface OpenLinkOptions {
  /** Also capture and decode ICMP (BPF `arp or icmp`), for ping. */
  readonly icmp?: boolean;
  /** Also capture and decode IPv6 Neighbor Discovery (BPF `icmp6`), on `ndp$`. */
  readonly ndp?: boolean;
  /** Also hand out every raw frame on `frames$` (pcap output). */
  readonly keepFrames?: boolean;
  /**
   * Also capture the frames we send (default: as `keepFrames`, so a recording has both directions). Nothing else
   * needs them: sends are timed by the transmit worker's departure record (ArpLink.departedNs).
   */
  readonly outgoing?: boolean;
  /**
   * The kernel's capture buffer in bytes (default 32 MiB: a /16 sweep's replies with room to spare). A one-shot
   * query needs little: 1 MiB opens ~10–20 ms sooner.
   */
  readonly captureBufferBytes?: number;
  /**
   * Capture through a mapped ring (default true). False (Linux): the capture thread reads its socket with recvmmsg
   * instead; setting up and tearing down a ring each wait for the kernel (an RCU grace period, 10–20 ms here), so the
   * link opens and closes that much sooner, and it reads no slower (a /16 sweep measured 7 % sooner here). Where the
   * kernel will not give the socket `captureBufferBytes` (no CAP_NET_ADMIN), the ring is used anyway.
   */
  readonly captureRing?: boolean;
  /**
   * Capture in promiscuous mode, to see frames unicast to other MACs (default false: answers come to our MAC or
   * broadcast, and promiscuity shows up in the kernel log and in IDS alarms).
   */
  readonly promiscuous?: boolean;
  /**
   * When the interface goes down or away: `fail` (default) ends every query and sweep on the link at once with
   * InterfaceLostError (a PipelineError saying what happened and what to do) and stops the workers; `reopen` keeps
   * the link and reopens it with backoff once the interface is back (for a long-lived link that must ride out a
   * flap; queries in flight are re-sent then, those that time out meanwhile fail as usual).
   */
  readonly linkLoss?: 'fail' | 'reopen';
  /**
   * An 802.1Q VLAN id (0..4095): every frame we send is tagged with it, and only answers tagged with it count (as
   * arp-scan's -Q), for a VLAN reached through a trunk port without a VLAN interface of its own.
   */
  readonly vlan?: number;
  /**
   * Keep the link's three threads and the calling thread on one CPU until close (Linux): for many queries one after
   * another on a machine where waking another CPU is dear (measured on one VM: ~3× sooner; on another, no faster),
   * every hand-off a context switch instead; not for sweeps, which need every CPU. See PipelineOptions.sameCpu.
   * Default false.
   */
  readonly sameCpu?: boolean;
  /**
   * While open, ask the kernel to keep idle CPUs polling instead of halting (Linux, root: a 0 µs request on
   * /dev/cpu_dma_latency, as cyclictest makes), so a hand-off between the link's threads does not wait for a halted
   * CPU to wake: on a VM, for many queries one after another (measured on one: a median of 52–60 µs a query instead
   * of 76–117). The whole machine's idle CPUs poll until close. See PipelineOptions.idlePoll. Default false.
   */
  readonly idlePoll?: boolean;
}

/**
 * One open interface: the worker pipeline (capture, decode, transmit) behind the coordinator's ArpLink.
 * Each open link runs its own three workers; close it when done.
 */
export interface Link extends IcmpLink {
  readonly info: InterfaceInfo;
  /** Hot: every captured frame; empty unless opened with `keepFrames: true`. */
  readonly frames$: Observable<CapturedFrame>;
  /** Hot: every valid Neighbor Discovery message (RFC 4861's receiver rules); empty unless opened with `ndp: true`. */
  readonly ndp$: Observable<NdpObservation>;
  /** Restarts and other incidents, one line each (also counted in stats). */
  readonly warnings$: Observable<string>;
  /** A worker restarted or the interface reopened: frames may have been lost meanwhile (the coordinator re-sends). */
  readonly recovered$: Observable<unknown>;
  /** Converts a capture timestamp (monotonic ns) to wall-clock ns since the epoch (pcap files). */
  wallClockNs(tsNs: bigint): bigint;
  /** Counters of every stage (frames, drops, malformed by reason, restarts). */
  stats(): Promise<PipelineStats>;
  /** Stops the workers and releases every handle; idempotent. */
  close(): Promise<void>;
}
