/**
 * The RFC 1071 one's-complement sum of `bytes[start, end)` as big-endian 16-bit words (an odd last byte is padded
 * with a zero), folded to 16 bits, plus `initial` (a previous partial sum). Returns the sum, not yet inverted.
 * Allocates nothing.
 */
export function onesComplementSum(bytes: Uint8Array, start = 0, end = bytes.length, initial = 0): number {
  let sum = initial;
  let i = start;
  // Up to 2^37 words fit a double exactly, far beyond any packet: fold once at the end.
  for (; i + 1 < end; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (i < end) sum += bytes[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/**
 * The Internet checksum (RFC 1071) of `bytes[start, end)`: the value to store in the checksum field when that
 * field reads zero. Over a region that already holds a correct checksum it returns 0.
 */
export function internetChecksum(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return ~onesComplementSum(bytes, start, end) & 0xffff;
}

/**
 * The Internet checksum of `bytes[start, end)` computed as if the 16-bit checksum field at `fieldAt` were zero:
 * what the field should hold, whatever it holds now. Lets verification report the expected value without writing
 * to the caller's bytes. `fieldAt - start` must be even.
 */
export function checksumSkipping(bytes: Uint8Array, start: number, end: number, fieldAt: number): number {
  return ~onesComplementSum(bytes, fieldAt + 2, end, onesComplementSum(bytes, start, fieldAt)) & 0xffff;
}
