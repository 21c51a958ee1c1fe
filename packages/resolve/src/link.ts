import type { Observable } from 'rxjs';
import type { ArpObservation, Ipv4, Mac } from '@ersatz/wire';

export type { ArpObservation };

/**
 * What the coordinator needs from one interface. The pipeline (capture, decode and transmit workers) provides it;
 * tests provide a fake (`@ersatz/resolve/testing`).
 */
export interface ArpLink {
  readonly ifname: string;
  /** Our hardware address: the source of every frame we send and the address replies must reach. */
  readonly mac: Mac;
  /** Our protocol address on this link (`ar$spa` of our requests unless a caller overrides it); 0.0.0.0 when it has none. */
  readonly ip: Ipv4;
  /**
   * Every IPv4 address assigned to the interface, the only sender addresses arping may announce (see
   * `checkSender`). Default: `[ip]` (none when `ip` is 0.0.0.0, an interface still without an address).
   */
  readonly addresses?: readonly Ipv4[];
  /**
   * The 802.1Q tag our frames carry and replies must carry; undefined for an untagged link (also a VLAN
   * sub-interface such as `eth0.100`, whose frames the kernel has already untagged).
   */
  readonly vlan?: number;
  /**
   * Hot: every ARP frame captured on the link. Our own outgoing frames appear only where the link captures both
   * directions (for pcap output): nothing here needs them, sends are timed with departedNs.
   */
  readonly arp$: Observable<ArpObservation>;
  /**
   * Emits when the link has recovered from a fault during which frames may have been lost in either direction (a
   * worker restarted, the interface reopened): queries still waiting ask again. Optional: a link without faults
   * (a test fake) leaves it out.
   */
  readonly recovered$?: Observable<unknown>;
  /**
   * Queues a frame for sending (the bytes are copied); `notBeforeNs` paces it (same clock as `now()`). Returns its
   * ticket (0, 1, 2, ... in send order) for departures/departedNs, or -1 when it could not be queued.
   */
  send(frame: Uint8Array, notBeforeNs?: bigint): number;
  /** Frames no longer queued for sending (sent, refused, or lost): the tickets below this number. */
  departures(): number;
  /**
   * When the frame with `ticket` was handed to the kernel, on `now()`'s clock (read just before the send call, as
   * arping reads its clock before sendto); null while it is queued, or when that is not known (refused, lost, long ago).
   */
  departedNs(ticket: number): bigint | null;
  /** The monotonic clock (ns) that capture timestamps use (`process.hrtime.bigint` in production). */
  now(): bigint;
  /**
   * A time (`now()`'s clock) before which every frame captured on the link has been delivered on arp$: a wait that
   * ended before it has seen every answer that came in time, however far the consumer has fallen behind.
   */
  heardUntilNs(): bigint;
}
