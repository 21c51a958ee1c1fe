// The capture worker's entry point: the only file that touches parentPort/workerData.
import { parentPort, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { Capture } from './capture.js';
import { CaptureError } from './error.js';
import type { CaptureApi, CaptureHandles, CaptureIncident, CaptureOptions } from './types.js';

const port = parentPort!;
const { rx, handleSlot } = workerData as CaptureHandles;

const capture = new Capture(rx, (err) => {
  // Not a comlink reply: comlink's wrap side ignores messages without its id, spawnCapture's listener takes these.
  port.postMessage({ incident: 'capture-stopped', error: err.toWire() } satisfies CaptureIncident);
}, handleSlot);

/** Typed errors cross as plain `{ name, message, ...fields }`: comlink would flatten them into a plain Error. */
function wire<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof CaptureError) throw err.toWire();
    throw err;
  }
}

const api: CaptureApi = {
  open: async (opts: CaptureOptions) => wire(() => capture.open(opts)),
  setOutput: async (h) => wire(() => capture.setOutput(h)),
  stats: async () => capture.stats(),
  close: async () => capture.close(),
};

Comlink.expose(api, nodeEndpoint(port));
