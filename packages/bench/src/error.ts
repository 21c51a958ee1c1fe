/** The base of every error the harness throws. */
export class BenchError extends Error {
  override name = 'BenchError';
}

/** A bad command-line argument: the harness prints the message and exits 2. */
export class BenchUsageError extends BenchError {
  override name = 'BenchUsageError';
  constructor(
    readonly option: string,
    readonly value: string,
    readonly expected: string,
  ) {
    super(`${option} ${JSON.stringify(value)}: ${expected}; run 'npm run bench -- --help'`);
  }
}

/** A tool the harness ran (ersatz, a peer, a baseline) failed or printed something it could not read. */
export class ToolError extends BenchError {
  override name = 'ToolError';
  constructor(
    readonly tool: string,
    readonly code: number | null,
    readonly signal: string | null,
    readonly stderr: string,
  ) {
    const how = signal ? `was killed by ${signal}` : `exited with ${code}`;
    const why = reason(stderr);
    super(`${tool} ${how}${why ? `: ${why}` : ''}`);
  }
}

/** ersatz (or a peer) could not run at all here: not built, not installed. The table says why instead of a figure. */
export class NotMeasuredError extends BenchError {
  override name = 'NotMeasuredError';
  constructor(
    readonly tool: string,
    readonly why: string,
  ) {
    super(`${tool}: ${why}`);
  }
}

/**
 * The line of a tool's stderr that says why it failed: a thrown error's `Name: message` line when Node printed a
 * stack, else the last line that is not a usage or version line. At most 160 characters; '' for none.
 */
export function reason(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const thrown = lines.find((l) => /^[A-Z]\w*(Error|Exception)\b[^:]*:/.test(l));
  const last = lines.filter((l) => !/^(usage:|Node\.js v\d|at )/.test(l)).at(-1);
  return (thrown ?? last ?? '').slice(0, 160);
}
