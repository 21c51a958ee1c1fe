// Runs inside a lab namespace: the live pipeline on the code paths Windows uses (libpcap's pcap_sendpacket for
// transmit, the wait-loop for capture), here against libpcap.so. Prints one
// JSON line and ends WITHOUT process.exit, so the test sees that close() leaves nothing behind.
//
//   node windows-paths-probe.js <scenario> <json options>
//
// Scenarios:
//   resolve   send `count` ARP requests for `peerIp`, collect the replies from events$
//   paced     send one request held back `delayMs` by its not-before time, report the reply
//   linkdown  take the interface down under the pipeline, send while it is down, bring it up, resolve again
//   transmit  spawn a transmit worker alone, open it with `options`, report the TransmitError (or the info)
import { execFileSync } from 'node:child_process';
import { firstValueFrom, filter, take, timeout } from 'rxjs';
import { ArpOp, Ipv4, Mac, emitArpFrame } from '@ersatz/wire';
import { Pipeline, type ArpEvent, type PipelineOptions } from '@ersatz/pipeline';
import { createRing } from '@ersatz/ring';
import { TransmitError, spawnTransmit } from '@ersatz/transmit-worker';

interface Args {
  readonly ifname: string;
  readonly hostMac?: string;
  readonly hostIp?: string;
  readonly peerIp?: string;
  readonly count?: number;
  readonly delayMs?: number;
  readonly options?: Record<string, unknown>;
}

const [scenario, json] = process.argv.slice(2);
const args = JSON.parse(json ?? '{}') as Args;

function out(result: unknown): void {
  process.stdout.write(`${JSON.stringify(result, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
}

function arpRequest(a: Args): Uint8Array {
  const buf = new Uint8Array(60);
  emitArpFrame(buf, {
    dst: Mac.BROADCAST,
    src: Mac.parse(a.hostMac!),
    arp: { operation: ArpOp.Request, senderMac: Mac.parse(a.hostMac!), senderIp: Ipv4.parse(a.hostIp!), targetMac: Mac.ZERO, targetIp: Ipv4.parse(a.peerIp!) },
  });
  return buf;
}

/** Sends one ARP request for peerIp and resolves with the reply event (subscribed before sending). */
async function resolveOnce(p: Pipeline, a: Args, notBeforeNs = 0n): Promise<ArpEvent> {
  const peer = Ipv4.parse(a.peerIp!);
  const reply = firstValueFrom(
    p.events$.pipe(
      filter((e): e is ArpEvent => e.kind === 'arp' && e.arp.operation === ArpOp.Reply && e.arp.senderIp === peer),
      take(1),
      timeout(5000),
    ),
  );
  if (!p.send(arpRequest(a), notBeforeNs)) throw new Error('tx ring refused the request');
  return reply;
}

function describe(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { value: String(err) };
  const fields: Record<string, unknown> = { name: err.name, message: err.message, className: err.constructor.name };
  for (const k of ['code', 'ifname', 'detail', 'errno', 'operation'] as const) {
    if (k in err) fields[k] = (err as unknown as Record<string, unknown>)[k];
  }
  return fields;
}

async function transmitAlone(): Promise<void> {
  const { worker, api } = spawnTransmit({ tx: createRing(1 << 16) });
  try {
    const info = await api.open({ ifname: args.ifname, ...args.options });
    out({ ok: true, info });
  } catch (err) {
    const e = TransmitError.fromWire(err);
    out({ ok: false, error: describe(e), isTransmitError: e instanceof TransmitError });
  } finally {
    await api.close();
    await worker.terminate();
  }
}

async function main(): Promise<void> {
  if (scenario === 'transmit') return transmitAlone();
  const p = await Pipeline.open({ ifname: args.ifname, ...(args.options as Partial<PipelineOptions>) });
  const warnings: string[] = [];
  p.warnings$.subscribe((w) => {
    warnings.push(w);
    process.stderr.write(`warning: ${w}\n`); // shows up in a failing test's message
  });
  try {
    if (scenario === 'resolve') {
      const replies = [];
      for (let i = 0; i < (args.count ?? 1); i++) replies.push(await resolveOnce(p, args));
      out({ replies, link: p.link, transmitInfo: p.transmitInfo, stats: await p.stats(), warnings });
    } else if (scenario === 'paced') {
      const notBeforeNs = Pipeline.now() + BigInt(args.delayMs ?? 300) * 1_000_000n;
      const reply = await resolveOnce(p, args, notBeforeNs);
      out({ notBeforeNs, reply, stats: await p.stats(), warnings });
    } else if (scenario === 'linkdown') {
      const before = await resolveOnce(p, args);
      const stopped = firstValueFrom(p.warnings$.pipe(filter((w) => w.startsWith('capture stopped')), timeout(5000)));
      execFileSync('ip', ['link', 'set', args.ifname, 'down']); // inside the lab namespace this process runs in
      const stoppedWarning = await stopped;
      const failing = firstValueFrom(p.warnings$.pipe(filter((w) => w.startsWith('transmit failing')), timeout(5000)));
      p.send(arpRequest(args));
      const failingWarning = await failing;
      const reopened = firstValueFrom(p.warnings$.pipe(filter((w) => w.startsWith('capture on') && w.endsWith('reopened')), timeout(10_000)));
      execFileSync('ip', ['link', 'set', args.ifname, 'up']);
      await reopened;
      const after = await resolveOnce(p, args);
      out({ before, stoppedWarning, failingWarning, after, link: p.link, stats: await p.stats(), warnings });
    } else {
      throw new Error(`unknown scenario ${String(scenario)}`);
    }
  } finally {
    await p.close();
  }
}

main().then(
  () => process.stdout.write(`${JSON.stringify({ activeAfterClose: process.getActiveResourcesInfo() })}\n`),
  (err: unknown) => {
    out({ fatal: describe(err), stack: err instanceof Error ? err.stack : undefined });
    process.exitCode = 1;
  },
);
