// The transmit worker's entry point: the only file that touches parentPort/workerData.
import { parentPort, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { TransmitError } from './error.js';
import { Transmitter } from './transmitter.js';
import type { TransmitApi, TransmitHandles, TransmitIncident } from './types.js';

const handles = workerData as TransmitHandles;
const transmitter = new Transmitter(handles, (err) => handles.incidents?.postMessage({ incident: 'transmit-failing', error: err.toWire() } satisfies TransmitIncident));

/** Typed errors cross as plain `{ name, message, ...fields }`: comlink would flatten them into a plain Error. */
function wire<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof TransmitError) throw err.toWire();
    throw err;
  }
}

const api: TransmitApi = {
  open: async (opts) => wire(() => transmitter.open(opts)),
  stats: async () => transmitter.stats(),
  close: () => transmitter.close(),
};

Comlink.expose(api, nodeEndpoint(parentPort!));
