import type { Subscription } from 'rxjs';
import type { Link } from '@ersatz/api';

/** One warning line on stderr, the same shape for every command: `ersatz: warning: <text>`. */
export function warn(text: string): void {
  process.stderr.write(`ersatz: warning: ${text}\n`);
}

/**
 * Prints the link's incidents (a worker restarted, the capture reopened, frames lost) as warning lines while the
 * command runs: the user learns that something went wrong underneath even when the run still succeeds.
 * Unsubscribe when done.
 */
export function warnIncidents(link: Link): Subscription {
  return link.warnings$.subscribe(warn);
}
