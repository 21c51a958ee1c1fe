/** Base of every error this package throws: catch `ProgressError` to catch them all. Facts live in fields. */
export class ProgressError extends Error {
  override name = 'ProgressError';
}

/** An option or count the progress line cannot draw: `progress: invalid total -1 (a non-negative integer)`. */
export class ProgressArgumentError extends ProgressError {
  override name = 'ProgressArgumentError';
  constructor(
    readonly argument: string,
    readonly value: number,
    readonly rule: string,
  ) {
    super(`progress: invalid ${argument} ${value} (${rule})`);
  }
}
