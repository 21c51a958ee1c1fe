// The detector over a capture file's records, on the capture's clock.
import type { PcapRecord } from '@ersatz/pcap';
import type { Detector, Station, WatchEvent } from './detector.js';
import { sightingOfRecord } from './sighting.js';

/** Records judged between two batches handed to `onBatch` (the database's transactions). */
const BATCH = 4096;

export interface ReplayCounts {
  /** Records read. */
  frames: number;
  /** ARP frames that did not parse (counted, skipped). */
  malformed: number;
  /** Records of a link type that is not decoded (neither Ethernet nor Linux cooked), by link type. */
  undecoded: Record<number, number>;
}

/**
 * The interface a record was captured on, as events name it: `ifname` for the first (classic pcap has no other), a
 * pcapng capture's further interfaces by their own names (`if_name`), else `ifname#N`: separate LANs, whose stations
 * must not meet (one address on two of them is no conflict).
 */
export function replayInterface(rec: PcapRecord, ifname: string): string {
  if (rec.interfaceId === 0) return ifname;
  return rec.interfaceName !== undefined && rec.interfaceName !== ifname ? rec.interfaceName : `${ifname}#${rec.interfaceId}`;
}

/**
 * Feeds every record to `detector` as seen on its interface (replayInterface: the first is `ifname`, which the
 * detector watches; the others are watched as they come, with no subnet or gateway known), handing the events and
 * changed stations to `onBatch` every BATCH records and once more at the end (when the moves still waiting are
 * judged on what the capture showed). Every record moves the detector's clock, ARP or not, so silences are noticed
 * as the capture goes on.
 * `counts` is updated as it goes, so a reader that throws part way (a truncated file) leaves what was read counted.
 */
export function replayRecords(
  records: Iterable<PcapRecord>,
  ifname: string,
  detector: Detector,
  onBatch: (batch: { events: WatchEvent[]; stations: Station[] }) => void,
  counts: ReplayCounts = { frames: 0, malformed: 0, undecoded: {} },
): ReplayCounts {
  // The further interfaces seen so far, each watched once (the first, `ifname`, the caller watches).
  const others = new Set<string>();
  try {
    for (const rec of records) {
      const on = replayInterface(rec, ifname);
      if (on !== ifname && !others.has(on)) {
        others.add(on);
        detector.watch({ ifname: on, mac: null, subnets: [], gateway: null });
      }
      const s = sightingOfRecord(rec, on);
      if (s === 'malformed') counts.malformed++;
      else if (s === 'undecoded') counts.undecoded[rec.linktype] = (counts.undecoded[rec.linktype] ?? 0) + 1;
      if (typeof s === 'object' && s !== null) detector.observe(s, true);
      else detector.tick(Number(rec.tsNs / 1_000_000n));
      if (++counts.frames % BATCH === 0) onBatch(detector.take());
    }
  } finally {
    detector.finish();
    onBatch(detector.take());
  }
  return counts;
}
