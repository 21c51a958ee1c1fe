// The transmit worker's entry point: the only file that touches parentPort. Its handles are the first message
// (see startThread in @ersatz/ring): the thread may have started before they existed.
import { parentPort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { pinThread } from '@ersatz/os';
import { announceLoaded } from '@ersatz/ring';
import { TransmitError } from './error.js';
import { Transmitter } from './transmitter.js';
import type { TransmitApi, TransmitHandles, TransmitIncident } from './types.js';

/** Typed errors cross as plain `{ name, message, ...fields }`: comlink would flatten them into a plain Error. */
function wire<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof TransmitError) throw err.toWire();
    throw err;
  }
}

// Exposed in the same turn as the handles arrive, so the control calls queued behind them find their listener.
parentPort!.once('message', (handles: TransmitHandles) => {
  if (handles.cpu !== undefined) pinThread(handles.cpu);
  const transmitter = new Transmitter(handles, (err) => handles.incidents?.postMessage({ incident: 'transmit-failing', error: err.toWire() } satisfies TransmitIncident));
  const api: TransmitApi = {
    open: async (opts) => wire(() => transmitter.open(opts)),
    stats: async () => transmitter.stats(),
    close: () => transmitter.close(),
  };
  Comlink.expose(api, nodeEndpoint(parentPort!));
});
announceLoaded(); // named, and loaded: from now on the thread may be ended safely (see prestartThread)
