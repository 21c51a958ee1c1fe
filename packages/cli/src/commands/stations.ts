// `ersatz stations`: the station table `ersatz watch` keeps.
import { StationStore, defaultDbPath } from '@ersatz/watch';
import { parseSpec } from '../options.js';
import type { CommandSpec, Options } from '../spec.js';
import { Exit, UsageError, type ExitCode } from '../exit.js';
import { LineWriter } from '../line-writer.js';
import { STATION_HEADER, stationJson, stationLine } from './watch-outputs.js';

const OPTIONS = {
  db: { type: 'string', arg: 'FILE', complete: 'file', help: 'the station database (default: the one ersatz watch keeps by default)' },
  interface: { type: 'string', short: 'I', arg: 'IF', complete: 'interface', help: 'only the stations on IF' },
  json: { type: 'boolean', default: false, help: 'JSON Lines: one {"type":"station",...} object per station' },
} as const satisfies Options;

export const SPEC: CommandSpec<typeof OPTIONS> = {
  name: 'stations',
  usage: 'ersatz stations [--db FILE] [--interface IF] [--json]',
  about: 'Prints the stations ersatz watch has seen, by interface and address: MAC, first and last seen, how seen, vendor.',
  options: OPTIONS,
  notes: 'Exit codes: 0 done (also for an empty table), 2 usage or environment error (no such database, no SQLite).',
  positionals: false,
};

/** `ersatz stations`. */
export async function run(argv: string[]): Promise<ExitCode> {
  const args = parseSpec(SPEC, argv, 0);
  if (args === null) return Exit.OK;
  const v = args.values;
  const file = v.db ?? defaultDbPath();
  const { existsSync } = await import('node:fs');
  if (!existsSync(file)) throw new UsageError(`stations: no station database at ${file}: run 'ersatz watch' first, or give --db FILE`);
  let store: StationStore;
  try {
    store = await StationStore.open(file);
  } catch (err) {
    throw new UsageError(`stations: ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  const out = new LineWriter();
  try {
    const stations = store.stations().filter((s) => v.interface === undefined || s.ifname === v.interface);
    if (!v.json) out.line(STATION_HEADER);
    for (const s of stations) out.line(v.json ? stationJson(s) : stationLine(s));
  } finally {
    out.flush();
    store.close();
  }
  return Exit.OK;
}
