// What scan$ (scan.ts) takes and emits: its options, its events and the summary that ends it.
import type { ObservableInput, SchedulerLike } from 'rxjs';
import type { Ipv4, Mac } from '@ersatz/wire';
import type { ArpObservation } from './link.js';

export interface ScanOptions {
  /** Requests per second. Give this or `bandwidthBps`, not both. */
  readonly ratePps?: number;
  /**
   * Outgoing bandwidth in bits/s (arp-scan --bandwidth, default 256000). Each request counts as a minimum Ethernet
   * frame, 64 bytes with FCS, as arp-scan counts it: 256000 bit/s is one request every 2 ms.
   */
  readonly bandwidthBps?: number;
  /** Requests per host at most (arp-scan --retry, default 2), plus one per recovery of the link (see ArpLink.recovered$). */
  readonly tries?: number;
  /**
   * Wait after a host's first request before retrying or giving up (arp-scan --timeout, default 500 ms). A host given
   * up that answers later, while the scan still runs, is reported all the same.
   */
  readonly timeoutMs?: number;
  /** Each later wait is the previous one times this (arp-scan --backoff, default 1.5). */
  readonly backoff?: number;
  /** Visit targets in random order (arp-scan --random): TargetSet.shuffled, a Fisher-Yates over a Uint32Array copy. */
  readonly random?: boolean;
  /** Seed for `random` (arp-scan --randomseed): the same seed gives the same order. Default: a random one. */
  readonly seed?: number;
  /**
   * `ar$spa` of the requests (arp-scan --arpspa); replies must be addressed to it. Default `link.ip`. It must be an
   * address of the interface, or 0.0.0.0 (a probe, which teaches no neighbour anything), unless `spoofSender`: see
   * checkSender. Throws ForeignSenderError (synchronously) otherwise.
   */
  readonly source?: Ipv4;
  /** Send `source` even when the interface does not have it (it becomes our MAC in neighbours' caches): a lab of your own only. */
  readonly spoofSender?: boolean;
  /**
   * Once nothing is outstanding, keep listening this long before `done` (default 10 ms), so that a second MAC
   * answering for the last host to answer is still reported as a duplicate (two hosts owning one address answer
   * within microseconds of each other; a scan used as a conflict check must not give a false all-clear). 0: end at once.
   */
  readonly settleMs?: number;
  /** Emit a `progress` event this often (default 0: never). */
  readonly progressMs?: number;
  /**
   * How far ahead requests are handed to the link with their `notBeforeNs` (default 10 ms): the transmit worker paces
   * to the nanosecond, so the main thread wakes once per batch rather than once per frame. A retry is only queued once
   * its timeout has passed, so a reply never arrives for a retry that was already committed except in flight.
   */
  readonly lookaheadMs?: number;
  /** Ends the scan early, with its `done` summary, when it emits (what SIGINT does to arp-scan). */
  readonly stop$?: ObservableInput<unknown>;
  readonly scheduler?: SchedulerLike;
}

/** A host answered (`dup: false`, once per host), or answered again from another MAC (`dup: true`, arp-scan's DUP). */
export interface ScanHostEvent {
  readonly type: 'host';
  readonly ip: Ipv4;
  /** `ar$sha` of the reply. */
  readonly mac: Mac;
  /** The Ethernet source, which differs from `mac` for proxies (arp-scan prints it in brackets). */
  readonly ethSrc: Mac;
  /** From our latest request to this host that left before the reply (its departure, see ArpLink.departedNs) to the reply. */
  readonly rttNs: bigint;
  readonly dup: boolean;
  /** Requests sent to this host so far. */
  readonly tries: number;
  readonly reply: ArpObservation;
}

export interface ScanProgressEvent {
  readonly type: 'progress';
  /** Targets taken from the list so far (all of them once the first pass is over). */
  readonly hosts: number;
  readonly sent: number;
  readonly answered: number;
  /** Hosts asked and still waiting for a reply or their last timeout. */
  readonly outstanding: number;
  readonly elapsedMs: number;
}

export interface ScanSummary {
  /** Distinct targets scanned. */
  readonly hosts: number;
  /** Requests sent. */
  readonly sent: number;
  /** Hosts that answered. */
  readonly answered: number;
  /** `dup: true` events: extra MACs answering for an already answered host. */
  readonly duplicates: number;
  readonly elapsedMs: number;
}

export type ScanEvent = ScanHostEvent | ScanProgressEvent | { readonly type: 'done'; readonly summary: ScanSummary };
