#!/usr/bin/env node
// @ts-check
// The cold row's floor: Node starting three worker threads that load nothing, and exiting once all three run. The
// design (capture, decode and transmit threads) pays at least this before its first request; ersatz's cold start
// beside it shows what our own code adds. Prints {"threadsUpMs": ms since the process started, when all three ran}
// (the bench's cold timeline sets it beside ersatz's). Exit 0.
//
//   node three-threads.mjs
import { Worker } from 'node:worker_threads';

// stdin: true, as the pipeline's threads: Node then builds no process.stdin in the thread only to end it.
const threads = Array.from({ length: 3 }, () => new Worker('require("node:worker_threads").parentPort.postMessage(0)', { eval: true, stdin: true }));
let running = 0;
for (const t of threads) {
  t.once('message', () => {
    if (++running < threads.length) return;
    process.stdout.write(`${JSON.stringify({ threadsUpMs: performance.now() })}\n`);
    process.exit(0);
  });
}
