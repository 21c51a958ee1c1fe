// Reading what the peers (and ersatz's own trace) print. Pure functions over their output, so the formats are pinned by
// unit tests.

/** What iputils arping adds to the RTT it prints, µs (see `arpingRttsUs`). */
export const ARPING_OFFSET_US = 500;

/**
 * The RTTs iputils arping printed, µs, corrected: "Unicast reply from 198.51.100.2 [46:C8:17:94:96:00]  0.531ms"
 * gives 31. iputils (20221126, arping.c recv_pack) computes `msecs = (usecs + 500) / 1000` and prints
 * `usecs − msecs × 1000 + 500` as the fraction, which is the true value plus 500 µs whatever the RTT; the
 * correction subtracts it (the scenario checks the result against tcpdump's wire RTTs).
 */
export function arpingRttsUs(stdout: string): number[] {
  return [...stdout.matchAll(/reply from \S+ \[[0-9A-Fa-f:]+\]\s+(\d+)\.(\d{3})ms/g)].map((m) => Number(m[1]) * 1000 + Number(m[2]) - ARPING_OFFSET_US);
}

/** arp-scan's own account of a run (`-q` output). */
export interface ArpScanRun {
  /** Addresses asked ("N hosts scanned"): arp-scan counts a network's network and broadcast addresses. */
  readonly hosts: number;
  /** Its own elapsed time ("scanned in S seconds"). */
  readonly seconds: number;
  /** The addresses that answered, as printed (one line each, duplicates included). */
  readonly answered: readonly string[];
}

/**
 * Reads `arp-scan -q` output: "10.77.0.2\t42:74:c6:a5:14:96" per answer and
 * "Ending arp-scan 1.10.0: 65536 hosts scanned in 0.467 seconds (140334.05 hosts/sec). 65536 responded".
 * Returns the run; null when the closing line is missing (arp-scan did not finish).
 */
export function parseArpScan(stdout: string): ArpScanRun | null {
  const end = /(\d+) hosts scanned in ([\d.]+) seconds/.exec(stdout);
  if (!end) return null;
  const answered = stdout.split('\n').flatMap((l) => /^(\d+\.\d+\.\d+\.\d+)\t/.exec(l)?.[1] ?? []);
  return { hosts: Number(end[1]), seconds: Number(end[2]), answered };
}

/**
 * The moments of `ersatz --target IP -v`'s timeline line, `ersatz: resolve: timeline (ms since the process started):
 * threads started 118.2, command loaded 225.0, …`: moment → ms, in the order printed. Null when there is no such line.
 */
export function parseTimeline(stderr: string): Map<string, number> | null {
  const line = /timeline \(ms since the process started\): (.*)/.exec(stderr)?.[1];
  if (line === undefined) return null;
  return new Map(line.split(', ').map((m): [string, number] => [m.slice(0, m.lastIndexOf(' ')), Number(m.slice(m.lastIndexOf(' ') + 1))]));
}
