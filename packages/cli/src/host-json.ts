// `ersatz scan --json`'s host lines, written as bytes straight into the output chunk instead of built by
// JSON.stringify: the same text (keys, order, escapes and digits; test/host-json.test.ts holds them to it), for less
// of the main thread's time in a sweep that prints a line per host. Text built from pieces and then encoded cost a
// /16 sweep's 65 534 lines 74–102 ms and ~45 MB of short-lived strings; bytes put in place cost 27–45 ms and none
// (a loop of those lines), and the sweep's scan time fell from 412 to 385 ms (medians of 8 interleaved runs): a
// sweep keeps both CPUs busy, so its scan time follows the CPU all its threads use.
import type { Ipv4, Mac } from '@ersatz/wire';
import type { LineWriter } from './line-writer.js';

const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');
const IP = utf8('{"type":"host","ip":"');
const MAC = utf8('","mac":"');
const VENDOR = utf8('","vendor":');
const RTT = utf8(',"rttMs":');
const DUP = [utf8(',"dup":false'), utf8(',"dup":true')] as const;
const ETH_SRC = utf8(',"ethSrc":"');
const VLAN = utf8(',"vlan":');
/** A line's bytes but the vendor's and the tail's: the keys above, an address, two MACs, ms and a VLAN's digits. */
const MOST_BYTES = 160;

/** The host lines of one sweep on one interface. */
export class HostJson {
  readonly #tail: Buffer;
  /** JSON text by vendor name: a sweep meets few names, each many times. */
  readonly #vendors = new Map<string | null, Buffer>();

  constructor(ifname: string) {
    this.#tail = utf8(`,"interface":${JSON.stringify(ifname)}}`);
  }

  /** Prints the line (see writeTo) through `out`. */
  print(out: LineWriter, ip: Ipv4, mac: Mac, vendor: string | null, rttNs: bigint, dup: boolean, ethSrc: Mac | null, vlan: number | null): void {
    const at = out.room(MOST_BYTES + this.#vendor(vendor).length + this.#tail.length);
    out.end(this.writeTo(out.chunk, at, ip, mac, vendor, rttNs, dup, ethSrc, vlan));
  }

  /**
   * Writes JSON.stringify({ type: 'host', ip, mac, vendor, rttMs, dup, ethSrc?, vlan?, interface }) as UTF-8 into `b`
   * from `at` (with room for it) and returns where it ends; `ethSrc` null when it is `mac`, `vlan` (the reply's
   * 802.1Q tag, `scan -Q`) null when it came untagged; `rttNs` ≥ 0.
   */
  writeTo(b: Buffer, at: number, ip: Ipv4, mac: Mac, vendor: string | null, rttNs: bigint, dup: boolean, ethSrc: Mac | null, vlan: number | null): number {
    // A MAC's text (colon hex) and a dotted IPv4 need no escaping.
    at = put(b, at, IP);
    at = writeUint(b, at, ip >>> 24);
    for (let shift = 16; shift >= 0; shift -= 8) {
      b[at++] = 0x2e; // '.'
      at = writeUint(b, at, (ip >>> shift) & 0xff);
    }
    at = put(b, at, MAC);
    at = ascii(b, at, mac);
    at = put(b, at, VENDOR);
    at = put(b, at, this.#vendor(vendor));
    at = put(b, at, RTT);
    at = writeMs(b, at, rttNs);
    at = put(b, at, DUP[dup ? 1 : 0]);
    if (ethSrc !== null) {
      at = put(b, at, ETH_SRC);
      at = ascii(b, at, ethSrc);
      b[at++] = 0x22; // '"'
    }
    if (vlan !== null) {
      at = put(b, at, VLAN);
      at = writeUint(b, at, vlan);
    }
    return put(b, at, this.#tail);
  }

  #vendor(name: string | null): Buffer {
    let v = this.#vendors.get(name);
    if (v === undefined) this.#vendors.set(name, (v = utf8(JSON.stringify(name))));
    return v;
  }
}

/**
 * Writes `ns` (≥ 0) in milliseconds as JSON.stringify(Number(ns) / 1e6) writes it (the shortest text that reads back
 * as that number), from the integer: below 10^15 ns (11 days) the exact decimal has at most 15 significant digits, so
 * it is that shortest text, trailing zeros dropped. Returns where the digits end.
 */
export function writeMs(b: Uint8Array, at: number, ns: bigint): number {
  const n = Number(ns);
  const whole = Math.floor(n / 1e6);
  let frac = n - whole * 1e6;
  at = writeUint(b, at, whole);
  if (frac === 0) return at;
  b[at++] = 0x2e; // '.'
  let digits = 6;
  while (frac % 10 === 0) {
    frac /= 10;
    digits--;
  }
  return writeDigits(b, at, frac, digits);
}

/** The decimal digits of the integer `n` ≥ 0; returns where they end. */
function writeUint(b: Uint8Array, at: number, n: number): number {
  let digits = 1;
  for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  return writeDigits(b, at, n, digits);
}

/** The last `digits` decimal digits of the integer `n` ≥ 0, zeros in front; returns where they end. */
function writeDigits(b: Uint8Array, at: number, n: number, digits: number): number {
  for (let i = at + digits - 1; i >= at; i--) {
    b[i] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  }
  return at + digits;
}

/** Text known to be ASCII (a MAC's colon hex). */
function ascii(b: Uint8Array, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) b[at++] = text.charCodeAt(i);
  return at;
}

function put(b: Uint8Array, at: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) b[at++] = bytes[i]!;
  return at;
}
