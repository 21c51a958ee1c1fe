// The live pipeline (capture, decode and transmit workers joined by rings) on a veth link in a two-namespace lab,
// beside the plain single-thread cap program (cap in the main thread: Cap.send out, on('packet') in).
//
// - Throughput: 200 000 ARP requests for the peer (60 bytes) pushed into the tx ring as fast as it takes them; the
//   peer kernel answers each, so every request travels tx ring → transmit worker → veth, and every reply veth →
//   capture worker → rx ring → decode worker → events ring → events$ (the capture also delivers our own requests,
//   counted apart). Frames/s = replies delivered / (last delivery − first send). The cap program sends in turns of
//   256 (Cap.send) and counts the replies it captures, giving the event loop back between turns so it can capture
//   at all (a packet socket never sees its own sends, so replies are the one fair count). Loss is reported.
// - Round trip: 1000 sequential ARP requests to the peer kernel after 50 uncounted ones; latency from just before
//   send() to the reply event in the caller's hands (process.hrtime), beside the same for the cap program.
//
// This file is also the child's entry point: run with `--pipeline-child MODE JSON` it measures one thing inside the
// lab namespace (the process that opens sockets must live there) and prints one JSON line.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { twoHostLab, type Host, type Lab } from '@ersatz/lab';
import { check, lastJson, runNode } from '../child.js';
import { attempt, Series } from '../measure.js';
import { summarize } from '../stats.js';
import type { BenchContext, Measurement, Scenario } from '../types.js';

const COUNT = 200_000;
const RTT_COUNT = 1000;
const RTT_WARMUP = 50;
const TURN = 256;
const RTT_TIMEOUT_MS = 1000;

interface ThroughputResult {
  readonly sent: number;
  /** Replies delivered. */
  readonly delivered: number;
  /** Our own requests delivered back by the capture (the pipeline only: cap never sees its own sends). */
  readonly own?: number;
  readonly elapsedNs: number;
  /** Where frames were lost, when they were. */
  readonly loss: Record<string, number>;
  /** Turns on which the tx ring was full and took only part of the batch (retried, not lost). */
  readonly txRingFullTurns?: number;
}

interface RttResult {
  readonly latenciesNs: number[];
  readonly lost: number;
}

interface ChildArgs {
  readonly ifname: string;
  readonly hostMac: string;
  readonly hostIp: string;
  readonly peerIp: string;
  readonly count: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Child side (inside the host namespace)

async function child(mode: string, a: ChildArgs): Promise<unknown> {
  const { ArpOp, Ipv4, Mac, emitArpFrame } = await import('@ersatz/wire');
  const request = (target: string): Uint8Array => {
    const buf = new Uint8Array(60);
    emitArpFrame(buf, {
      dst: Mac.BROADCAST,
      src: Mac.parse(a.hostMac),
      arp: { operation: ArpOp.Request, senderMac: Mac.parse(a.hostMac), senderIp: Ipv4.parse(a.hostIp), targetMac: Mac.ZERO, targetIp: Ipv4.parse(target) },
    });
    return buf;
  };
  const peer = Ipv4.parse(a.peerIp);

  if (mode === 'pipeline-throughput' || mode === 'pipeline-rtt') {
    const { Pipeline } = await import('@ersatz/pipeline');
    const p = await Pipeline.open({ ifname: a.ifname, filter: 'arp' }); // defaults: 32 MiB capture buffer, snaplen 128
    try {
      if (mode === 'pipeline-throughput') {
        let delivered = 0;
        let own = 0;
        let last = 0n;
        const sub = p.events$.subscribe((e) => {
          if (e.kind !== 'arp') return;
          if (e.arp.operation === ArpOp.Reply && e.arp.senderIp === peer) {
            delivered++;
            last = process.hrtime.bigint();
          } else if (e.arp.operation === ArpOp.Request && e.arp.targetIp === peer) own++;
        });
        const batch = Array.from({ length: TURN }, () => request(a.peerIp));
        const t0 = process.hrtime.bigint();
        let sent = 0;
        let fullTurns = 0;
        while (sent < a.count) {
          const want = Math.min(TURN, a.count - sent);
          const n = p.sendBatch(want === TURN ? batch : batch.slice(0, want));
          if (n < want) fullTurns++;
          sent += n;
          await nextTurn(); // let events$ deliver; a full tx ring takes the rest on a later turn
        }
        await settle(() => delivered, a.count);
        sub.unsubscribe();
        const s = await p.stats();
        return {
          sent,
          delivered,
          own,
          elapsedNs: Number(last - t0),
          txRingFullTurns: fullTurns,
          loss: {
            txFailed: s.transmit?.failed ?? -1,
            pcapDropped: s.capture?.pcap.dropped ?? -1,
            rxRingDropped: s.capture?.ringDropped ?? -1,
            eventsDropped: s.decode?.eventsDropped ?? -1,
          },
        } satisfies ThroughputResult;
      }
      const latenciesNs: number[] = [];
      let lost = 0;
      for (let i = 0; i < RTT_WARMUP + a.count; i++) {
        const frame = request(a.peerIp);
        const got = new Promise<bigint | null>((resolve) => {
          const timer = setTimeout(() => {
            sub.unsubscribe();
            resolve(null);
          }, RTT_TIMEOUT_MS);
          const sub = p.events$.subscribe((e) => {
            if (e.kind === 'arp' && e.arp.operation === ArpOp.Reply && e.arp.senderIp === peer) {
              clearTimeout(timer);
              sub.unsubscribe();
              resolve(process.hrtime.bigint());
            }
          });
        });
        const t0 = process.hrtime.bigint();
        p.send(frame);
        const at = await got;
        if (i < RTT_WARMUP) continue;
        if (at === null) lost++;
        else latenciesNs.push(Number(at - t0));
      }
      return { latenciesNs, lost } satisfies RttResult;
    } finally {
      await p.close();
    }
  }

  // The single-thread cap program: what the pipeline has to beat.
  type Cap = { open(d: string, f: string, n: number, b: Buffer): string; send(b: Buffer, n?: number): void; close(): void; on(e: 'packet', l: (n: number) => void): void };
  // ERSATZ_BENCH_CAP: cap built for another Node (scripts/bench-node.sh; see baselines/cap-link.mjs).
  const { Cap } = createRequire(import.meta.url)(process.env.ERSATZ_BENCH_CAP ?? 'cap') as { Cap: new () => Cap };
  const cap = new Cap();
  const rx = Buffer.alloc(65535);
  // 64 MiB, as the cap baselines: with cap's fixed snaplen 65535 that is 1024 ring slots.
  cap.open(a.ifname, 'arp', 64 << 20, rx);
  // ar$op's low byte is frame byte 21, ar$spa bytes 28..31 (untagged Ethernet).
  const spa = (): number => ((rx[28]! << 24) | (rx[29]! << 16) | (rx[30]! << 8) | rx[31]!) >>> 0;
  try {
    if (mode === 'cap-throughput') {
      let delivered = 0;
      let last = 0n;
      cap.on('packet', () => {
        if (rx[21] === 2 && spa() === peer) {
          delivered++;
          last = process.hrtime.bigint();
        }
      });
      const frame = Buffer.from(request(a.peerIp));
      const t0 = process.hrtime.bigint();
      let sent = 0;
      while (sent < a.count) {
        for (let i = 0; i < TURN && sent < a.count; i++, sent++) cap.send(frame);
        await nextTurn(); // the packet callbacks run on this same thread: between turns only
      }
      await settle(() => delivered, a.count);
      return { sent, delivered, elapsedNs: Number(last - t0), loss: { notCaptured: sent - delivered } } satisfies ThroughputResult;
    }
    const latenciesNs: number[] = [];
    let lost = 0;
    let onReply: (() => void) | undefined;
    cap.on('packet', () => {
      if (rx[21] === 2 && spa() === peer) onReply?.();
    });
    for (let i = 0; i < RTT_WARMUP + a.count; i++) {
      const frame = Buffer.from(request(a.peerIp));
      const got = new Promise<bigint | null>((resolve) => {
        const timer = setTimeout(() => resolve(null), RTT_TIMEOUT_MS);
        onReply = () => {
          clearTimeout(timer);
          onReply = undefined;
          resolve(process.hrtime.bigint());
        };
      });
      const t0 = process.hrtime.bigint();
      cap.send(frame);
      const at = await got;
      if (i < RTT_WARMUP) continue;
      if (at === null) lost++;
      else latenciesNs.push(Number(at - t0));
    }
    return { latenciesNs, lost } satisfies RttResult;
  } finally {
    cap.close();
  }
}

/** Resolves once `count()` reaches `want` or has not moved for a second (the rest is lost). */
async function settle(count: () => number, want: number): Promise<void> {
  let seen = -1;
  while (count() < want && count() !== seen) {
    seen = count();
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Scenario side

const SELF = fileURLToPath(import.meta.url);

async function measure<T>(lab: Lab, host: Host, peer: Host, mode: string, count: number): Promise<T> {
  const args: ChildArgs = { ifname: host.ifname, hostMac: host.mac, hostIp: host.ip, peerIp: peer.ip, count };
  const run = await runNode(lab, host.ns, SELF, ['--pipeline-child', mode, JSON.stringify(args)], { timeoutMs: 120_000 });
  return lastJson<T>(`pipeline ${mode}`, check(`pipeline ${mode}`, run));
}

async function run(ctx: BenchContext): Promise<Measurement[]> {
  const tput = { ersatz: new Series(), cap: new Series() };
  const rttMedian = { ersatz: new Series(), cap: new Series() };
  const rttP99 = { ersatz: new Series(), cap: new Series() };
  const notes: string[] = [];
  const { lab, host, peer } = twoHostLab('bpip');
  try {
    for (let rep = 0; rep < ctx.reps; rep++) {
      for (const [who, mode] of [
        ['ersatz', 'pipeline-throughput'],
        ['cap', 'cap-throughput'],
      ] as const) {
        const r = await attempt(tput[who], () => measure<ThroughputResult>(lab, host, peer, mode, COUNT));
        if (!r) continue;
        if (r.delivered > 0) tput[who].add((r.delivered / r.elapsedNs) * 1e9);
        else tput[who].fail('nothing delivered');
        const lost = r.sent - r.delivered;
        if (r.own !== undefined && r.own !== r.sent) notes.push(`${who}: ${r.own} of ${r.sent} own requests captured back`);
        if (lost) notes.push(`${who}: ${lost} of ${r.sent} replies not delivered (${Object.entries(r.loss).filter(([, v]) => v).map(([k, v]) => `${k} ${v}`).join(', ') || 'no counter saw them'})`);
        ctx.log(`pipeline: ${who} throughput rep ${rep + 1}: ${tput[who].samples.at(-1)?.toFixed(0) ?? '—'} replies/s, ${r.delivered}/${r.sent} delivered`);
      }
      for (const [who, mode] of [
        ['ersatz', 'pipeline-rtt'],
        ['cap', 'cap-rtt'],
      ] as const) {
        const r = await attempt(rttMedian[who], () => measure<RttResult>(lab, host, peer, mode, RTT_COUNT));
        if (!r) continue;
        const s = summarize(r.latenciesNs.map((n) => n / 1000));
        if (s.n === 0) {
          rttMedian[who].fail(`no reply (${r.lost} lost)`);
          continue;
        }
        rttMedian[who].add(s.median, r.latenciesNs.map((n) => n / 1000));
        rttP99[who].add(s.p99);
        if (r.lost) notes.push(`${who}: ${r.lost} of ${RTT_COUNT} requests unanswered within ${RTT_TIMEOUT_MS} ms`);
        ctx.log(`pipeline: ${who} round trip rep ${rep + 1}: median ${s.median.toFixed(1)} µs, p99 ${s.p99.toFixed(1)} µs`);
      }
    }
  } finally {
    lab.destroy();
  }
  const capName = 'single-thread cap program';
  const note = notes.length ? notes.join('; ') : undefined;
  const row = (what: string, unit: string, better: 'higher' | 'lower', e: Series, c: Series): Measurement => ({
    scenario: 'pipeline',
    what,
    unit,
    better,
    ersatz: e.value,
    samples: [...e.samples],
    peers: [c.peer(capName)],
    ...(note ? { note } : {}),
    ...(e.problems.length ? { note: [note, ...e.problems].filter(Boolean).join('; ') } : {}),
  });
  return [
    row('ARP requests out, kernel replies in (events$)', 'replies/s', 'higher', tput.ersatz, tput.cap),
    row('ARP request → reply event in hand, median', 'µs', 'lower', rttMedian.ersatz, rttMedian.cap),
    row('ARP request → reply event in hand, p99', 'µs', 'lower', rttP99.ersatz, rttP99.cap),
  ];
}

export const scenario: Scenario = {
  name: 'pipeline',
  description: `capture/decode/transmit workers on a veth: ${COUNT} frames through the whole loop, ${RTT_COUNT} ARP round trips, beside cap in one thread`,
  run,
};

const childAt = process.argv.indexOf('--pipeline-child');
if (childAt >= 0) {
  const mode = process.argv[childAt + 1]!;
  const args = JSON.parse(process.argv[childAt + 2]!) as ChildArgs;
  child(mode, args).then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
