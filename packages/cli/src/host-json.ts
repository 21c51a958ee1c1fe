// `ersatz scan --json`'s host lines, written out instead of built by JSON.stringify: the same text (keys, order,
// escapes and digits; test/host-json.test.ts holds them to it), for less of the main thread's time in a sweep that
// prints a line per host. A /16 sweep's 65 534 lines took ~19 ms less of that thread's CPU (16 interleaved runs,
// /proc/thread-self/schedstat); most of it was the RTT's Number → shortest text (~0.3 µs a line), which msText
// does with integers. A sweep keeps both CPUs busy, so its scan time follows the CPU all its threads use.
import { Ipv4, type Mac } from '@ersatz/wire';

/** The host lines of one sweep on one interface. */
export class HostJson {
  readonly #tail: string;
  /** JSON text by vendor name: a sweep meets few names, each many times. */
  readonly #vendors = new Map<string | null, string>();

  constructor(ifname: string) {
    this.#tail = `,"interface":${JSON.stringify(ifname)}}`;
  }

  /**
   * JSON.stringify({ type: 'host', ip, mac, vendor, rttMs, dup, ethSrc?, vlan?, interface }); `ethSrc` null when it is
   * `mac`, `vlan` (the reply's 802.1Q tag, `scan -Q`) null when it came untagged.
   */
  line(ip: Ipv4, mac: Mac, vendor: string | null, rttNs: bigint, dup: boolean, ethSrc: Mac | null, vlan: number | null): string {
    let v = this.#vendors.get(vendor);
    if (v === undefined) this.#vendors.set(vendor, (v = JSON.stringify(vendor)));
    // A MAC's text (colon hex) and a dotted IPv4 need no escaping.
    const proxy = ethSrc === null ? '' : `,"ethSrc":"${ethSrc}"`;
    const tag = vlan === null ? '' : `,"vlan":${vlan}`;
    return `{"type":"host","ip":"${Ipv4.format(ip)}","mac":"${mac}","vendor":${v},"rttMs":${msText(rttNs)},"dup":${dup}${proxy}${tag}${this.#tail}`;
  }
}

/**
 * `ns` (≥ 0) in milliseconds as JSON.stringify(Number(ns) / 1e6) writes it (the shortest text that reads back as that
 * number), from the integer: below 10^15 ns (11 days) the exact decimal has at most 15 significant digits, so it is
 * that shortest text, trailing zeros dropped.
 */
export function msText(ns: bigint): string {
  const n = Number(ns);
  const whole = Math.floor(n / 1e6);
  let frac = n - whole * 1e6;
  if (frac === 0) return `${whole}`;
  let digits = 6;
  while (frac % 10 === 0) {
    frac /= 10;
    digits--;
  }
  return `${whole}.${`${frac}`.padStart(digits, '0')}`;
}
