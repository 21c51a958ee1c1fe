/** Base of every error this package throws: catch `ProgressError` to catch them all. Facts live in fields. */
export class ProgressError extends Error {
  override name = 'ProgressError';
  /** Its message is written for the user (what went wrong, what to do): the CLI prints it as one line, exit 2. */
  get userFacing(): true {
    return true;
  }
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
