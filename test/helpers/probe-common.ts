// What the pipeline probes (pipeline-probe, windows-paths-probe) share: their arguments, their one JSON line of
// output, the ARP request they send and the wait for its reply.
import { execFileSync } from 'node:child_process';
import { firstValueFrom, filter, take, timeout } from 'rxjs';
import { ArpOp, Ipv4, Mac, emitArpFrame } from '@ersatz/wire';
import { Pipeline, type ArpEvent } from '@ersatz/pipeline';

export interface ProbeArgs {
  readonly ifname: string;
  readonly hostMac?: string;
  readonly hostIp?: string;
  readonly peerIp?: string;
  readonly count?: number;
  readonly delayMs?: number;
}

/** Prints one JSON line (bigints as decimal strings). */
export function out(result: unknown): void {
  process.stdout.write(`${JSON.stringify(result, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
}

/** A broadcast "who has peerIp? tell hostIp" from hostMac. */
export function arpRequest(a: ProbeArgs): Uint8Array {
  const buf = new Uint8Array(60);
  emitArpFrame(buf, {
    dst: Mac.BROADCAST,
    src: Mac.parse(a.hostMac!),
    arp: { operation: ArpOp.Request, senderMac: Mac.parse(a.hostMac!), senderIp: Ipv4.parse(a.hostIp!), targetMac: Mac.ZERO, targetIp: Ipv4.parse(a.peerIp!) },
  });
  return buf;
}

/**
 * Sends one ARP request for peerIp and resolves with the reply event (subscribed before sending), the time from
 * send() to its capture, and when send() was called and the request left (departedNs). The 5 s timeout is a
 * watchdog against a lost reply, not a timing assertion.
 */
export async function resolveOnce(p: Pipeline, a: ProbeArgs, notBeforeNs = 0n): Promise<ArpEvent & { rttUs: number; queuedNs: bigint; departedNs: bigint | null }> {
  const peer = Ipv4.parse(a.peerIp!);
  const reply = firstValueFrom(
    p.events$.pipe(
      filter((e): e is ArpEvent => e.kind === 'arp' && e.arp.operation === ArpOp.Reply && e.arp.senderIp === peer),
      take(1),
      timeout(5000),
    ),
  );
  const queuedNs = Pipeline.now();
  const ticket = p.send(arpRequest(a), notBeforeNs);
  if (ticket < 0) throw new Error('tx ring refused the request');
  const ev = await reply;
  return { ...ev, rttUs: Number(ev.tsNs - queuedNs) / 1e3, queuedNs, departedNs: p.departedNs(ticket) };
}

/** An error as plain JSON: name, message, class, and the fields the typed errors carry. */
export function describe(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { value: String(err) };
  const fields: Record<string, unknown> = { name: err.name, message: err.message, className: err.constructor.name };
  for (const k of ['code', 'ifname', 'detail', 'errno', 'operation'] as const) {
    if (k in err) fields[k] = (err as unknown as Record<string, unknown>)[k];
  }
  return fields;
}

/**
 * Takes the interface down under the pipeline, sends while it is down, brings it back up and resolves again (this
 * process runs inside the lab namespace). Returns the replies before and after and the warnings it waited for; the
 * timeouts are watchdogs, not timing assertions.
 */
export async function flapLink(p: Pipeline, a: ProbeArgs): Promise<Record<string, unknown>> {
  const before = await resolveOnce(p, a);
  const stopped = firstValueFrom(p.warnings$.pipe(filter((w) => w.startsWith('capture stopped')), timeout(5000)));
  execFileSync('ip', ['link', 'set', a.ifname, 'down']);
  const stoppedWarning = await stopped;
  const failing = firstValueFrom(p.warnings$.pipe(filter((w) => w.startsWith('transmit failing')), timeout(5000)));
  p.send(arpRequest(a));
  const failingWarning = await failing;
  const reopened = firstValueFrom(p.warnings$.pipe(filter((w) => w.startsWith('capture on') && w.endsWith('reopened')), timeout(10_000)));
  execFileSync('ip', ['link', 'set', a.ifname, 'up']);
  await reopened;
  const after = await resolveOnce(p, a);
  return { before, stoppedWarning, failingWarning, after };
}
