#!/usr/bin/env node
// @ts-check
// Baseline for sequential resolves: cap in the main thread, rounds of `--concurrency` requests (one per target, sent
// back to back) each waiting for all its replies before the next round, `--count` resolves in all after `--warmup`
// uncounted ones (so the JIT has compiled the loop, as in a long-lived program). Each resolve's latency runs from
// just before its Cap.send to the reply's packet event, on process.hrtime: what a caller of a single-thread resolver
// would see. Prints one JSON line: { latenciesNs, lost, elapsedNs, malformed }.
//
//   node resolve-loop.mjs --interface ez0 --first 10.77.0.2 --span 100 --count 1000 --concurrency 10 --warmup 50
//
// Round r asks for targets first + ((r × concurrency + i) mod span), so successive rounds move along the range.
// A reply that has not come within --timeout ms counts as lost (no retry): a baseline must not hide loss.
import { args, ipOption, openCapLink, wholeOption } from './cap-link.mjs';

const o = args('resolve-loop.mjs --interface IF --first IP [--span N] [--count N] [--concurrency N] [--warmup N] [--timeout MS]', {
  first: { type: 'string' },
  span: { type: 'string', default: '1' },
  count: { type: 'string', default: '1000' },
  concurrency: { type: 'string', default: '1' },
  warmup: { type: 'string', default: '0' },
  timeout: { type: 'string', default: '1000' },
});
const first = ipOption('first', o.first);
const span = wholeOption('span', o.span);
const count = wholeOption('count', o.count);
const concurrency = wholeOption('concurrency', o.concurrency);
const timeoutMs = wholeOption('timeout', o.timeout);
const warmup = wholeOption('warmup', o.warmup, 0);
if (concurrency > span) {
  process.stderr.write('--concurrency must not exceed --span: a round asks each target once\n');
  process.exit(2);
}

// A round's replies arrive back to back: libpcap's ring must hold them all (~66 KiB a slot, see cap-link.mjs), with
// room to spare (16 MiB at 100 concurrent, where 2 MiB lost two thirds of them). No larger: the ring counts in the
// peak RSS the bench compares, at about twice its size (measured), so a loop of one request at a time keeps 2 MiB.
const link = openCapLink(o.interface, Math.max(2 << 20, concurrency * (160 << 10)));
/** @type {number[]} */
const latenciesNs = [];
let lost = 0;
// The round in flight: target → hrtime at send; a target leaves the map when answered.
/** @type {Map<number, bigint>} */
const pending = new Map();
/** @type {() => void} */
let roundDone = () => {};
let recording = false;

link.onReply((ip) => {
  const sentAt = pending.get(ip);
  if (sentAt === undefined) return; // a late or duplicate reply: not part of this round
  if (recording) latenciesNs.push(Number(process.hrtime.bigint() - sentAt));
  pending.delete(ip);
  if (pending.size === 0) roundDone();
});

/**
 * Resolves `n` targets of round `round` concurrently; resolves when all have answered or --timeout has passed.
 * @param {number} round
 * @param {number} n
 * @param {boolean} record whether the latencies and losses count
 */
function runRound(round, n, record) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      if (record) lost += pending.size;
      pending.clear();
      resolve(undefined);
    }, timeoutMs);
    recording = record;
    roundDone = () => {
      clearTimeout(timer);
      resolve(undefined);
    };
    for (let i = 0; i < n; i++) {
      const target = /** @type {import('@ersatz/wire').Ipv4} */ ((first + ((round * concurrency + i) % span)) >>> 0);
      pending.set(target, process.hrtime.bigint());
      link.request(target);
    }
  });
}

let round = 0;
for (let done = 0; done < warmup; round++) {
  const n = Math.min(concurrency, warmup - done);
  await runRound(round, n, false);
  done += n;
}
const start = process.hrtime.bigint();
for (let done = 0; done < count; round++) {
  const n = Math.min(concurrency, count - done);
  await runRound(round, n, true);
  done += n;
}
const elapsedNs = Number(process.hrtime.bigint() - start);
link.close();
process.stdout.write(`${JSON.stringify({ latenciesNs, lost, elapsedNs, malformed: link.malformed })}\n`);
