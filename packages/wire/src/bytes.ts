// Byte helpers for the emit and record paths (big-endian where it matters): plain index stores, no DataView, no
// views, nothing allocated.
import { TruncatedError } from './error.js';

/**
 * Throws TruncatedError (`arp buffer: need 42 bytes, have 40`) unless `bytes` holds `len` bytes from `offset`:
 * index stores past the end are silently dropped, so every emit checks its room once, up front.
 */
export function needRoom(bytes: Uint8Array, offset: number, len: number, layer: string): void {
  if (offset < 0 || offset + len > bytes.length) throw new TruncatedError(`${layer} buffer`, offset + len, bytes.length);
}

export function writeU16(bytes: Uint8Array, at: number, v: number): void {
  bytes[at] = v >>> 8;
  bytes[at + 1] = v & 0xff;
}

/** Reads a big-endian u16; the caller has checked `at + 2 <= bytes.length`. */
export function readU16(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 8) | bytes[at + 1]!;
}

/** Reads a big-endian u32; the caller has checked `at + 4 <= bytes.length`. */
export function readU32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) >>> 0) + ((bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!);
}

/**
 * Copies `n` bytes from `from` at `fromAt` to `to` at `toAt`; the caller has checked both ranges. For the few bytes of
 * a per-frame record: `to.set(from.subarray(...))` makes a view for each, which on a SharedArrayBuffer costs more than
 * the copy.
 */
export function copyBytes(to: Uint8Array, toAt: number, from: Uint8Array, fromAt: number, n: number): void {
  for (let i = 0; i < n; i++) to[toAt + i] = from[fromAt + i]!;
}
