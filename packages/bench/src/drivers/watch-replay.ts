// The watch detector's memory over a long capture (issue #16): writes a capture of --frames ARP frames (a /16 LAN of
// --stations stations talking at 1000 frames/s of capture time, with NIC swaps, bogons and floods), then replays
// it through what `ersatz watch --replay` runs (Detector, StationStore, replayRecords), reading the V8 heap and RSS
// after a full GC every --every frames. Needs no lab: nothing is sent.
//
//   node --expose-gc dist/drivers/watch-replay.js --frames N [--stations N] [--every N] --dir DIR
//
// Prints { samples: [{ frames, heapUsedKiB, rssKiB }], frames, malformed, events, elapsedMs, writeMs, fileBytes }.
import { parseArgs } from 'node:util';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { PcapWriter, streamPcapFile, type PcapRecord } from '@ersatz/pcap';
import { ArpOp, Cidr, Ipv4, Mac, emitArpFrame } from '@ersatz/wire';
import { Detector, StationStore, replayRecords } from '@ersatz/watch';
import { orUsage, whole } from './common.js';

const o = orUsage('watch-replay.js --frames N [--stations N] [--every N] --dir DIR', () =>
  parseArgs({ strict: true, options: { frames: { type: 'string' }, stations: { type: 'string', default: '2000' }, every: { type: 'string', default: '500000' }, dir: { type: 'string' } } }).values,
);
const frames = whole('frames', o.frames);
const stations = whole('stations', o.stations);
const every = whole('every', o.every);
if (o.dir === undefined) throw new Error('--dir is required');
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

const NET = Ipv4.parse('10.60.0.0');
const T0_MS = 1_700_000_000_000;

/** xorshift32, seeded: the same capture every run. */
let seed = 0x2545f491;
const rand = (n: number): number => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
};
const macOf = (i: number, generation: number): Mac => Mac.fromBytes(new Uint8Array([0x02, 0x5e, generation & 0xff, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff]));

async function writeCapture(path: string): Promise<void> {
  const w = await PcapWriter.open(path, { precision: 'us' });
  const generation = new Uint8Array(stations);
  const buf = new Uint8Array(60);
  for (let n = 0; n < frames; n++) {
    const atNs = BigInt(T0_MS + Math.floor(n / 1000) * 1000 + (n % 1000)) * 1_000_000n;
    // Mostly stations asking for each other; a NIC swap every 100 000 frames; a bogon (a random sender outside the
    // subnet) every 10 000; a burst of 200 from one MAC every 1 000 000.
    let i = rand(stations);
    if (n % 100_000 === 0) generation[i]!++;
    const bogon = n % 10_000 === 5000;
    const flood = n % 1_000_000 < 200;
    if (flood) i = 0;
    const ip = bogon ? Ipv4.parse(`192.0.2.${1 + rand(254)}`) : (((NET + 1 + i) >>> 0) as Ipv4);
    const mac = bogon ? macOf(0xffff00 + rand(256), 0) : macOf(i, generation[i]!);
    emitArpFrame(buf, {
      dst: Mac.BROADCAST,
      src: mac,
      arp: { operation: rand(10) === 0 ? ArpOp.Reply : ArpOp.Request, senderMac: mac, senderIp: ip, targetMac: Mac.ZERO, targetIp: ((NET + 1 + rand(stations)) >>> 0) as Ipv4 },
    });
    w.write(atNs, buf);
  }
  await w.close();
}

const file = join(o.dir, 'replay.pcap');
const t0 = performance.now();
await writeCapture(file);
const writeMs = performance.now() - t0;
const reader = await streamPcapFile(file);
const store = await StationStore.open(join(o.dir, 'stations.db'));
const detector = new Detector([{ ifname: 'lan0', mac: null, subnets: [Cidr.parse('10.60.0.0/16')], gateway: ((NET + 1) >>> 0) as Ipv4 }]);
const samples: { frames: number; heapUsedKiB: number; rssKiB: number }[] = [];
let events = 0;
let seen = 0;
/** The records, with a memory reading every `every`. */
function* sampled(records: Iterable<PcapRecord>): Generator<PcapRecord> {
  for (const r of records) {
    yield r;
    if (++seen % every === 0) {
      gc!();
      const m = process.memoryUsage();
      samples.push({ frames: seen, heapUsedKiB: m.heapUsed / 1024, rssKiB: m.rss / 1024 });
    }
  }
}
const t1 = performance.now();
const counts = replayRecords(sampled(reader), 'lan0', detector, (batch) => {
  events += batch.events.length;
  store.write(batch);
});
const elapsedMs = performance.now() - t1;
store.close();
process.stdout.write(`${JSON.stringify({ samples, ...counts, events, elapsedMs, writeMs, fileBytes: statSync(file).size })}\n`);
