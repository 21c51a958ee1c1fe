/**
 * Single-producer/single-consumer frame rings in a SharedArrayBuffer: how frames cross between the capture, decode
 * and transmit threads without postMessage. One thread owns the RingWriter, one the RingReader; the handle is plain
 * data for workerData/postMessage. The writer never blocks (a full ring refuses and counts a drop); the reader
 * drains in place and sleeps with waitSync/waitAsync, and the writer only makes a syscall to wake it when it has
 * said it is asleep.
 *
 * ```ts
 * const rx = createRing(1 << 20);                         // main thread; pass rx in workerData
 * const w = new RingWriter(rx);                           // capture thread
 * cap.on('packet', (n) => w.tryPush(buf.subarray(0, n), process.hrtime.bigint()));
 * const r = new RingReader(rx);                           // decode thread
 * while (r.waitSync(1000) || !r.closed) r.drain((frame, tsNs) => decode(frame, tsNs));
 * closeRing(rx);                                          // shutdown, from any thread: wakes the reader
 * ```
 */
export { createRing, ringStats, closeRing, emptyProbe, type RingHandle, type RingStats } from './ring.js';
export { RingWriter } from './writer.js';
export { RingReader, holdEventLoop } from './reader.js';
export {
  RingError,
  RingSizeError,
  RingHandleError,
  RingRoleTakenError,
  RingArgumentError,
  RingCorruptError,
} from './error.js';
export { TraceHop, TRACE_HOPS, createTrace, stamp, traceView } from './trace.js';
export { DEPARTURE_SLOTS, DepartureLog, createDepartureLog } from './departures.js';
export { announceLoaded, osThreadName, prestartThread, startThread, type ThreadScript } from './handoff.js';
