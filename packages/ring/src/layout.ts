/**
 * Where everything lives in a ring's SharedArrayBuffer. Internal: the public API is the functions and classes.
 *
 * The header keeps the writer's words, the reader's words and the rarely written control words on three separate
 * 64-byte cache lines, so the two threads do not bounce one line between cores on every record (false sharing).
 *
 *   byte   0  WRITE          i32  free-running byte position of the next record (writer stores, reader loads)
 *   byte   8  PUSHED         u64  records accepted (writer)
 *   byte  16  DROPPED        u64  records refused (writer)
 *   byte  24  DROPPED_BYTES  u64  payload bytes refused (writer)
 *   byte  64  READ           i32  free-running byte position of the next unread record (reader stores, writer loads)
 *   byte  72  POPPED         u64  records consumed (reader)
 *   byte 128  WAITING        i32  1 while the reader has announced it is about to sleep; the word it sleeps on
 *   byte 132  CLOSED         i32  1 once closeRing ran
 *   byte 136  WRITER_CLAIM   i32  1 once a RingWriter exists
 *   byte 140  READER_CLAIM   i32  1 once a RingReader exists
 *   byte 144  MAGIC          i32  identifies a ring buffer
 *   byte 148  DATA_BYTES     i32  size of the data area
 *   byte 192  data area      `dataBytes` bytes of records
 *
 * Positions are free-running uint32 byte counters (kept in i32 words, read with `>>> 0`); the offset in the data area
 * is `pos & (dataBytes - 1)`. Since dataBytes is a power of two ≤ 2^30 it divides 2^32, so the wrap of the counter at
 * 2^32 is invisible and `(write - read) >>> 0` is always the number of bytes in use.
 *
 * A record is 8-byte aligned: `[len i32][kind i32][tsNs u64][payload len bytes][pad to 8]`. When a record does not fit
 * between its offset and the end of the data area, the writer stores len = SKIP there (at least 8 bytes remain, since
 * everything is 8-aligned) and the record goes at offset 0; the reader jumps to the next lap on SKIP.
 */
export const I32 = {
  WRITE: 0,
  READ: 16,
  WAITING: 32,
  CLOSED: 33,
  WRITER_CLAIM: 34,
  READER_CLAIM: 35,
  MAGIC: 36,
  DATA_BYTES: 37,
} as const;
export const U64 = { PUSHED: 1, DROPPED: 2, DROPPED_BYTES: 3, POPPED: 9 } as const;

export const HEADER_BYTES = 192;
export const RECORD_HEADER_BYTES = 16;
export const MAGIC = 0x52494e47; // 'RING'
export const SKIP = -1;
export const MIN_DATA_BYTES = 4096;
export const MAX_DATA_BYTES = 2 ** 30;

/** The record's size in the data area: header plus payload, rounded up to 8. */
export function recordBytes(len: number): number {
  return (RECORD_HEADER_BYTES + len + 7) & ~7;
}

/**
 * Largest payload that always fits in an empty ring, wherever its positions stand: a record of up to half the data
 * area fits either before the end or, after a SKIP, before the read position. A bigger one could be refused by an
 * empty ring, which would make "too big" depend on history.
 */
export function maxFrameBytes(dataBytes: number): number {
  return dataBytes / 2 - RECORD_HEADER_BYTES;
}
