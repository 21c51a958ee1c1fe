import test, { type ExecutionContext } from 'ava';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { closeRing, createRing, RingReader, ringStats, RingWriter, type RingHandle } from '@ersatz/ring';
import type { ConsumeResult, ProduceResult } from './helpers/ring-worker.js';

const script = new URL('./helpers/ring-worker.js', import.meta.url);

/** Starts a helper worker and resolves with its one result message. A watchdog (not an assertion on speed) turns a
 *  hang into a failure instead of waiting for ava's timeout. */
function run<T>(workerData: Record<string, unknown>, onWorker?: (w: Worker) => void): Promise<T> {
  const worker = new Worker(script, { workerData });
  onWorker?.(worker);
  return new Promise<T>((resolve, reject) => {
    const watchdog = setTimeout(() => {
      reject(new Error(`worker ${String(workerData['role'])} gave no result in 60 s`));
      void worker.terminate();
    }, 60_000);
    worker.once('message', (m: T) => {
      clearTimeout(watchdog);
      resolve(m);
    });
    worker.once('error', (e) => {
      clearTimeout(watchdog);
      reject(e);
    });
    worker.once('exit', (code) => {
      clearTimeout(watchdog);
      reject(new Error(`worker ${String(workerData['role'])} exited with ${code} before answering`));
    });
  });
}

async function stress(t: ExecutionContext, handle: RingHandle, count: number, seed: number, mode: 'sync' | 'async') {
  const consumer = run<ConsumeResult>({ role: 'consume', handle, count, seed, mode });
  const producer = run<ProduceResult>({ role: 'produce', handle, count, seed });
  const [c, p] = await Promise.all([consumer, producer]);
  t.is(c.error, undefined);
  t.is(c.received, count);
  t.is(p.pushed, count);
  t.is(c.checksum, p.checksum);
  const s = ringStats(handle);
  t.like(s, { pushed: count, popped: count, dropped: p.refused, closed: false, readerWaiting: false });
  // Both sides pause every 100 000 records, half a period apart, so the ring was met both full and empty.
  t.true(p.refused > 0, 'the producer never met a full ring');
  t.true(c.waits > 0, 'the consumer never met an empty ring');
  t.log(`${count} records, ${p.refused} refused pushes, ${c.waits} reader waits`);
}

test('10 million random-length records cross between two threads: none lost, reordered or corrupted', async (t) => {
  // 16 KiB data area: records up to 8176 bytes, so the ring wraps and fills all the time.
  await stress(t, createRing(16384), 10_000_000, 0x5eed1, 'sync');
});

test('a reader waiting with waitAsync receives a million records intact', async (t) => {
  // The smallest ring: records up to 2032 bytes in 4 KiB.
  await stress(t, createRing(4096), 1_000_000, 0x5eed2, 'async');
});

for (const mode of ['sync', 'async'] as const) {
  test(`closeRing wakes a reader blocked in ${mode === 'sync' ? 'waitSync' : 'waitAsync'}(Infinity)`, async (t) => {
    const handle = createRing(4096);
    const waiter = run<{ ready: boolean; closed: boolean; frames: number[][] }>({ role: 'wait', handle, mode });
    const closer = run<string>({ role: 'close-when-waiting', handle });
    t.is(await closer, 'closed');
    t.deepEqual(await waiter, { ready: false, closed: true, frames: [] });
  });

  test(`a push wakes a reader blocked in ${mode === 'sync' ? 'waitSync' : 'waitAsync'}(Infinity)`, async (t) => {
    const handle = createRing(4096);
    const waiter = run<{ ready: boolean; closed: boolean; frames: number[][] }>({ role: 'wait', handle, mode });
    const pusher = run<boolean>({ role: 'push-when-waiting', handle });
    t.true(await pusher);
    t.deepEqual(await waiter, { ready: true, closed: false, frames: [[0x02, 0x00, 0x5e]] });
  });
}

test('a reader waiting with waitAsync(Infinity, false) under holdEventLoop stays alive until a push, then ends once released', async (t) => {
  const handle = createRing(4096);
  let worker: Worker | undefined;
  const waiter = run<{ ready: boolean; closed: boolean; frames: number[][] }>({ role: 'wait', handle, mode: 'held' }, (w) => (worker = w));
  const exited = once(worker!, 'exit');
  const pusher = run<boolean>({ role: 'push-when-waiting', handle });
  t.true(await pusher);
  t.deepEqual(await waiter, { ready: true, closed: false, frames: [[0x02, 0x00, 0x5e]] });
  t.deepEqual(await exited, [0], 'released: nothing holds the thread any more');
});

test('closeRing from another thread wakes waitAsync on this thread', async (t) => {
  const handle = createRing(4096);
  const reader = new RingReader(handle);
  const closer = run<string>({ role: 'close-when-waiting', handle });
  t.false(await reader.waitAsync(Infinity));
  t.true(reader.closed);
  t.is(await closer, 'closed');
});

test('a handle crosses postMessage and the ring works on both sides', async (t) => {
  const handle = createRing(65536);
  const reader = new RingReader(handle);
  let worker: Worker | undefined;
  const result = run<number>({ role: 'adopt' }, (w) => (worker = w));
  worker!.postMessage({ handle, count: 1000 });
  t.is(await result, 1000);
  const got: [number, bigint][] = [];
  t.is(reader.drain((f, ts) => got.push([f[0]! | (f[1]! << 8), ts])), 1000);
  t.deepEqual(got, Array.from({ length: 1000 }, (_, i) => [i, BigInt(i) * 1_000_000_000n]));
  t.like(ringStats(handle), { pushed: 1000, popped: 1000, dropped: 0 });
});

test('a ring created in a worker is read on the main thread', async (t) => {
  const worker = new Worker(script, { workerData: { role: 'create' } });
  t.teardown(() => void worker.terminate());
  const [handle] = (await once(worker, 'message')) as [RingHandle];
  const reader = new RingReader(handle);
  t.throws(() => new RingWriter(handle), { name: 'RingRoleTakenError' }); // the worker holds the writer
  worker.postMessage('go');
  t.deepEqual(await once(worker, 'message'), ['done']);
  const got: number[][] = [];
  t.is(reader.drain((f, ts) => got.push([...f, Number(ts)])), 3);
  t.deepEqual(got, [[1, 7], [2, 2, 7], [3, 3, 3, 7]]);
  t.true(reader.closed);
  t.false(reader.waitSync(0));
});

test('closeRing is idempotent and reaches a handle that came through structured clone', (t) => {
  const handle = createRing(4096);
  const copy = structuredClone(handle);
  const w = new RingWriter(copy);
  closeRing(handle);
  closeRing(copy);
  t.false(w.tryPush(new Uint8Array(10)));
  t.like(ringStats(copy), { closed: true, dropped: 1, droppedBytes: 10 });
});
