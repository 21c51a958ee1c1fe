// Big-endian helpers for emit paths: plain index stores, no DataView, nothing allocated.

export function writeU16(bytes: Uint8Array, at: number, v: number): void {
  bytes[at] = v >>> 8;
  bytes[at + 1] = v & 0xff;
}

/** Reads a big-endian u16; the caller has checked `at + 2 <= bytes.length`. */
export function readU16(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 8) | bytes[at + 1]!;
}

