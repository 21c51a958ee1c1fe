// The decode worker's entry point: the only file that touches parentPort/workerData.
import { parentPort, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { DecodeLoop } from './decode-loop.js';
import type { DecodeApi, DecodeHandles } from './types.js';

const loop = new DecodeLoop(workerData as DecodeHandles);

const api: DecodeApi = {
  setInput: async (rx) => loop.setInput(rx),
  forwardFrames: async (on) => loop.forwardFrames(on),
  stats: async () => loop.stats(),
  close: () => loop.close(),
};

Comlink.expose(api, nodeEndpoint(parentPort!));
