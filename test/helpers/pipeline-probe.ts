// Runs inside a lab namespace (the process that opens a pipeline must live there): opens a Pipeline, does one
// scenario, prints one JSON line with what happened, and ends WITHOUT process.exit, so a test can see that close()
// leaves nothing behind that keeps the process alive.
//
//   node pipeline-probe.js <scenario> <json options>
//
// Scenarios:
//   resolve  send ARP requests for `peerIp` and collect the replies from events$
//   listen   print "ready", then collect `count` ARP events (the test makes the peer send them), with keepFrames
//            their raw frames too
//   ping     send ICMP echo requests to `peerIp` (filter `arp or icmp`) and collect the replies
//   snaplen  with keepFrames and a short snaplen, send echo requests and report the lengths of the ICMP frames seen
//   open     open with `options` and report the error (or success; with idlePoll, what the device reads after it)
//   restart  crash each stage named in `crash`, in turn, and resolve after each crash; report the packet sockets
//            open in the namespace then (a dead thread's must have been closed)
//   paced    send one request held back `delayMs` by its not-before time, report when the reply came
//   frames   with keepFrames, resolve once and report the raw frames frames$ delivered
//   bogus    send malformed ARP frames (the capture sees its own output), then resolve; report the counts
//   linkdown take the interface down under the pipeline, send while it is down, bring it up, resolve again
//   held     resolve `count` times, then report what the process holds while open and after close: each thread's
//            CPUs (sameCpu) and the CPU latency the kernel keeps to (idlePoll)
import { readdirSync, readFileSync } from 'node:fs';
import { firstValueFrom, filter, take, takeUntil, timer, toArray, timeout } from 'rxjs';
import { Ipv4, Mac, emitIcmpEchoFrame } from '@ersatz/wire';
import { Pipeline, type ArpEvent, type IcmpEvent, type PipelineOptions, type Stage } from '@ersatz/pipeline';
import { cpuLatencyUs } from './pipeline-lab.js';
import { arpRequest, describe, flapLink, out, resolveOnce, type ProbeArgs } from './probe-common.js';

interface Args extends ProbeArgs {
  readonly crash?: Stage[];
  readonly options?: Partial<PipelineOptions>;
}

const [scenario, json] = process.argv.slice(2);
const args = JSON.parse(json ?? '{}') as Args;

async function main(): Promise<void> {
  const opts: PipelineOptions = { ifname: args.ifname, ...args.options };
  if (scenario === 'open') {
    try {
      const p = await Pipeline.open(opts);
      await p.close();
      out({ ok: true, link: p.link });
    } catch (err) {
      // With idlePoll, whether its request outlived the failed open (what the device reads now, for a user who may).
      const latency = opts.idlePoll && process.getuid?.() === 0 ? { cpuLatencyUs: cpuLatencyUs() } : {};
      out({ ok: false, error: describe(err), isPipelineError: err instanceof Error && Object.getPrototypeOf(err) !== Error.prototype, ...latency });
    }
    return;
  }

  const p = await Pipeline.open(opts);
  const warnings: string[] = [];
  p.warnings$.subscribe((w) => warnings.push(w));
  try {
    if (scenario === 'resolve') {
      const replies = [];
      for (let i = 0; i < (args.count ?? 1); i++) replies.push(await resolveOnce(p, args));
      out({ replies, link: p.link, stats: await p.stats(), warnings });
    } else if (scenario === 'listen') {
      const events = firstValueFrom(p.events$.pipe(filter((e): e is ArpEvent => e.kind === 'arp'), take(args.count ?? 1), toArray(), timeout(15_000)));
      // With keepFrames, the raw frames of those events as well.
      const frames = opts.keepFrames ? firstValueFrom(p.frames$.pipe(take(args.count ?? 1), toArray(), timeout(15_000))) : undefined;
      process.stdout.write('ready\n');
      out({ events: await events, frames: frames && (await frames).map((f) => Array.from(f.bytes)), stats: await p.stats(), warnings });
    } else if (scenario === 'ping') {
      const peer = Ipv4.parse(args.peerIp!);
      const count = args.count ?? 3;
      const replies = firstValueFrom(
        p.events$.pipe(
          filter((e): e is IcmpEvent => e.kind === 'icmp' && e.type === 0 && e.src === peer),
          take(count),
          toArray(),
          timeout(10_000),
        ),
      );
      await sendEchoes(p, count);
      out({ replies: await replies, stats: await p.stats(), warnings });
    } else if (scenario === 'snaplen') {
      // Ours going out and the peer's coming back (keepFrames records both directions), ARP left aside.
      const count = args.count ?? 5;
      const icmp = firstValueFrom(p.frames$.pipe(filter((f) => f.bytes[12] === 0x08 && f.bytes[13] === 0x00), take(2 * count), toArray(), timeout(10_000)));
      await sendEchoes(p, count);
      out({ lengths: (await icmp).map((f) => f.bytes.length), stats: await p.stats(), warnings });
    } else if (scenario === 'restart') {
      const rounds = [{ crashed: null as Stage | null, reply: await resolveOnce(p, args) }];
      for (const stage of args.crash ?? []) {
        await p.simulateCrash(stage);
        rounds.push({ crashed: stage, reply: await resolveOnce(p, args) });
      }
      out({ rounds, stats: await p.stats(), warnings, packetSockets: packetSockets() });
    } else if (scenario === 'paced') {
      const notBeforeNs = Pipeline.now() + BigInt(args.delayMs ?? 300) * 1_000_000n;
      const reply = await resolveOnce(p, args, notBeforeNs);
      out({ notBeforeNs, reply, stats: await p.stats(), warnings });
    } else if (scenario === 'frames') {
      const frames = firstValueFrom(p.frames$.pipe(takeUntil(timer(1500)), toArray()));
      const reply = await resolveOnce(p, args);
      out({ sent: Array.from(arpRequest(args)), frames: (await frames).map((f) => ({ tsNs: f.tsNs, bytes: Array.from(f.bytes) })), reply, stats: await p.stats() });
    } else if (scenario === 'bogus') {
      const good = arpRequest(args);
      const hlen8 = good.slice();
      hlen8[18] = 8; // ar$hln 8 with htype 1
      const truncated = good.slice(0, 30); // 16 of the 28 ARP bytes
      const ptype6 = good.slice();
      ptype6[16] = 0x86; // ar$pro 0x86dd (IPv6): the kernel ignores it too, so no reply can come before ours
      ptype6[17] = 0xdd;
      for (const f of [hlen8, truncated, ptype6]) p.send(f);
      const reply = await resolveOnce(p, args);
      out({ reply, stats: await p.stats(), warnings });
    } else if (scenario === 'held') {
      const replies = [];
      for (let i = 0; i < (args.count ?? 1); i++) replies.push(await resolveOnce(p, args));
      const open = held();
      const stats = await p.stats();
      await p.close();
      out({ replies: replies.length, open, closed: held(), stats, warnings });
    } else if (scenario === 'linkdown') {
      out({ ...(await flapLink(p, args)), link: p.link, stats: await p.stats(), warnings });
    } else {
      throw new Error(`unknown scenario ${String(scenario)}`);
    }
  } finally {
    await p.close();
  }
}

/** Sends `count` 98-byte ICMP echo requests to `peerIp`, after resolving its MAC: the kernel peer answers an echo
 * only once it knows where to send it. */
async function sendEchoes(p: Pipeline, count: number): Promise<void> {
  const mac = (await resolveOnce(p, args)).arp.senderMac;
  for (let seq = 1; seq <= count; seq++) {
    const buf = new Uint8Array(98);
    const len = emitIcmpEchoFrame(buf, {
      dst: mac,
      src: Mac.parse(args.hostMac!),
      ipSrc: Ipv4.parse(args.hostIp!),
      ipDst: Ipv4.parse(args.peerIp!),
      type: 'request',
      id: 0x4242,
      seq,
      payload: new Uint8Array(56).fill(seq),
    });
    p.send(buf.subarray(0, len));
  }
}

/**
 * Each thread's Cpus_allowed_list (`main`: this process's own, the thread that opened) and, with idlePoll, the CPU
 * latency the kernel keeps to, µs (the smallest request any process holds; a kernel without the device has no idlePoll).
 */
function held(): { main: string; threads: string[]; cpuLatencyUs?: number } {
  const cpus = (tid: string): string => /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/self/task/${tid}/status`, 'utf8'))![1]!;
  return { main: cpus(String(process.pid)), threads: readdirSync('/proc/self/task').map(cpus), ...(args.options?.idlePoll ? { cpuLatencyUs: cpuLatencyUs() } : {}) };
}

/** Packet sockets open in this network namespace (/proc/net/packet: a header line, then one line each). */
function packetSockets(): number {
  return readFileSync('/proc/net/packet', 'utf8').trim().split('\n').length - 1;
}

main().then(() => {
  // What is still holding the event loop after close (the test expects nothing but stdio).
  process.stdout.write(`${JSON.stringify({ activeAfterClose: process.getActiveResourcesInfo() })}\n`);
}, (err: unknown) => {
  out({ fatal: describe(err), stack: err instanceof Error ? err.stack : undefined });
  process.exitCode = 1;
});
