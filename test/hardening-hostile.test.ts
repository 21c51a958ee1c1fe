// Issue #8, hostile frames. (1) A million frames (captures, mutations of them, random bytes of every size from 0 to
// 9018) pushed straight into a real decode worker's rx ring: the worker neither dies nor stalls, every frame is an
// event or counted (ignored, or malformed under a reason), and every event is what @ersatz/wire's own parsers make
// of its frame. (2) A peer flooding garbage as fast as its socket takes it does not stop a resolve of a real host,
// through the API and through the CLI.
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { twoHostLab } from '@ersatz/lab';
import { closeRing, createRing, RingReader, RingWriter, ringStats } from '@ersatz/ring';
import { readEvent, spawnDecode, type DecodeStats, type PipelineEvent } from '@ersatz/decode-worker';
import { ersatz, show } from './helpers/cmd-run.js';
import { probe, startAttacker, UNTIL_STOPPED_MS } from './helpers/hardening-run.js';
import { CORPUS, FrameFuzzer, MAX_FRAME, expectedEvent, type Expected } from './helpers/hardening-fuzz.js';

const FRAMES = 1_000_000;
// Replay a failure with ERSATZ_FUZZ_SEED=<the seed it logged>.
const SEED = Number(process.env['ERSATZ_FUZZ_SEED'] ?? 0x5eed_0008);

/** Where an event and its expectation disagree, or '' when they agree. */
function mismatch(ev: PipelineEvent, want: Expected): string {
  if (want.kind === 'arp') {
    if (ev.kind !== 'arp') return `want an arp event, got ${ev.kind}`;
    const f = want.frame;
    const same = ev.ethSrc === f.ethSrc && ev.ethDst === f.ethDst && ev.vlan === f.vlan && JSON.stringify(ev.arp) === JSON.stringify(f.arp);
    return same ? '' : `arp event ${JSON.stringify(ev, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))} != ${JSON.stringify(f)}`;
  }
  if (want.kind === 'ndp') {
    if (ev.kind !== 'ndp') return `want an ndp event, got ${ev.kind}`;
    const got = { kind: ev.kind, vlan: ev.vlan, type: ev.type, src: ev.src, dst: ev.dst, target: ev.target, linkAddress: ev.linkAddress };
    return JSON.stringify(got) === JSON.stringify(want) ? '' : `ndp event ${JSON.stringify(got)} != ${JSON.stringify(want)}`;
  }
  if (ev.kind !== 'icmp') return `want an icmp event, got ${ev.kind}`;
  const got = { vlan: ev.vlan, src: ev.src, dst: ev.dst, type: ev.type, code: ev.code, id: ev.id, seq: ev.seq };
  const { kind: _, ...w } = want;
  return JSON.stringify(got) === JSON.stringify(w) ? '' : `icmp event ${JSON.stringify(got)} != ${JSON.stringify(w)}`;
}

test('a million hostile frames through the decode worker: it never dies or stalls, every frame is an event or counted', async (t) => {
  t.timeout(110_000);
  t.log(`seed ${SEED}`);
  const rx = createRing(8 << 20);
  const events = createRing(4 << 20);
  const { worker, api } = spawnDecode({ rx, events });
  let exited: number | null = null;
  let crashed: Error | null = null;
  worker.on('exit', (code) => (exited = code));
  worker.on('error', (err) => (crashed = err));
  t.teardown(() => void worker.terminate());

  const writer = new RingWriter(rx);
  const reader = new RingReader(events);
  const fuzz = new FrameFuzzer(SEED);
  const buf = new Uint8Array(MAX_FRAME);
  const sizes = new Uint8Array(MAX_FRAME + 1);
  const pending = new Map<number, Expected>(); // frame number → the event it must give, until it arrives
  const problems: string[] = [];
  let expectedArp = 0;
  let expectedIcmp = 0;
  let expectedNdp = 0;
  let seen = 0;
  const onEvent = (rec: Uint8Array, tsNs: bigint): void => {
    seen++;
    const ev = readEvent(rec, tsNs);
    const n = Number(tsNs) - 1;
    const want = pending.get(n);
    if (want === undefined) {
      if (problems.length < 5) problems.push(`frame ${n} gave an event nobody expected: ${ev.kind}`);
      return;
    }
    pending.delete(n);
    const why = mismatch(ev, want);
    if (why !== '' && problems.length < 5) problems.push(`frame ${n}: ${why}`);
  };

  // The oracle's refused frames throw and are caught: skip capturing stacks nobody reads.
  const stackLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  let lastPopped = 0;
  let lastProgress = performance.now();
  try {
    for (let n = 0; n < FRAMES; n++) {
      const len = fuzz.next(buf);
      const frame = buf.subarray(0, len);
      sizes[len] = 1;
      const want = expectedEvent(frame);
      if (want !== null) {
        pending.set(n, want);
        if (want.kind === 'arp') expectedArp++;
        else if (want.kind === 'ndp') expectedNdp++;
        else expectedIcmp++;
      }
      // A full rx ring means the worker is behind: let it catch up (the producer here may wait; a capture would count a drop).
      while (!writer.tryPush(frame, BigInt(n + 1))) {
        reader.drain(onEvent);
        const popped = ringStats(rx).popped;
        if (popped !== lastPopped) [lastPopped, lastProgress] = [popped, performance.now()];
        if (performance.now() - lastProgress > 10_000) throw new Error(`the decode worker stalled at frame ${popped}`);
        if (exited !== null) throw new Error(`the decode worker exited (code ${exited}) at frame ${popped}: ${String(crashed)}`);
        await sleep(1);
      }
      if ((n & 0xfff) === 0) reader.drain(onEvent);
    }
  } finally {
    Error.stackTraceLimit = stackLimit;
  }

  // Drain until the worker has taken every frame and every event it wrote is read back (bounded).
  const deadline = performance.now() + 20_000;
  let stats: DecodeStats;
  for (;;) {
    reader.drain(onEvent);
    stats = await api.stats();
    if (stats.frames === FRAMES && seen + stats.eventsDropped === stats.arp + stats.icmp + stats.ndp) break;
    if (performance.now() > deadline) throw new Error(`not settled: ${JSON.stringify(stats)}, ${seen} events read`);
    await sleep(5);
  }

  // Still alive and still decoding: a real reply after all that comes out as its event.
  writer.tryPush(CORPUS[1]!, 7n);
  let after: PipelineEvent | undefined;
  for (let i = 0; i < 200 && after === undefined; i++) {
    await reader.waitAsync(50);
    reader.drain((rec, ts) => (after = readEvent(rec, ts)));
  }

  const malformed = Object.values(stats.malformed).reduce((a, b) => a + b, 0);
  t.log(`frames ${stats.frames}: arp ${stats.arp}, icmp ${stats.icmp}, ndp ${stats.ndp}, ignored ${stats.ignored}, malformed ${malformed}`);
  t.log(`malformed by reason: ${JSON.stringify(stats.malformed)}`);
  t.is(crashed, null);
  t.is(exited, null, 'the worker is still running');
  t.deepEqual(problems, []);
  t.is(stats.frames, FRAMES);
  t.is(stats.arp + stats.icmp + stats.ndp + stats.ignored + malformed, FRAMES, 'every frame is an event, ignored, or malformed');
  t.is(stats.arp, expectedArp, 'ARP events: as many as parseArpFrame accepts');
  t.is(stats.icmp, expectedIcmp, 'ICMP events: as many echoes as decodeFrame reads whole');
  t.is(stats.ndp, expectedNdp, 'ND events: as many as parseNdpFrame and parseEcho6ReplyFrame accept');
  t.is(stats.eventsDropped, 0);
  t.is(pending.size, 0, 'every expected event arrived');
  t.is(sizes.reduce((a, b) => a + b, 0), MAX_FRAME + 1, 'every size from 0 to 9018 was sent');
  for (const reason of Object.keys(stats.malformed)) t.regex(reason, /^(ethernet|arp|ipv4|icmp|ipv6|ipv6 extension header|icmpv6|ndp|ndp option) (truncated|checksum|malformed|unsupported [\w /.]+|invalid [\w /]+|\w+ mismatch)$/);
  t.true(malformed > FRAMES / 4, 'the fuzz mostly produced frames the codecs refuse');
  t.like(after, { kind: 'arp', tsNs: 7n });

  await api.close();
  closeRing(rx);
  await worker.terminate();
});

interface ResolveProbe {
  result: { mac: string; conflicts: string[]; tries: number } | null;
  error: { name: string; message: string } | null;
  stats: { capture: { frames: number; ringDropped: number; pcap: { received: number; dropped: number } }; decode: { frames: number; arp: number; malformed: Record<string, number> } };
}

test('a peer flooding garbage as fast as it can does not stop a resolve of a real host (API and CLI)', async (t) => {
  const { lab, host, peer } = twoHostLab('hflo');
  t.teardown(() => lab.destroy());
  // Bounded (UNTIL_STOPPED_MS, 50 M frames), and stopped as soon as both resolves are done: the flood must cover them
  // however long a loaded machine makes them (it once ran out at the attacker's old 5 M-frame cap, after 12 s).
  const flood = await startAttacker(lab, peer.ns, 'flood', { ifname: peer.ifname, ms: UNTIL_STOPPED_MS, maxFrames: 50_000_000, seed: 8 });
  const api = await probe<ResolveProbe>(lab, host.ns, 'resolve', { ip: peer.ip, waitMs: 1000, query: { tries: 5, intervalMs: 1000 } });
  const cli = await ersatz(lab, host.ns, ['resolve', peer.ip, '--json', '--tries', '5']);
  const stillFlooding = flood.running;
  const sent = await flood.stop();
  const { result, error, stats } = api.result;
  const malformed = Object.values(stats.decode.malformed).reduce((a, b) => a + b, 0);
  t.log(`flood: ${sent.sent} frames in ${sent.ms} ms (${Math.round(sent.sent / (sent.ms / 1000))}/s); during the API resolve the decoder saw ${stats.decode.frames} frames, ${malformed} malformed; capture ${JSON.stringify(stats.capture)}`);
  t.true(stillFlooding, 'the flood lasted until both resolves were done');
  t.is(error, null);
  t.is(result?.mac, peer.mac);
  t.true(malformed > 10_000, 'the garbage reached the decoder while it resolved');
  t.is(cli.code, 0, show(cli));
  t.is((JSON.parse(cli.stdout) as { mac: string }).mac, peer.mac);
  t.deepEqual(api.leftOpen, []);
});
