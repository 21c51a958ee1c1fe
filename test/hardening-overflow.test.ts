// Issue #8, ring overflow. When a consumer stalls, its producer drops and counts instead of blocking or corrupting,
// and once the consumer resumes everything flows again by itself. First on a real decode worker driven through its
// rings (the test is the capture and the main thread): the events ring fills while nobody reads it, the decoder
// keeps consuming, counts what it could not deliver, and what was delivered is intact; an rx ring pushed faster than
// it drains refuses and counts. Then end to end: the main thread of a live link blocked during a flood of ARP frames
// (events ring overflows, a resolve afterwards works), and a whole `ersatz scan` process stopped (SIGSTOP) during a
// flood (the kernel's capture buffer overflows): the drops show in stats and in the --json summary, and the sweep,
// resumed, still finds every host.
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { responderLab, twoHostLab } from '@ersatz/lab';
import { closeRing, createRing, RingReader, RingWriter, ringStats } from '@ersatz/ring';
import { readEvent, spawnDecode, type ArpEvent } from '@ersatz/decode-worker';
import { ArpOp, Ipv4, Mac, emitArpFrame } from '@ersatz/wire';
import { jsonLines, startErsatz, show } from './helpers/cmd-run.js';
import { probe, startAttacker, UNTIL_STOPPED_MS, watch } from './helpers/hardening-run.js';

const SRC = Mac.parse('02:00:5e:00:53:0a');
const BASE = Ipv4.parse('198.51.100.0');

/** ARP request number `n` (its sender IP carries n, so a delivered event says which frame it was). */
function request(n: number): Uint8Array {
  const buf = new Uint8Array(60);
  // 02:00:5e:00:53:0a > ff:ff:ff:ff:ff:ff, ARP, Request who-has 203.0.113.7 tell <BASE + n>, length 28
  emitArpFrame(buf, { src: SRC, dst: Mac.BROADCAST, arp: { operation: ArpOp.Request, senderMac: SRC, senderIp: (BASE + n) as Ipv4, targetMac: Mac.ZERO, targetIp: Ipv4.parse('203.0.113.7') } });
  return buf;
}

/** Waits (bounded) until `cond` holds. */
async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = performance.now() + ms;
  while (!(await cond())) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

test('a stalled events consumer: the decoder drops and counts, never blocks; what got through is intact; it resumes by itself', async (t) => {
  const rx = createRing(1 << 20);
  const events = createRing(4096); // the smallest ring: 73 ARP events
  const { worker, api } = spawnDecode({ rx, events });
  t.teardown(() => void worker.terminate());
  const writer = new RingWriter(rx);
  const reader = new RingReader(events);
  const STALLED = 10_000;
  for (let n = 0; n < STALLED; n++) {
    while (!writer.tryPush(request(n), BigInt(n + 1))) await sleep(1);
  }
  // Nobody reads the events ring, yet the decoder takes every frame: it does not wait for room.
  await until(() => ringStats(rx).popped === STALLED, 'the decoder to consume the stalled burst');
  const stalled = await api.stats();
  const got: ArpEvent[] = [];
  const read = () => reader.drain((rec, ts) => got.push(readEvent(rec, ts) as ArpEvent));
  read();
  const kept = got.length;
  t.true(kept > 0 && kept < 100, `${kept} events fitted`);
  t.is(stalled.arp, STALLED);
  t.is(stalled.eventsDropped, STALLED - kept, 'every event that did not fit is counted');
  t.is(ringStats(events).dropped, STALLED - kept);

  // Resumed: a reader that keeps up (batches of 32, each read before the next: less than the ring holds) gets them all.
  const MORE = 2048;
  for (let n = STALLED; n < STALLED + MORE; n += 32) {
    for (let k = n; k < n + 32; k++) while (!writer.tryPush(request(k), BigInt(k + 1))) await sleep(1);
    await until(() => (read(), got.length === kept + (n + 32 - STALLED)), 'the resumed frames');
  }
  // Intact and in order: the first `kept` frames of the burst, then every later one; each event is its frame.
  const numbers = got.map((e) => e.arp.senderIp - BASE);
  t.deepEqual(numbers, [...Array.from({ length: kept }, (_, i) => i), ...Array.from({ length: MORE }, (_, i) => STALLED + i)]);
  t.true(got.every((e) => Number(e.tsNs) === e.arp.senderIp - BASE + 1 && e.ethSrc === SRC && e.arp.operation === ArpOp.Request));
  t.is((await api.stats()).eventsDropped, STALLED - kept, 'no drops once the consumer reads again');
  await api.close();
  await worker.terminate();
});

test('a producer faster than its consumer: the rx ring refuses and counts, every frame it took is decoded', async (t) => {
  const rx = createRing(4096);
  const events = createRing(1 << 20);
  const { worker, api } = spawnDecode({ rx, events });
  t.teardown(() => void worker.terminate());
  const writer = new RingWriter(rx);
  // A burst with no pause, as a capture thread would push: never waiting, it takes what fits.
  let accepted = 0;
  const BURST = 100_000;
  for (let n = 0; n < BURST; n++) if (writer.tryPush(request(n), BigInt(n + 1))) accepted++;
  const refused = BURST - accepted;
  await until(async () => (await api.stats()).frames === accepted, 'the decoder to take what was accepted');
  t.true(refused > 0, 'the ring was overrun');
  t.is(ringStats(rx).dropped, refused);
  t.is(ringStats(rx).pushed, accepted);
  const reader = new RingReader(events);
  let delivered = 0;
  let wrong = 0;
  reader.drain((rec, ts) => {
    delivered++;
    const ev = readEvent(rec, ts) as ArpEvent;
    if (Number(ts) !== ev.arp.senderIp - BASE + 1) wrong++;
  });
  t.is(delivered, accepted);
  t.is(wrong, 0);
  await api.close();
  closeRing(rx);
  await worker.terminate();
});

interface StallProbe {
  result: { mac: string } | null;
  error: unknown;
  stalled: { decode: { eventsDropped: number }; rings: { events: { dropped: number } } };
  stats: { decode: { eventsDropped: number; arp: number }; rings: { events: { dropped: number } }; main: { events: number; badRecords: number } };
}

test('a live link whose main thread blocks during a flood drops events and counts them, then resolves as usual', async (t) => {
  const { lab, host, peer } = twoHostLab('hovm');
  t.teardown(() => lab.destroy());
  const flood = await startAttacker(lab, peer.ns, 'flood', { ifname: peer.ifname, valid: true, ms: UNTIL_STOPPED_MS, maxFrames: 50_000_000 });
  const { result, leftOpen } = await probe<StallProbe>(lab, host.ns, 'stall', { ip: peer.ip, stallMs: 2000, query: { tries: 3, intervalMs: 1000 } });
  const sent = await flood.stop();
  t.log(`flood ${sent.sent} requests; events dropped ${result.stats.decode.eventsDropped}, delivered ${result.stats.main.events} of ${result.stats.decode.arp}`);
  t.true(result.stalled.decode.eventsDropped > 0, 'the events ring overflowed while the main thread was blocked');
  t.is(result.stats.rings.events.dropped, result.stats.decode.eventsDropped);
  t.is(result.stats.main.badRecords, 0, 'nothing corrupt was read back');
  t.is(result.error, null);
  t.is(result.result?.mac, peer.mac);
  t.deepEqual(leftOpen, []);
});

test('a scan process stopped during a flood: the kernel buffer overflows, --json summary counts it, the resumed sweep finds every host', async (t) => {
  const { lab, host, responders } = responderLab('hovs', { cidr: '10.77.0.0/24' });
  t.teardown(() => lab.destroy());
  const r0 = responders[0]!;
  const child = startErsatz(lab, host.ns, ['scan', '10.77.0.0/24', '--rate', '100', '--tries', '4', '--json']);
  const run = watch(child);
  await run.waitFor(/(\{"type":"host","ip":[^\n]*\n){20}/);
  const flood = await startAttacker(lab, r0.ns, 'flood', { ifname: r0.ifname, ms: UNTIL_STOPPED_MS, maxFrames: 50_000_000, seed: 4 });
  // Every thread of the process stops: nothing drains the capture while the flood goes on, until more frames have
  // come than the capture buffer holds (32 MiB: about 161 000 ARP-sized frames).
  child.kill('SIGSTOP');
  const atStop = flood.sent;
  try {
    await until(() => flood.sent >= atStop + 300_000 || !flood.running, 'the flood', 30_000);
  } finally {
    child.kill('SIGCONT');
  }
  const sent = await flood.stop();
  const { code } = await run.exited;
  const r = { code, signal: null, stdout: run.stdout(), stderr: run.stderr() };
  t.is(code, 0, show(r).slice(-2000));
  const lines = jsonLines(r.stdout);
  const { summary } = lines.pop() as { summary: { hosts: number; answered: number; duplicates: number; drops: Record<string, number | null> } };
  t.log(`flood ${sent.sent} frames; summary ${JSON.stringify(summary)}`);
  const dropped = Object.values(summary.drops).reduce<number>((a, b) => a + (b ?? 0), 0);
  t.true(dropped > 0, 'the overflow is in the summary');
  t.true((summary.drops['kernel'] ?? 0) > 0, 'the kernel buffer overflowed while the process was stopped');
  t.like(summary, { hosts: 254, answered: 254, duplicates: 0 });
  t.is(new Set(lines.map((l) => l['ip'])).size, 254);
});
