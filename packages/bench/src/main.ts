// `npm run bench [-- NAME...] [--reps N] [--json FILE] [--out DIR] [--install-peers]`: every scenario in one process
// tree, ersatz and its peers back to back, one table, and charts in --out. It measures; it never gates: exit 0 even
// when targets are missed, 2 on bad arguments.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBenchArgs, USAGE } from './args.js';
import { writeCharts } from './chart.js';
import { BenchUsageError } from './error.js';
import { installPeers } from './peers.js';
import { jsonRows, renderTable } from './table.js';
import type { BenchContext, Measurement, Scenario } from './types.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const scenarioDir = new URL('./scenarios/', import.meta.url);

// Fast, self-contained scenarios first, then the ones that build namespace labs.
const ORDER = ['codec', 'ring', 'pipeline', 'watch', 'neigh', 'resolve', 'ndp', 'scan', 'memory'];

/**
 * Every scenario file that was built (dist/scenarios/NAME.js), in ORDER and then by name: a scenario is registered
 * by existing. Loaded lazily, so a subset run imports nothing it does not measure.
 */
export function scenarioNames(): string[] {
  const found = readdirSync(scenarioDir)
    .filter((f) => f.endsWith('.js'))
    .map((f) => f.slice(0, -3));
  const rank = (n: string) => (ORDER.includes(n) ? ORDER.indexOf(n) : ORDER.length);
  return found.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

async function load(name: string): Promise<Scenario> {
  const mod = (await import(new URL(`${name}.js`, scenarioDir).href)) as { scenario?: Scenario };
  if (!mod.scenario || typeof mod.scenario.run !== 'function') throw new Error(`scenarios/${name}.js exports no \`scenario\``);
  return mod.scenario;
}

async function main(argv: string[]): Promise<number> {
  const known = scenarioNames();
  const args = parseBenchArgs(argv, known);
  if (args.help) {
    process.stdout.write(`${USAGE}\nscenarios: ${known.join(', ')}\n`);
    return 0;
  }
  if (args.installPeers) installPeers();

  const ctx: BenchContext = { reps: args.reps, root, log: (line) => process.stderr.write(`bench: ${line}\n`) };
  ctx.log(`Node ${process.version}: every process the bench starts runs on it`);
  const rows: Measurement[] = [];
  for (const name of args.names) {
    const t0 = performance.now();
    try {
      const scenario = await load(name);
      ctx.log(`${name}: ${scenario.description}`);
      rows.push(...(await scenario.run(ctx)));
    } catch (err) {
      // One scenario failing must not cost the others' figures: it gets a row saying why.
      ctx.log(`${name} failed: ${(err as Error).stack ?? String(err)}`);
      rows.push({ scenario: name, what: `failed: ${(err as Error).message.split('\n')[0]}`, unit: '', better: 'higher', ersatz: Number.NaN, peers: [] });
    }
    ctx.log(`${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  process.stdout.write(`${renderTable(rows)}\n`);

  if (args.json) {
    mkdirSync(dirname(resolve(args.json)), { recursive: true });
    writeFileSync(args.json, `${JSON.stringify({ date: new Date().toISOString(), reps: args.reps, node: process.version, rows: jsonRows(rows) }, null, 2)}\n`);
    ctx.log(`raw samples and summaries: ${args.json}`);
  }
  try {
    const files = await writeCharts(rows, resolve(args.out));
    if (files.length) ctx.log(`charts: ${files.join(', ')}`);
  } catch (err) {
    ctx.log(`charts failed: ${(err as Error).stack ?? String(err)}`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: Error) => {
    process.stderr.write(err instanceof BenchUsageError ? `bench: ${err.message}\n` : `bench: ${err.stack ?? err.message}\n`);
    process.exitCode = 2;
  },
);
