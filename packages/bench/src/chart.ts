// The charts: Vega-Lite specs compiled and rendered headless by Vega to SVG (no browser, no canvas), then to PNG by
// resvg. Built from the table's rows, so a chart shows exactly the figures of the run it belongs to.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import type { Measurement } from './types.js';

export interface ScanPoint {
  readonly tool: string;
  readonly hosts: number;
  readonly seconds: number;
}

export interface LatencyPoint {
  readonly tool: string;
  readonly us: number;
}

/** The scan rows' figures as points: one per tool and sweep size (tools not measured are left out). */
export function scanPoints(rows: readonly Measurement[]): ScanPoint[] {
  const out: ScanPoint[] = [];
  for (const m of rows) {
    if (m.plot?.chart !== 'scan' || m.plot.x === undefined) continue;
    const hosts = m.plot.x;
    const add = (tool: string, v: number | null) => {
      if (v !== null && Number.isFinite(v) && v > 0) out.push({ tool, hosts, seconds: v });
    };
    add(m.plot.label ?? 'ersatz', m.ersatz);
    for (const p of m.peers) add(p.name, p.value);
  }
  return out;
}

/** The latency rows' raw observations, one series per tool (the first row naming a tool wins). */
export function latencyPoints(rows: readonly Measurement[]): LatencyPoint[] {
  const series = new Map<string, readonly number[]>();
  for (const m of rows) {
    if (m.plot?.chart !== 'latency') continue;
    const label = m.plot.label ?? 'ersatz';
    if (m.raw?.length && !series.has(label)) series.set(label, m.raw);
    for (const p of m.peers) if (p.raw?.length && !series.has(p.name)) series.set(p.name, p.raw);
  }
  return [...series].flatMap(([tool, xs]) => xs.filter((x) => Number.isFinite(x) && x > 0).map((us) => ({ tool, us })));
}

const CONFIG = { font: 'DejaVu Sans, sans-serif', view: { stroke: null } } as const;

/** Hosts swept vs seconds, log-log, one line per tool. */
export function scanSpec(points: readonly ScanPoint[]): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'ARP sweep time by size', subtitle: 'each tool’s own clock, first request to end; log-log' },
    width: 520,
    height: 340,
    config: CONFIG,
    data: { values: [...points] },
    encoding: {
      x: { field: 'hosts', type: 'quantitative', scale: { type: 'log' }, title: 'hosts swept' },
      y: { field: 'seconds', type: 'quantitative', scale: { type: 'log' }, title: 'seconds' },
      color: { field: 'tool', type: 'nominal', title: null, legend: { orient: 'bottom', columns: 2, labelLimit: 400 } },
    },
    layer: [{ mark: { type: 'line', strokeWidth: 2 } }, { mark: { type: 'point', filled: true, size: 50 } }],
  };
}

/** The empirical distribution of resolve latencies, one step line per tool, log x. */
export function latencySpec(points: readonly LatencyPoint[]): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Resolve latency, 1000 sequential resolves', subtitle: 'caller asks → answer in hand; fraction of resolves at or below x' },
    width: 520,
    height: 340,
    config: CONFIG,
    data: { values: [...points] },
    transform: [{ window: [{ op: 'cume_dist', as: 'fraction' }], sort: [{ field: 'us' }], groupby: ['tool'] }],
    mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2 },
    encoding: {
      x: { field: 'us', type: 'quantitative', scale: { type: 'log' }, title: 'latency (µs)' },
      y: { field: 'fraction', type: 'quantitative', title: 'fraction of resolves', scale: { domain: [0, 1] } },
      color: { field: 'tool', type: 'nominal', title: null, legend: { orient: 'bottom', columns: 2, labelLimit: 400 } },
    },
  };
}

/** Renders a Vega-Lite spec to SVG text (Vega's headless renderer: no canvas, text widths estimated). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterises SVG text to PNG bytes at twice its size, on white. */
export async function svgToPng(svg: string): Promise<Uint8Array> {
  const { Resvg } = await import('@resvg/resvg-js');
  return new Resvg(svg, { background: 'white', fitTo: { mode: 'zoom', value: 2 } }).render().asPng();
}

/**
 * Writes scan-scaling.{svg,png} and resolve-latency.{svg,png} into `dir` (created if needed) for whichever of the
 * two the rows have data for. Returns the paths written.
 */
export async function writeCharts(rows: readonly Measurement[], dir: string): Promise<string[]> {
  const charts: [string, TopLevelSpec | null][] = [
    ['scan-scaling', scanPoints(rows).length ? scanSpec(scanPoints(rows)) : null],
    ['resolve-latency', latencyPoints(rows).length ? latencySpec(latencyPoints(rows)) : null],
  ];
  const written: string[] = [];
  for (const [name, spec] of charts) {
    if (!spec) continue;
    mkdirSync(dir, { recursive: true });
    const svg = await renderSvg(spec);
    const svgPath = join(dir, `${name}.svg`);
    const pngPath = join(dir, `${name}.png`);
    writeFileSync(svgPath, svg);
    writeFileSync(pngPath, await svgToPng(svg));
    written.push(svgPath, pngPath);
  }
  return written;
}
