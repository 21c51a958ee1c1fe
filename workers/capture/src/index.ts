/**
 * The capture worker: the one thread that opens the interface with libpcap (through koffi), copies every frame into
 * the rx ring with a `process.hrtime.bigint()` timestamp, and never blocks. Control calls go over comlink; frames
 * never do.
 *
 * ```ts
 * const rx = createRing(1 << 22);
 * const { worker, api } = spawnCapture({ rx });
 * await api.open({ ifname: 'ez0', filter: 'arp' });   // rejects with CaptureError (rebuild with CaptureError.fromWire)
 * ```
 */
import type { Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { startThread } from '@ersatz/ring';
import { captureThread } from './script.js';
import type { CaptureApi, CaptureHandles } from './types.js';

export { newHandleSlot, defaultCaptureWait } from './capture.js';
export { CaptureError, CAP_NET_RAW_HINT, permissionHint, libraryHint, type CaptureErrorCode, type CaptureErrorWire } from './error.js';
export type { CaptureApi, CaptureHandles, CaptureIncident, CaptureOptions, CaptureStats, CaptureWait, LinkInfo } from './types.js';

/**
 * Starts a capture worker that will write into `handles.rx` (it becomes the ring's only writer). Returns the thread
 * and its comlink proxy. Rejections carry `CaptureErrorWire` objects: pass them through `CaptureError.fromWire`.
 * The worker posts `CaptureIncident`s (`{ incident: 'capture-stopped', error }`) on `handles.incidents` when given.
 */
export function spawnCapture(handles: CaptureHandles): { worker: Worker; api: Comlink.Remote<CaptureApi> } {
  const worker = startThread(captureThread(), handles, handles.incidents ? [handles.incidents] : []);
  return { worker, api: Comlink.wrap<CaptureApi>(nodeEndpoint(worker)) };
}
