// The capture worker's entry point: the only file that touches parentPort. Its handles are the first message
// (see startThread in @ersatz/ring): the thread may have started before they existed.
import { parentPort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { pinThread } from '@ersatz/os';
import { announceLoaded } from '@ersatz/ring';
import { Capture } from './capture.js';
import { CaptureError } from './error.js';
import type { CaptureApi, CaptureHandles, CaptureIncident, CaptureOptions } from './types.js';

let capture: Capture | undefined;

/** Typed errors cross as plain `{ name, message, ...fields }`: comlink would flatten them into a plain Error. */
function wire<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof CaptureError) throw err.toWire();
    throw err;
  }
}

function serve(c: Capture): CaptureApi {
  return {
    open: async (opts: CaptureOptions) => wire(() => c.open(opts)),
    setOutput: async (h) => wire(() => c.setOutput(h)),
    stats: async () => c.stats(),
    close: async () => c.close(),
    simulateCrash: async () => {
      setImmediate(() => {
        throw new Error('simulated crash (Pipeline.simulateCrash)');
      });
    },
  };
}

// Exposed in the same turn as the handles arrive, so the control calls queued behind them find their listener.
parentPort!.once('message', ({ rx, handleSlot, trace, incidents, cpu }: CaptureHandles) => {
  if (cpu !== undefined) pinThread(cpu);
  capture = new Capture(rx, (err) => incidents?.postMessage({ incident: 'capture-stopped', error: err.toWire() } satisfies CaptureIncident), handleSlot, trace);
  Comlink.expose(serve(capture), nodeEndpoint(parentPort!));
});
announceLoaded(); // named, and loaded: from now on the thread may be ended safely (see prestartThread)

// koffi's poll handle calls into JavaScript from libuv. Once this thread is being torn down by an uncaught error, a
// poll event still dispatched in that loop turn cannot call in, and koffi then aborts the whole process (measured:
// a worker with a live poll on a readable descriptor, crashed 20 times: the process aborted on the first). So an
// uncaught error first stops the poll and closes libpcap, then ends the thread as it would have (exit code 1, the
// error on the parent's 'error' event). terminate() from outside has the same hazard: the supervisor closes the
// capture before it terminates this thread, and simulates crashes with an uncaught error (api.simulateCrash).
process.on('uncaughtException', (err) => {
  try {
    capture?.close();
  } finally {
    // eslint-disable-next-line no-unsafe-finally -- rethrowing is the point: the thread must still die of it
    throw err;
  }
});

