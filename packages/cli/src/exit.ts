/** Process exit codes, the same for every subcommand (documented in `--help` and README). */
export const Exit = {
  /** Resolved / answered / done. */
  OK: 0,
  /** The network said no: no reply, address taken (arping -D), nothing found. */
  NO_REPLY: 1,
  /** Usage or environment: bad argument, unknown interface, missing capability, no default route, unreadable file. */
  USAGE: 2,
  /** A bug in ersatz (an error nobody anticipated): the stack trace is printed. */
  SOFTWARE: 70,
  /** Interrupted by SIGINT (128 + 2), after printing partial results. */
  INTERRUPTED: 130,
  /** Stopped by SIGTERM (128 + 15: systemd, `kill`, `timeout`), after the same partial results as SIGINT. */
  TERMINATED: 143,
} as const;
export type ExitCode = (typeof Exit)[keyof typeof Exit];

/**
 * An error whose message is a complete one-line answer for the user (what went wrong and what to do).
 * The CLI prints `ersatz: <message>` and exits with `code`, never a stack trace.
 */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    message: string,
    readonly code: ExitCode = Exit.USAGE,
  ) {
    super(message);
  }
}
