// The decode worker's entry point: the only file that touches parentPort. Its handles are the first message
// (see startThread in @ersatz/ring): the thread may have started before they existed.
import { parentPort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { announceLoaded } from '@ersatz/ring';
import { DecodeLoop } from './decode-loop.js';
import type { DecodeApi, DecodeHandles } from './types.js';

// Exposed in the same turn as the handles arrive, so the control calls queued behind them find their listener.
parentPort!.once('message', (handles: DecodeHandles) => {
  const loop = new DecodeLoop(handles);
  const api: DecodeApi = {
    setInput: async (rx) => loop.setInput(rx),
    forwardFrames: async (on) => loop.forwardFrames(on),
    stats: async () => loop.stats(),
    close: () => loop.close(),
    // koffi only when asked: this thread has no other use for it, and loading it costs every start ~10 ms of CPU.
    pinTo: async (cpu) => void (await import('@ersatz/os')).pinThread(cpu),
  };
  Comlink.expose(api, nodeEndpoint(parentPort!));
});
announceLoaded(); // named, and loaded: from now on the thread may be ended safely (see prestartThread)
