// Preloaded (`node --import .../peak-rss.js script ...`) into every Node process the harness measures: at exit it
// appends the process's peak resident set (VmHWM from /proc/self/status, KiB, every thread included) to the file
// named by ERSATZ_BENCH_RSS_FILE. Exact where polling from outside could miss a short peak, and it needs nothing
// from the measured program.
import { appendFileSync, readFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const file = process.env.ERSATZ_BENCH_RSS_FILE;
// Workers may load preloads too; only the process's own exit has the final high-water mark.
if (file && isMainThread) {
  process.once('exit', () => {
    const kib = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    appendFileSync(file, `${kib ?? 'NaN'}\n`);
  });
}
