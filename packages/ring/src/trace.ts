/**
 * Per-hop timestamps for the bench (issue #12): one SharedArrayBuffer of int64 slots, one per stage, each holding the
 * `process.hrtime` (one monotonic clock in every thread) at which that stage last handled a frame. A caller that
 * resolves one address at a time reads the slots when its answer arrives: every stage has by then stamped that
 * request's or that reply's passage (the reply is the last frame each receiving stage saw). Off unless a trace
 * buffer is passed: production pays one `undefined` test per frame.
 */
export const TraceHop = {
  /** Main thread: Pipeline.send queued the request. */
  QUEUED: 0,
  /** Transmit worker: its wait returned with the request in the tx ring. */
  TX_AWAKE: 1,
  /** Transmit worker: sendmmsg (or pcap_sendpacket) returned. */
  TX_SENT: 2,
  /** The kernel's receive timestamp of the reply (libpcap header, realtime, mapped onto hrtime). */
  RX_KERNEL: 3,
  /** Capture worker: its pcap_dispatch callback got the reply. */
  RX_CALLBACK: 4,
  /** Capture worker: the reply's rx ring record is written. */
  RX_RING: 5,
  /** Decode worker: it reads the reply from the rx ring. */
  DECODE_READ: 6,
  /** Decode worker: the reply's event is written to the events ring. */
  EVENT_RING: 7,
  /** Main thread: the reply's event is read back. */
  MAIN_READ: 8,
} as const;
export type TraceHop = (typeof TraceHop)[keyof typeof TraceHop];
export const TRACE_HOPS = 9;

/** A trace buffer for PipelineOptions.trace and the workers' handles. */
export function createTrace(): SharedArrayBuffer {
  return new SharedArrayBuffer(TRACE_HOPS * 8);
}

/**
 * Stores `ns` (default now, hrtime ns) in `hop` of `trace` when tracing is on. The clock is read only then: stages
 * stamp every frame, and an untraced one should not pay a bigint for it.
 */
export function stamp(trace: BigInt64Array | undefined, hop: TraceHop, ns?: bigint): void {
  if (trace !== undefined) Atomics.store(trace, hop, ns ?? process.hrtime.bigint());
}

/** The view the stages write through; undefined when `sab` is (tracing off). */
export function traceView(sab: SharedArrayBuffer | undefined): BigInt64Array | undefined {
  return sab === undefined ? undefined : new BigInt64Array(sab, 0, TRACE_HOPS);
}
