/** Base of every error this package throws: catch `RingError` to catch them all. Facts live in fields. */
export class RingError extends Error {
  override name = 'RingError';
}

/**
 * `createRing` was asked for a size the ring cannot use:
 * `ring: dataBytes must be a power of two from 4096 to 1073741824, got 5000`.
 */
export class RingSizeError extends RingError {
  override name = 'RingSizeError';
  /** A size or argument the caller chose (the CLI prints it as one line, exit 2); the other ring errors are bugs. */
  get userFacing(): true {
    return true;
  }
  constructor(
    readonly dataBytes: number,
    readonly min: number,
    readonly max: number,
  ) {
    super(`ring: dataBytes must be a power of two from ${min} to ${max}, got ${dataBytes}`);
  }
}

/** Something that is not a handle from `createRing` was passed where one is needed. */
export class RingHandleError extends RingError {
  override name = 'RingHandleError';
  constructor(readonly reason: string) {
    super(`ring: not a ring handle (${reason}): pass the object createRing returned, as is`);
  }
}

/** A second `RingWriter` or `RingReader` was built for one ring: the ring is single-producer, single-consumer. */
export class RingRoleTakenError extends RingError {
  override name = 'RingRoleTakenError';
  constructor(readonly role: 'writer' | 'reader') {
    super(
      `ring: this ring already has a ${role}; a ring takes exactly one RingWriter and one RingReader ` +
        `(create one ring per producer/consumer pair)`,
    );
  }
}

/** An argument outside its range: `ring: tsNs must be an unsigned 64-bit integer, got -1`. */
export class RingArgumentError extends RingError {
  override name = 'RingArgumentError';
  /** A size or argument the caller chose (the CLI prints it as one line, exit 2); the other ring errors are bugs. */
  get userFacing(): true {
    return true;
  }
  constructor(
    readonly argument: string,
    readonly expected: string,
    readonly value: unknown,
  ) {
    super(`ring: ${argument} must be ${expected}, got ${typeof value === 'bigint' ? `${value}n` : String(value)}`);
  }
}

/** A record header holds a length no writer could have stored: something other than RingWriter wrote into the ring. */
export class RingCorruptError extends RingError {
  override name = 'RingCorruptError';
  constructor(
    readonly position: number,
    readonly length: number,
    readonly maxFrameBytes: number,
  ) {
    super(
      `ring: record at byte position ${position} has length ${length} (max ${maxFrameBytes}): the buffer was written ` +
        `by something other than its RingWriter; recreate the ring`,
    );
  }
}
