import { setImmediate, setTimeout } from 'node:timers/promises';
import type { RingReader } from '@ersatz/ring';

/** Records the main thread handles before giving the event loop a turn. */
const MAIN_BATCH = 4096;

/**
 * The main thread's reader of a ring the decode worker writes: each record → `onRecord`, until `stopping()` and the
 * ring is closed. `reader()` is read afresh each round: a decode restart swaps the reader, and the loop follows it.
 */
export async function readLoop(reader: () => RingReader, onRecord: (rec: Uint8Array, tsNs: bigint) => void, stopping: () => boolean): Promise<void> {
  for (;;) {
    const r = reader();
    // No timeout and no timer per wait (each timed waitAsync costs V8 a timeout task, an eventfd write and an extra
    // epoll round): a record or closeRing wakes it, and the ref'd worker threads keep the process alive meanwhile.
    const ready = await r.waitAsync(Infinity, false);
    if (r !== reader()) continue;
    if (ready) {
      if (r.drain(onRecord, MAIN_BATCH) === MAIN_BATCH) await setImmediate(); // a turn for the event loop
    } else if (r.closed) {
      if (stopping()) return;
      await setTimeout(5); // closed by a decode restart that is swapping rings: look again shortly
    }
  }
}
