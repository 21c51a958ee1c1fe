// What the ersatz drivers share. A driver is a child process the harness starts inside a lab namespace (cap loads
// in one thread per process, and a process's namespace is fixed when it starts); it prints one JSON line.

/** Exit code of a driver that could not load ersatz (not built yet): the harness reports "not measured". */
export const UNAVAILABLE = 3;

/** Returns `parse()` (the driver's argument parsing); when it throws, prints why and the usage line and exits 2. */
export function orUsage<R>(usage: string, parse: () => R): R {
  try {
    return parse();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\nusage: ${usage}\n`);
    process.exit(2);
  }
}

/** A whole number ≥ `min` from option `name`, or exit 2. */
export function whole(name: string, text: unknown, min = 1): number {
  const n = Number(text);
  if (typeof text !== 'string' || !/^\d+$/.test(text) || n < min) {
    process.stderr.write(`--${name} takes a whole number ≥ ${min}, not ${JSON.stringify(text)}\n`);
    process.exit(2);
  }
  return n;
}

/** Imports `@ersatz/api`; when it is not there (not built yet) prints `{"unavailable": why}` and exits UNAVAILABLE. */
export async function loadApi(): Promise<typeof import('@ersatz/api')> {
  try {
    return await import('@ersatz/api');
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ unavailable: `@ersatz/api does not load: ${(err as Error).message.split('\n')[0]}` })}\n`);
    process.exit(UNAVAILABLE);
  }
}

/** Writes the driver's one JSON line. */
export function report(result: object): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
