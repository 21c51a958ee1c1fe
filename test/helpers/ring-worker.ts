/**
 * Worker side of test/ring-threads.test.ts. `workerData.role` picks the job; every job posts one result message
 * (or throws, which the test sees as an 'error' event). Every loop is bounded in count and time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { once } from 'node:events';
import { closeRing, createRing, holdEventLoop, RingReader, ringStats, RingWriter, type RingHandle } from '@ersatz/ring';
import { FNV_SEED, fnv, PayloadStream } from './ring-payload.js';

const port = parentPort!;
const nap = new Int32Array(new SharedArrayBuffer(4));
/** Sleeps this thread without spinning (workers may block). */
function sleep(ms: number): void {
  Atomics.wait(nap, 0, 0, ms);
}

/** Polls until the reader has announced it is waiting, then gives it time to fall asleep in the kernel. */
function whenReaderWaits(h: RingHandle): void {
  for (let i = 0; i < 10_000 && !ringStats(h).readerWaiting; i++) sleep(1);
  if (!ringStats(h).readerWaiting) throw new Error('reader never announced a wait');
  sleep(100);
}

export interface ProduceResult { pushed: number; refused: number; checksum: number }
export interface ConsumeResult { received: number; checksum: number; error?: string; waits: number }

function produce(h: RingHandle, count: number, seed: number): ProduceResult {
  const w = new RingWriter(h);
  const gen = new PayloadStream(seed, w.maxFrameBytes);
  const slots = Array.from({ length: 64 }, () => new Uint8Array(w.maxFrameBytes));
  let rnd = seed ^ 0x9e3779b9;
  let checksum = FNV_SEED;
  let refused = 0;
  let pushed = 0;
  let spins = 0;
  const deadline = Date.now() + 60_000;
  while (pushed < count) {
    rnd ^= rnd << 13; rnd ^= rnd >>> 17; rnd ^= rnd << 5;
    const k = Math.min(count - pushed, (rnd & 1) === 0 ? 1 : 1 + ((rnd >>> 1) & 63));
    const frames: Uint8Array[] = [];
    const ts: bigint[] = [];
    for (let i = 0; i < k; i++) {
      ts.push(PayloadStream.ts(gen.seq));
      frames.push(slots[i]!.subarray(0, gen.next(slots[i]!)));
    }
    for (let done = 0; done < k; ) {
      const n = k === 1 ? (w.tryPush(frames[0]!, ts[0]) ? 1 : 0) : w.pushBatch(frames.slice(done), ts.slice(done));
      for (let i = done; i < done + n; i++) checksum = fnv(checksum, frames[i]!);
      done += n;
      if (done < k) {
        refused++; // exactly one refused push per short batch or false tryPush
        // Retry at once for a while (the consumer runs on another core), then nap: a stalled consumer must not
        // cost a core.
        if (++spins > 50) {
          if (Date.now() > deadline) throw new Error(`producer stalled after ${pushed + done} records`);
          sleep(0.05);
        }
      } else {
        spins = 0;
      }
    }
    pushed += k;
    // Pause every 100 000 records (half a period after the consumer's stalls) so the consumer meets an empty ring.
    if ((pushed + 50_000) % 100_000 < k) sleep(5);
  }
  return { pushed, refused, checksum };
}

async function consume(h: RingHandle, count: number, seed: number, mode: 'sync' | 'async'): Promise<ConsumeResult> {
  const r = new RingReader(h);
  const gen = new PayloadStream(seed, (h.dataBytes >> 1) - 16);
  const want = new Uint8Array(gen.maxLen);
  let checksum = FNV_SEED;
  let received = 0;
  let waits = 0;
  let error: string | undefined;
  const check = (frame: Uint8Array, tsNs: bigint): void => {
    const seq = gen.seq;
    const len = gen.next(want);
    const wantTs = PayloadStream.ts(seq);
    if (tsNs !== wantTs) error ??= `record ${seq}: ts ${tsNs}, want ${wantTs}`;
    if (frame.length !== len) error ??= `record ${seq}: length ${frame.length}, want ${len}`;
    else for (let i = 0; i < len; i++) if (frame[i] !== want[i]) { error ??= `record ${seq}: byte ${i} differs`; break; }
    checksum = fnv(checksum, frame);
    received++;
  };
  let rnd = seed ^ 0x7f4a7c15;
  while (received < count && error === undefined) {
    rnd ^= rnd << 13; rnd ^= rnd >>> 17; rnd ^= rnd << 5;
    const n = r.drain(check, (rnd & 3) === 0 ? Infinity : 1 + ((rnd >>> 2) & 255));
    // Stall every 100 000 records so the producer meets a full ring.
    if (received % 100_000 < n) sleep(5);
    if (n === 0) {
      waits++;
      const ready = mode === 'sync' ? r.waitSync(10_000) : await r.waitAsync(10_000);
      if (!ready) { error = r.closed ? `ring closed after ${received} records` : `no record for 10 s after ${received}`; }
    }
  }
  return { received, checksum, waits, ...(error === undefined ? {} : { error }) };
}

const job = workerData as { role: string; handle?: RingHandle; count?: number; seed?: number; mode?: 'sync' | 'async' | 'held' };
switch (job.role) {
  case 'produce':
    port.postMessage(produce(job.handle!, job.count!, job.seed!));
    break;
  case 'consume':
    port.postMessage(await consume(job.handle!, job.count!, job.seed!, job.mode as 'sync' | 'async'));
    break;
  case 'wait': {
    // Block in waitSync/waitAsync with no timeout: only a wake can end it. 'held': no timer of the wait's own, only
    // holdEventLoop keeps this thread alive (nothing else here holds its event loop), released once woken.
    const r = new RingReader(job.handle!);
    const release = job.mode === 'held' ? holdEventLoop() : undefined;
    const ready = job.mode === 'sync' ? r.waitSync(Infinity) : await r.waitAsync(Infinity, job.mode !== 'held');
    release?.();
    const frames: number[][] = [];
    r.drain((f) => frames.push([...f]));
    port.postMessage({ ready, closed: r.closed, frames });
    break;
  }
  case 'close-when-waiting':
    whenReaderWaits(job.handle!);
    closeRing(job.handle!);
    port.postMessage('closed');
    break;
  case 'push-when-waiting': {
    const w = new RingWriter(job.handle!);
    whenReaderWaits(job.handle!);
    port.postMessage(w.tryPush(Uint8Array.of(0x02, 0x00, 0x5e)));
    break;
  }
  case 'adopt': {
    // The handle arrives by postMessage, not workerData.
    const [msg] = (await once(port, 'message')) as [{ handle: RingHandle; count: number }];
    const w = new RingWriter(msg.handle);
    let pushed = 0;
    for (let i = 0; i < msg.count; i++) if (w.tryPush(Uint8Array.of(i & 0xff, i >> 8), BigInt(i) * 1_000_000_000n)) pushed++;
    port.postMessage(pushed);
    break;
  }
  case 'create': {
    // A ring made in a worker works the same: hand its handle to the parent, then write into it.
    const handle = createRing(8192);
    const w = new RingWriter(handle);
    port.postMessage(handle);
    await once(port, 'message');
    w.pushBatch([Uint8Array.of(1), Uint8Array.of(2, 2), Uint8Array.of(3, 3, 3)], 7n);
    closeRing(handle);
    port.postMessage('done');
    break;
  }
  default:
    throw new Error(`unknown role ${job.role}`);
}
