// What the scan, arping and ping commands share: an open link with optional pcap recording and the number formats
// of iputils (how a run is stopped: interrupt.ts; their batched stdout lines: line-writer.ts).
import { lastValueFrom, race, share, startWith, switchMap, take, tap, timer } from 'rxjs';
import { openLink, type InterfaceInfo, type Link } from '@ersatz/api';
import { PcapWriter } from '@ersatz/pcap';
import type { RttStats } from '@ersatz/resolve';
import { UsageError } from './exit.js';
import { warnIncidents } from './warn.js';
import { traceOpen, traceStats } from './verbose.js';
import { giveUpRoot, type Privileges } from './privileges.js';
/** `n` with three decimals, as ping and arping print milliseconds. */
export function fixed3(n: number): string {
  return n.toFixed(3);
}

/** RTT statistics as the JSON summaries print them (ms), or null before any reply. */
export function rttJson(rtt: RttStats | null): { minMs: number; avgMs: number; maxMs: number; stddevMs: number } | null {
  return rtt === null ? null : { minMs: rtt.minMs, avgMs: rtt.avgMs, maxMs: rtt.maxMs, stddevMs: rtt.stddevMs };
}

/** An open link, and with `--pcap OUT` the recording of every frame it sees. */
export interface Session {
  readonly link: Link;
  /** Finishes the recording (once the capture has gone quiet) and closes the link. Throws UsageError when the pcap file could not be written. */
  close(): Promise<void>;
}

// How long the capture must stay quiet before the pcap file is closed, and the most we wait for that: the last
// frames (our own final probe on its way out, a late reply) are still crossing the pipeline when a run ends.
const PCAP_QUIET_MS = 50;
const PCAP_SETTLE_MAX_MS = 1000;

/**
 * Opens the link for `info` (ICMP decoding when asked) and, when `pcap` is given, a classic pcap file recording every
 * frame the capture sees, ours included, with wall-clock timestamps. The workers start at once, while the file is
 * created; a bad path fails before anything is sent (the link is closed again). Throws UsageError when the file
 * cannot be created, and what openLink throws.
 */
export async function openSession(
  command: string,
  info: InterfaceInfo,
  opts: { icmp?: boolean; pcap?: string | undefined; vlan?: number | undefined; privileges?: Privileges },
): Promise<Session> {
  // The workers start now, in this call (a caller may do its own work while they boot); the file opens meanwhile.
  const startedMs = performance.now();
  // No ring: the capture opens and closes sooner (see OpenLinkOptions.captureRing).
  const opening = openLink(info, { icmp: opts.icmp ?? false, keepFrames: opts.pcap !== undefined, captureRing: false, ...(opts.vlan === undefined ? {} : { vlan: opts.vlan }) });
  opening.catch(() => undefined); // handled where it is awaited below; it may fail while the file is being opened
  let writer: PcapWriter | null = null;
  if (opts.pcap !== undefined) {
    try {
      writer = await PcapWriter.open(opts.pcap);
    } catch (err) {
      await opening.then((l) => l.close(), () => undefined);
      throw new UsageError(`${command}: --pcap: cannot create ${JSON.stringify(opts.pcap)}: ${(err as Error).message}: pass a writable path`);
    }
  }
  let link: Link;
  try {
    link = await opening;
  } catch (err) {
    await writer?.close();
    throw err;
  }
  traceOpen(command, info, performance.now() - startedMs);
  try {
    // Every socket (and the pcap file) is open: root is no longer needed.
    if (opts.privileges !== undefined) await giveUpRoot(command, opts.privileges);
  } catch (err) {
    await link.close();
    await writer?.close();
    throw err;
  }
  // A worker restart, a reopened capture: said on stderr as it happens, the run goes on.
  const incidents = warnIncidents(link);
  let failure: Error | null = null;
  const recording =
    writer === null
      ? null
      : link.frames$.pipe(
          tap((f) => {
            if (failure !== null) return;
            try {
              writer.write(link.wallClockNs(f.tsNs), f.bytes);
            } catch (err) {
              failure = err as Error; // reported at close; the run itself goes on
            }
          }),
          share(),
        );
  const sub = recording?.subscribe();
  return {
    link,
    async close() {
      try {
        // Wait until the capture has been quiet for PCAP_QUIET_MS (each frame restarts the wait), at most
        // PCAP_SETTLE_MAX_MS, so the last frames make the file.
        if (recording !== null) await lastValueFrom(race(recording.pipe(startWith(null), switchMap(() => timer(PCAP_QUIET_MS))), timer(PCAP_SETTLE_MAX_MS)).pipe(take(1)));
        sub?.unsubscribe();
        await writer?.close();
      } catch (err) {
        failure ??= err as Error;
      } finally {
        sub?.unsubscribe();
        incidents.unsubscribe();
        await traceStats(command, link);
        await link.close();
      }
      if (failure !== null) throw new UsageError(`${command}: --pcap: cannot write ${JSON.stringify(opts.pcap)}: ${(failure as Error).message}`);
    },
  };
}
