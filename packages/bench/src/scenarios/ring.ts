// Frames between two threads: the SharedArrayBuffer ring against what Node offers without it: postMessage with a
// structured clone per frame, a MessageChannel transferring each frame's ArrayBuffer, and (to be fair to
// postMessage) one clone per batch of frames. Each transport runs in two fresh workers, a producer and a consumer,
// with a warm-up the consumer must finish before the producer starts the clock.
//
// This file is also the workers' entry point: a worker started with `workerData.ringBench` runs one side and exits.
import { MessageChannel, Worker, workerData, type MessagePort } from 'node:worker_threads';
import { createRing, RingReader, RingWriter, type RingHandle } from '@ersatz/ring';
import type { BenchContext, Measurement, PeerFigure, Scenario } from '../types.js';

const FRAME_BYTES = 60; // a minimum-size Ethernet frame without FCS: what an ARP request or reply is on the wire
const BATCH = 64;
const RING_BYTES = 1 << 20;

type Transport = 'ring-batch' | 'ring-single' | 'clone' | 'transfer' | 'clone-batch';

/**
 * What each worker is told. `sync`: Int32 [0] = consumer finished the warm-up, [1] = a word to nap on;
 * BigInt64 [1] = start ns, [2] = end ns.
 */
interface Job {
  readonly ringBench: 'produce' | 'consume';
  readonly transport: Transport;
  readonly warm: number;
  readonly count: number;
  readonly sync: SharedArrayBuffer;
  readonly handle?: RingHandle;
  readonly port?: MessagePort;
}

const LABEL: Record<Transport, string> = {
  'ring-batch': `ring, pushBatch(${BATCH}) / drain`,
  'ring-single': 'ring, tryPush per frame / drain',
  clone: 'postMessage, structured clone per frame',
  transfer: 'MessageChannel, ArrayBuffer transferred per frame',
  'clone-batch': `postMessage, one clone per ${BATCH} frames`,
};

/** How many frames each transport carries in one sample: about half a second at this machine's rates. */
const COUNT: Record<Transport, number> = {
  'ring-batch': 5_000_000,
  'ring-single': 2_000_000,
  clone: 300_000,
  transfer: 200_000,
  'clone-batch': 2_000_000,
};

// ---------------------------------------------------------------------------------------------------------------
// Worker side

function template(): Uint8Array {
  // An ARP request in its Ethernet frame, padded to 60 bytes; the content does not change the cost, the size does.
  const f = new Uint8Array(FRAME_BYTES);
  f.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1]);
  return f;
}

function produce(job: Job): void {
  const i32 = new Int32Array(job.sync);
  const clock = new BigInt64Array(job.sync);
  const frame = template();
  const frames: Uint8Array[] = Array.from({ length: BATCH }, () => frame.slice());
  const total = job.warm + job.count;
  let send: (n: number) => void; // sends frames n .. n+BATCH-1 (or just n for per-frame transports); never loses one
  if (job.transport === 'ring-batch' || job.transport === 'ring-single') {
    const w = new RingWriter(job.handle!);
    let spins = 0;
    const backoff = (): void => {
      // Full: the consumer is behind. Retry at once a few times, then yield the core briefly.
      if (++spins > 64) Atomics.wait(i32, 1, 0, 0.02);
    };
    send =
      job.transport === 'ring-batch'
        ? () => {
            // One capture timestamp per batch, as a batching producer would take it.
            const ts = process.hrtime.bigint();
            let done = w.pushBatch(frames, ts);
            while (done < BATCH) {
              backoff();
              done += w.pushBatch(frames.slice(done), ts);
            }
            spins = 0;
          }
        : () => {
            const ts = process.hrtime.bigint();
            while (!w.tryPush(frame, ts)) backoff();
            spins = 0;
          };
  } else {
    const port = job.port!;
    send =
      job.transport === 'clone'
        ? () => port.postMessage(frame)
        : job.transport === 'transfer'
          ? () => {
              const f = new Uint8Array(FRAME_BYTES); // each message needs its own buffer to give away
              f.set(frame);
              port.postMessage(f, [f.buffer]);
            }
          : () => port.postMessage(frames);
  }
  const step = job.transport === 'ring-batch' || job.transport === 'clone-batch' ? BATCH : 1;
  for (let n = 0; n < total; n += step) {
    if (n === job.warm) {
      // Start the clock only once the consumer has taken every warm-up frame, so no backlog is timed.
      for (let i = 0; i < 600_000 && Atomics.load(i32, 0) === 0; i++) Atomics.wait(i32, 0, 0, 100);
      if (Atomics.load(i32, 0) === 0) throw new Error('ring bench: the consumer never finished the warm-up');
      Atomics.store(clock, 1, process.hrtime.bigint());
    }
    send(n);
  }
  job.port?.close();
}

async function consume(job: Job): Promise<void> {
  const i32 = new Int32Array(job.sync);
  const clock = new BigInt64Array(job.sync);
  const total = job.warm + job.count;
  let got = 0;
  let sum = 0; // read a byte of each frame (the EtherType), as a decoder would, so no copy is optimised away
  const mark = (): void => {
    if (got === job.warm) {
      Atomics.store(i32, 0, 1);
      Atomics.notify(i32, 0);
    }
  };
  if (job.handle) {
    const r = new RingReader(job.handle);
    const onFrame = (f: Uint8Array): void => {
      sum += f[12]!;
    };
    let idle = 0;
    while (got < total) {
      // Drain at most up to the warm-up boundary so the boundary is seen exactly.
      const n = r.drain(onFrame, got < job.warm ? job.warm - got : Infinity);
      got += n;
      if (n > 0) {
        idle = 0;
        mark();
      } else if (!r.waitSync(1000) && ++idle > 60) {
        throw new Error(`ring bench: no frame for a minute after ${got}`);
      }
    }
  } else {
    const port = job.port!;
    await new Promise<void>((resolve, reject) => {
      const watchdog = setTimeout(() => reject(new Error(`ring bench: ${job.transport} stalled after ${got}`)), 120_000);
      port.on('message', (m: Uint8Array | Uint8Array[]) => {
        if (Array.isArray(m)) {
          for (const f of m) sum += f[12]!;
          got += m.length;
        } else {
          sum += m[12]!;
          got++;
        }
        if (got === job.warm) mark();
        if (got >= total) {
          clearTimeout(watchdog);
          port.close();
          resolve();
        }
      });
    });
  }
  Atomics.store(clock, 2, process.hrtime.bigint());
  if (sum !== total * 0x08) throw new Error(`ring bench: read ${sum} EtherType bytes, want ${total * 0x08}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Main side

function start(job: Job): Promise<void> {
  const w = new Worker(new URL(import.meta.url), { workerData: job, transferList: job.port ? [job.port] : [] });
  return new Promise((resolve, reject) => {
    w.once('error', reject);
    w.once('exit', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`ring bench ${job.ringBench} worker exited with ${code}`));
    });
  });
}

/** One sample: frames/s from the producer's first measured send to the consumer's last receive. */
async function sample(transport: Transport): Promise<number> {
  const count = COUNT[transport];
  const warm = Math.ceil(count / 10 / BATCH) * BATCH;
  const sync = new SharedArrayBuffer(24);
  const base = { transport, warm, count, sync };
  let jobs: [Job, Job];
  if (transport === 'ring-batch' || transport === 'ring-single') {
    const handle = createRing(RING_BYTES);
    jobs = [{ ...base, ringBench: 'consume', handle }, { ...base, ringBench: 'produce', handle }];
  } else {
    const { port1, port2 } = new MessageChannel();
    jobs = [{ ...base, ringBench: 'consume', port: port2 }, { ...base, ringBench: 'produce', port: port1 }];
  }
  await Promise.all(jobs.map(start));
  const clock = new BigInt64Array(sync);
  const ns = Number(clock[2]! - clock[1]!);
  return count / (ns / 1e9);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const fmt = (r: number): string => `${(r / 1e6).toFixed(2)} M/s`;

export const scenario: Scenario = {
  name: 'ring',
  description:
    `${FRAME_BYTES}-byte frames between two worker threads: ` +
    'SharedArrayBuffer ring vs postMessage and MessageChannel transfer',
  async run(ctx: BenchContext): Promise<Measurement[]> {
    const samples: Record<Transport, number[]> = {
      'ring-batch': [],
      'ring-single': [],
      clone: [],
      transfer: [],
      'clone-batch': [],
    };
    for (let rep = 0; rep < ctx.reps; rep++) {
      // Interleaved, so a noisy moment on the machine hits every transport alike.
      for (const t of Object.keys(samples) as Transport[]) {
        const rate = await sample(t);
        samples[t].push(rate);
        ctx.log(`ring: ${LABEL[t]}: ${fmt(rate)} (rep ${rep + 1}/${ctx.reps})`);
      }
    }
    const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])) as Record<Transport, number>;
    const peer = (t: Transport): PeerFigure => ({ name: LABEL[t], value: m[t], samples: samples[t] });
    const ratios = (x: number): string =>
      `ring/postMessage ${(x / m.clone).toFixed(1)}x, ring/transfer ${(x / m.transfer).toFixed(1)}x, ` +
      `ring/batched postMessage ${(x / m['clone-batch']).toFixed(1)}x`;
    ctx.log(`ring: batched ${ratios(m['ring-batch'])}`);
    const peers = [peer('clone'), peer('transfer'), peer('clone-batch')];
    return [
      {
        scenario: 'ring',
        what: `${FRAME_BYTES}-byte frames, 2 threads, ${LABEL['ring-batch']}`,
        unit: 'frames/s',
        better: 'higher',
        ersatz: m['ring-batch'],
        samples: samples['ring-batch'],
        peers,
        target: {
          text: '≥ 10× postMessage and ≥ 5 M frames/s',
          pass: m['ring-batch'] >= 10 * m.clone && m['ring-batch'] >= 5e6,
        },
        note:
          `${ratios(m['ring-batch'])}; ${RING_BYTES >> 10} KiB ring, one hrtime timestamp per batch, ` +
          'consumer reads a byte per frame',
      },
      {
        scenario: 'ring',
        what: `${FRAME_BYTES}-byte frames, 2 threads, ${LABEL['ring-single']}`,
        unit: 'frames/s',
        better: 'higher',
        ersatz: m['ring-single'],
        samples: samples['ring-single'],
        peers,
        note:
          `${ratios(m['ring-single'])}; one hrtime timestamp and one publish per frame, ` +
          'as a per-packet capture callback would',
      },
    ];
  },
};

// Worker entry: runs one side when started by sample() above, nothing when imported.
const job = workerData as Job | null | undefined;
if (job && typeof job === 'object' && 'ringBench' in job) {
  if (job.ringBench === 'produce') produce(job);
  else await consume(job);
}
