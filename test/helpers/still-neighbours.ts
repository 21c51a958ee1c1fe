// Neighbour tables that change only when a test changes them, for the tests that compare ersatz's reading of the
// kernel's table with ip's or count the changes a watch sees: the kernel's own timers would otherwise move entries
// between two reads, or announce a change nobody made, whenever a slow (loaded) run gives them time.
import type { Host, Lab } from '@ersatz/lab';

/**
 * Stretches the neighbour timers of `ifnames` in namespace `ns` to an hour (`family` 4 or 6), so the kernel moves
 * none of their entries by itself (REACHABLE → STALE, DELAY → PROBE) while the tests run, and its garbage collector
 * takes none for being unused (gc_stale_time). A FAILED entry it may still take at any pass (every ~15 s) while the
 * machine holds gc_thresh1 (128) entries or more, in every namespace together: a test that keeps one allows for that.
 */
export function stretchNeighbourTimers(lab: Lab, ns: string, ifnames: readonly string[], family: 4 | 6 = 4): void {
  for (const dev of ifnames) {
    const at = `net.ipv${family}.neigh.${dev}`;
    lab.sh(ns, ['sysctl', '-q', '-w', `${at}.base_reachable_time_ms=3600000`, `${at}.retrans_time_ms=3600000`, `${at}.delay_first_probe_time=3600`, `${at}.gc_stale_time=3600`]);
  }
}

/**
 * The timers of `host`'s interface (and `more` of its own) stretched, and `peer` knowing the host for good: otherwise,
 * ~5 s after the host pings it, the peer probes the host's address (its entry's DELAY → PROBE), and that unicast
 * request gives the host an entry for the peer, or refreshes it.
 */
export function stillNeighbours(lab: Lab, host: Host, peer: Host, more: readonly string[] = []): void {
  stretchNeighbourTimers(lab, host.ns, [host.ifname, ...more]);
  lab.sh(peer.ns, ['ip', 'neigh', 'replace', host.ip, 'lladdr', host.mac, 'dev', peer.ifname, 'nud', 'permanent']);
}
