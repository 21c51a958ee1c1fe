const hex32 = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

/** Base of every error this package throws: catch `PcapError` to catch them all. Facts live in fields. */
export class PcapError extends Error {
  override name = 'PcapError';
  /** Its message is written for the user (what went wrong, what to do): the CLI prints it as one line, exit 2. */
  get userFacing(): true {
    return true;
  }
}

/** The first four bytes are neither a classic pcap magic nor a pcapng Section Header Block. */
export class PcapMagicError extends PcapError {
  override name = 'PcapMagicError';
  constructor(readonly magic: number) {
    super(`not a pcap or pcapng file: bad magic ${hex32(magic)} (expected 0xa1b2c3d4, 0xa1b23c4d or a pcapng section header 0x0a0d0d0a)`);
  }

  /** The magic as `0x` and eight hex digits, as the message prints it. */
  get magicHex(): string {
    return hex32(this.magic);
  }
}

/**
 * The file ends inside a header, record or block: `truncated record at byte 4120: need 76 bytes, have 20`.
 * A reader throws it only after yielding every complete record before `offset` (a capture cut short keeps its frames).
 */
export class PcapTruncatedError extends PcapError {
  override name = 'PcapTruncatedError';
  constructor(
    readonly what: string,
    readonly offset: number,
    readonly need: number,
    readonly have: number,
  ) {
    super(`truncated ${what} at byte ${offset}: need ${need} bytes, have ${have}`);
  }
}

/** A header or block is complete but its contents contradict the format: `malformed pcapng block at byte 28: length 13 is not a multiple of 4`. */
export class PcapMalformedError extends PcapError {
  override name = 'PcapMalformedError';
  constructor(
    readonly what: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`malformed ${what} at byte ${offset}: ${reason}`);
  }
}

/** A well-formed file in a version or variant this reader does not handle: `unsupported pcap version 3.0`. */
export class PcapUnsupportedError extends PcapError {
  override name = 'PcapUnsupportedError';
  constructor(
    readonly what: string,
    readonly value: string,
  ) {
    super(`unsupported ${what} ${value}`);
  }
}

/** The file could not be opened or read at all: `cannot read x.pcap: no such file or directory`. */
export class PcapFileError extends PcapError {
  override name = 'PcapFileError';
  constructor(
    readonly path: string,
    /** The errno code (`ENOENT`, `EISDIR`, ...) or `EFBIG` when the file is over what one buffer holds. */
    readonly code: string,
    readonly reason: string,
  ) {
    super(`cannot read ${path}: ${reason}`);
  }
}

/** The writer was given something a classic pcap file cannot hold: `pcap writer: snaplen 0 is not a positive 32-bit length`. */
export class PcapWriteError extends PcapError {
  override name = 'PcapWriteError';
  constructor(readonly reason: string) {
    super(`pcap writer: ${reason}`);
  }
}
