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
import { Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { CaptureApi, CaptureHandles } from './types.js';

export { newHandleSlot, defaultCaptureWait } from './capture.js';
export { CaptureError, CAP_NET_RAW_HINT, permissionHint, libraryHint, type CaptureErrorCode, type CaptureErrorWire } from './error.js';
export { libpcap, pcapLibraryNames, PcapStatus, errbuf, errbufText, type Libpcap, type Pointer } from './libpcap.js';
export type { CaptureApi, CaptureHandles, CaptureIncident, CaptureOptions, CaptureStats, CaptureWait, LinkInfo } from './types.js';

// The thread's script, beside this module (scripts/bundle.mjs points it at the bundled one). Asked at spawn time,
// not at load: a bundle may hold this module without the script (transmit takes capture's libpcap binding).
const workerUrl = (): URL => new URL('./main.js', import.meta.url);

/**
 * Starts a capture worker that will write into `handles.rx` (it becomes the ring's only writer). Returns the thread
 * and its comlink proxy. Rejections carry `CaptureErrorWire` objects: pass them through `CaptureError.fromWire`.
 * The worker also posts `CaptureIncident` messages (`{ incident: 'capture-stopped', error }`) on its own.
 */
export function spawnCapture(handles: CaptureHandles): { worker: Worker; api: Comlink.Remote<CaptureApi> } {
  const worker = new Worker(workerUrl(), { workerData: handles, name: 'ersatz-capture' });
  return { worker, api: Comlink.wrap<CaptureApi>(nodeEndpoint(worker)) };
}
