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
import { Pipeline, type PipelineOptions } from '@ersatz/pipeline';
import { createRing } from '@ersatz/ring';
import { TransmitError, spawnTransmit } from '@ersatz/transmit-worker';
import { describe, flapLink, out, resolveOnce, type ProbeArgs } from './probe-common.js';

interface Args extends ProbeArgs {
  readonly options?: Record<string, unknown>;
}

const [scenario, json] = process.argv.slice(2);
const args = JSON.parse(json ?? '{}') as Args;

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
      out({ ...(await flapLink(p, args)), link: p.link, stats: await p.stats(), warnings });
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
