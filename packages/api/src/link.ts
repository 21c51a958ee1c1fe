import type { Observable } from 'rxjs';
import type { ArpLink } from '@ersatz/resolve';
import type { Ipv4, Mac } from '@ersatz/wire';
import type { CapturedFrame, PipelineStats } from '@ersatz/pipeline';
import type { InterfaceInfo } from './host.js';

/** An ICMP echo request/reply captured on the link (when opened with `icmp: true`). */
export interface IcmpObservation {
  readonly tsNs: bigint;
  readonly ethSrc: Mac;
  readonly ethDst: Mac;
  readonly src: Ipv4;
  readonly dst: Ipv4;
  readonly ttl: number;
  /** 0 echo reply, 8 echo request. */
  readonly type: number;
  readonly code: number;
  readonly id: number;
  readonly seq: number;
  /** ICMP message length in bytes (header + payload). */
  readonly bytes: number;
}


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
export interface Link extends ArpLink {
  readonly info: InterfaceInfo;
  /** Hot: ICMP echo traffic seen on the link; empty unless opened with `icmp: true`. */
  readonly icmp$: Observable<IcmpObservation>;
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
