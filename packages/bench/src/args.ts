import { parseArgs } from 'node:util';
import { BenchUsageError } from './error.js';

/** What `npm run bench -- ...` asked for. */
export interface BenchArgs {
  /** Scenarios to run, in the order given (duplicates dropped); every known one when none was named. */
  readonly names: readonly string[];
  /** Repetitions of each scenario, 1..100 (default 1). */
  readonly reps: number;
  /** Where to write raw samples and summaries as JSON, if anywhere. */
  readonly json: string | undefined;
  /** Folder for the charts (default `bench-out`). */
  readonly out: string;
  /** apt-get the peers (arping, arp-scan, scapy) before running. */
  readonly installPeers: boolean;
  readonly help: boolean;
}

export const USAGE = 'usage: npm run bench -- [NAME...] [--reps N] [--json FILE] [--out DIR] [--install-peers]';

/**
 * Parses the harness's arguments against the `known` scenario names. Returns them; throws BenchUsageError for an
 * unknown option or scenario, a missing option value, or --reps outside 1..100.
 */
export function parseBenchArgs(argv: readonly string[], known: readonly string[]): BenchArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        reps: { type: 'string', default: '1' },
        json: { type: 'string' },
        out: { type: 'string', default: 'bench-out' },
        'install-peers': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code?.startsWith('ERR_PARSE_ARGS_')) throw new BenchUsageError('argument', argv.join(' '), (err as Error).message.split('\n')[0]!);
    throw err;
  }
  const { values, positionals } = parsed;
  const reps = Number(values.reps);
  if (!/^\d+$/.test(values.reps) || reps < 1 || reps > 100) throw new BenchUsageError('--reps', values.reps, 'takes a whole number from 1 to 100');
  if (values.json === '') throw new BenchUsageError('--json', '', 'takes a file name');
  if (values.out === '') throw new BenchUsageError('--out', '', 'takes a folder name');
  const unknown = positionals.filter((n) => !known.includes(n));
  if (unknown.length) throw new BenchUsageError('scenario', unknown.join(' '), `choose from ${known.join(', ')}`);
  return {
    names: positionals.length ? [...new Set(positionals)] : [...known],
    reps,
    json: values.json,
    out: values.out,
    installPeers: values['install-peers'],
    help: values.help,
  };
}
