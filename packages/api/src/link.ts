import type { Observable } from 'rxjs';
import type { IcmpLink } from '@ersatz/resolve';
import type { CapturedFrame, PipelineStats } from '@ersatz/pipeline';
import type { InterfaceInfo } from './host.js';

export interface OpenLinkOptions {
  /** Also capture and decode ICMP (BPF `arp or icmp`), for ping. */
  readonly icmp?: boolean;
  /** Also hand out every raw frame on `frames$` (pcap output). */
  readonly keepFrames?: boolean;
}

/**
 * One open interface: the worker pipeline (capture, decode, transmit) behind the coordinator's ArpLink.
 * Only one can be open per process (libpcap's binding loads in one thread only); close it when done.
 */
export interface Link extends IcmpLink {
  readonly info: InterfaceInfo;
  /** Hot: every captured frame; empty unless opened with `keepFrames: true`. */
  readonly frames$: Observable<CapturedFrame>;
  /** Restarts and other incidents, one line each (also counted in stats). */
  readonly warnings$: Observable<string>;
  /** Converts a capture timestamp (monotonic ns) to wall-clock ns since the epoch (pcap files). */
  wallClockNs(tsNs: bigint): bigint;
  /** Counters of every stage (frames, drops, malformed by reason, restarts). */
  stats(): Promise<PipelineStats>;
  /** Stops the workers and releases every handle; idempotent. */
  close(): Promise<void>;
}
