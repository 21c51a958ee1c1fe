// The wire codecs on the hot paths: ARP frames parsed into plain values (parseArpFrame) and built into a reused
// buffer (emitArpFrame), beside cap's own JavaScript decoders (`require('cap').decoders.Ethernet` + `.ARP`) on the
// same frames in the same process. And the claim that emitting allocates nothing, measured: the growth of V8's used
// heap over 1e6 emits plus whatever GCs freed meanwhile (v8.GCProfiler), with parseArpFrame (which must allocate
// its strings and objects) as the control that shows the method sees allocation when there is some.
//
// Stand-alone: `node packages/bench/dist/scenarios/codec.js [--reps N]` prints the same rows.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { GCProfiler, getHeapStatistics } from 'node:v8';
import { ArpOp, Ipv4, Mac, decodeFrame, emitArpFrame, parseArpFrame, type ArpFrameOptions } from '@ersatz/wire';
import type { BenchContext, Measurement, Scenario } from '../types.js';

// cap's decoders are plain JavaScript (cap/lib/Decoders.js, the very object `require('cap').decoders` returns).
// Requiring that file directly keeps cap's native addon out of this process: it loads in one Node environment per
// process only, and another scenario's capture worker may need it.
interface CapInfo { info: Record<string, unknown>; offset: number }
const capDecoders = createRequire(import.meta.url)('cap/lib/Decoders.js') as {
  Ethernet(b: Buffer, offset?: number): CapInfo;
  ARP(b: Buffer, offset?: number): CapInfo;
};

const DISTINCT = 1024; // frames cycled through, so no branch or cache sees one frame only
const SAMPLE_NS = 400_000_000n; // each throughput sample runs about 0.4 s
const EMITS = 1_000_000;

/** ARP requests and replies (a quarter 802.1Q-tagged), padded to 60 bytes, as Buffers (cap's decoders need Buffer). */
function workload(): { frames: Buffer[]; options: ArpFrameOptions[] } {
  const options: ArpFrameOptions[] = [];
  for (let i = 0; i < DISTINCT; i++) {
    const a = Mac.fromBytes(new Uint8Array([0x02, 0, 0, 0, i >> 8, i & 0xff]));
    const b = Mac.fromBytes(new Uint8Array([0x02, 0, 0, 1, i >> 8, i & 0xff]));
    const ipA = Ipv4.fromNumber((0xc6336400 + (i & 0xff)) >>> 0); // 198.51.100.x
    const ipB = Ipv4.fromNumber((0xcb007100 + ((i * 7) & 0xff)) >>> 0); // 203.0.113.x
    const request = i % 2 === 0;
    options.push({
      dst: request ? Mac.BROADCAST : b,
      src: a,
      ...(i % 4 === 1 && { vlan: i % 4095 }),
      arp: { operation: request ? ArpOp.Request : ArpOp.Reply, senderMac: a, senderIp: ipA, targetMac: request ? Mac.ZERO : b, targetIp: ipB },
    });
  }
  const frames = options.map((o) => {
    const buf = Buffer.alloc(60);
    emitArpFrame(buf, o);
    return buf;
  });
  return { frames, options };
}

/**
 * Runs `batch` (which handles DISTINCT frames) for about SAMPLE_NS of wall time. Returns frames per CPU-second of
 * this process: on a shared machine the wall-clock rate swings with everyone else's load (measured 1.7–5.9 M/s for
 * the same emit loop in one minute), CPU time much less (4.6–6.8 M/s).
 */
function rate(batch: () => void): number {
  let frames = 0;
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  while (process.hrtime.bigint() - start < SAMPLE_NS) {
    batch();
    frames += DISTINCT;
  }
  const cpu = process.cpuUsage(cpu0);
  return frames / ((cpu.user + cpu.system) / 1e6);
}

let sink = 0; // every result feeds this, so the JIT cannot drop the work

function contenders(frames: Buffer[], options: ArpFrameOptions[]) {
  const out = Buffer.alloc(60);
  return {
    parse: () => {
      for (let i = 0; i < DISTINCT; i++) {
        const f = parseArpFrame(frames[i]!);
        sink += f.arp.senderIp + f.ethSrc.length + (f.vlan ?? 0);
      }
    },
    cap: () => {
      for (let i = 0; i < DISTINCT; i++) {
        const b = frames[i]!;
        const eth = capDecoders.Ethernet(b);
        const arp = capDecoders.ARP(b, eth.offset);
        sink += (arp.info.senderip as string).length + (eth.info.srcmac as string).length + ((eth.info.vlan as { VID: number } | undefined)?.VID ?? 0);
      }
    },
    decode: () => {
      for (let i = 0; i < DISTINCT; i++) sink += decodeFrame(frames[i]!).arp!.op!;
    },
    emit: () => {
      for (let i = 0; i < DISTINCT; i++) sink += emitArpFrame(out, options[i]!);
    },
  };
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * Heap bytes allocated per call of `fn` over `n` calls, and the GCs that ran meanwhile: the growth of V8's used heap
 * plus what each GC in between freed, both read synchronously (v8.GCProfiler reports every GC with the heap before
 * and after it). With no GC during the loop the figure is exact; a GC also counts garbage made just before the loop
 * (at most one young generation, a few bytes per call over 1e6 calls). No forced GC first: right after one, V8's
 * heap accounting moves by ~100 kB on its own (measured), which would drown a zero.
 */
function allocation(fn: (i: number) => void, n: number): { bytes: number; gcs: number } {
  // Warm-up: compiled code lives on the heap too, so let V8 optimise this loop and `fn` before counting.
  for (let i = 0; i < n / 4; i++) fn(i);
  const profiler = new GCProfiler();
  profiler.start();
  const before = getHeapStatistics().used_heap_size;
  for (let i = 0; i < n; i++) fn(i);
  const after = getHeapStatistics().used_heap_size;
  const { statistics } = profiler.stop();
  let freed = 0;
  for (const gc of statistics) freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize;
  return { bytes: after - before + freed, gcs: statistics.length };
}

async function run(ctx: BenchContext): Promise<Measurement[]> {
  const { frames, options } = workload();
  const c = contenders(frames, options);
  // Warm-up: every contender reaches its optimised code before any clock runs.
  for (let i = 0; i < 300; i++) for (const f of Object.values(c)) f();

  const samples = { parse: [] as number[], cap: [] as number[], decode: [] as number[], emit: [] as number[] };
  const reps = Math.max(3, ctx.reps);
  for (let r = 0; r < reps; r++) {
    // Interleaved, so drift in the machine's speed hits every contender alike.
    for (const k of Object.keys(samples) as (keyof typeof samples)[]) samples[k].push(rate(c[k]));
    ctx.log(`codec: rep ${r + 1}/${reps}: parse ${fmt(samples.parse.at(-1)!)}, cap ${fmt(samples.cap.at(-1)!)}, decodeFrame ${fmt(samples.decode.at(-1)!)}, emit ${fmt(samples.emit.at(-1)!)} frames/CPU-s`);
  }

  const out = Buffer.alloc(60);
  // The same loop around a call that allocates nothing: what measuring itself costs (about 1 kB, once the
  // first run has paid the profiler's set-up, which the discarded run absorbs).
  allocation((i) => void options[i & (DISTINCT - 1)], EMITS);
  const harness = allocation((i) => void options[i & (DISTINCT - 1)], EMITS);
  const emitAlloc = allocation((i) => emitArpFrame(out, options[i & (DISTINCT - 1)]!), EMITS);
  const parseAlloc = allocation((i) => (sink += parseArpFrame(frames[i & (DISTINCT - 1)]!).arp.targetIp), EMITS);
  const emitPerFrame = emitAlloc.bytes / EMITS;
  const parsePerFrame = parseAlloc.bytes / EMITS;
  ctx.log(`codec: over 1e6 calls: harness ${harness.bytes} B (${harness.gcs} GCs), emitArpFrame ${emitAlloc.bytes} B (${emitAlloc.gcs} GCs), parseArpFrame ${parseAlloc.bytes} B (${parseAlloc.gcs} GCs)`);

  const parse = median(samples.parse);
  const cap = median(samples.cap);
  const capPeer = { name: 'cap decoders.Ethernet + .ARP', value: cap, samples: samples.cap };
  return [
    {
      scenario: 'codec',
      what: 'ARP frame parse → Repr (parseArpFrame)',
      unit: 'frames/CPU-s',
      better: 'higher',
      ersatz: parse,
      samples: samples.parse,
      peers: [capPeer],
      target: { text: '≥ 2× cap decoders', pass: parse >= 2 * cap },
      note: `${(parse / cap).toFixed(1)}× cap; ${DISTINCT} distinct 60-byte requests/replies, a quarter 802.1Q-tagged, as Buffers`,
    },
    {
      scenario: 'codec',
      what: 'frame → decode JSON (decodeFrame)',
      unit: 'frames/CPU-s',
      better: 'higher',
      ersatz: median(samples.decode),
      samples: samples.decode,
      peers: [capPeer],
      note: 'the `ersatz decode --json` shape: every field formatted as text',
    },
    {
      scenario: 'codec',
      what: 'ARP frame emit into a reused buffer (emitArpFrame)',
      unit: 'frames/CPU-s',
      better: 'higher',
      ersatz: median(samples.emit),
      samples: samples.emit,
      peers: [{ name: 'cap', value: null, note: 'cap has no encoder' }],
    },
    {
      scenario: 'codec',
      what: 'heap allocated per emitArpFrame (1e6 calls)',
      unit: 'B/frame',
      better: 'lower',
      ersatz: emitPerFrame,
      peers: [{ name: 'control: parseArpFrame', value: parsePerFrame, note: `${parseAlloc.gcs} GCs during 1e6 parses` }],
      target: { text: 'no GC over 1e6 emits, and no more heap than the empty loop (+1 kB)', pass: emitAlloc.gcs === 0 && emitAlloc.bytes <= harness.bytes + 1024 },
      note: `1e6 emits: ${emitAlloc.bytes} B in all, ${emitAlloc.gcs} GCs; the empty loop: ${harness.bytes} B. Heap growth + bytes freed by GCs (v8.GCProfiler)`,
    },
  ];
}

function fmt(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${(n / 1e3).toFixed(0)}k`;
}

export const scenario: Scenario = {
  name: 'codec',
  description: 'ARP parse and emit rates against cap’s decoders; allocation on the emit path',
  run,
};

// Stand-alone run for a quick measurement.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { reps: { type: 'string', default: '3' } } });
  const rows = await run({ reps: Number(values.reps), root: process.cwd(), log: (line) => process.stderr.write(`${line}\n`) });
  for (const r of rows) {
    const peers = r.peers.map((p) => `${p.name}: ${p.value === null ? '-' : Number(p.value.toPrecision(4))}`).join(', ');
    process.stdout.write(`${r.what}: ${Number(r.ersatz.toPrecision(4))} ${r.unit}${peers ? ` | ${peers}` : ''}${r.target ? ` | target ${r.target.text}: ${r.target.pass ? 'met' : 'MISSED'}` : ''}\n`);
  }
}
