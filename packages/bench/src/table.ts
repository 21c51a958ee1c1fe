import { summarize, type Summary } from './stats.js';
import type { Measurement } from './types.js';

/** Formats a figure with three significant digits and a thousands separator for big ones; '—' for none. */
export function fmt(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return '—';
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  return Number(n.toPrecision(3)).toString();
}

/** ersatz relative to a peer, oriented so that > 1 always means ersatz is better; null when either is missing. */
export function ratio(m: Pick<Measurement, 'ersatz' | 'better'>, peer: number | null): number | null {
  if (peer === null || !Number.isFinite(peer) || !Number.isFinite(m.ersatz) || peer === 0 || m.ersatz === 0) return null;
  return m.better === 'higher' ? m.ersatz / peer : peer / m.ersatz;
}

/** A figure with its spread across repetitions: `12.3 [11.9–13]` when there are several samples. */
export function withSpread(value: number | null, samples: readonly number[] | undefined): string {
  const finite = samples?.filter(Number.isFinite) ?? [];
  if (finite.length < 2) return fmt(value);
  const s = summarize(finite);
  return `${fmt(value)} [${fmt(s.min)}–${fmt(s.max)}]`;
}

/** The table's verdict: pass, FAIL, n/a (could not be judged), or info (no target). */
export function verdict(m: Measurement): string {
  if (!m.target) return 'info';
  if (m.target.pass === null) return 'n/a';
  return m.target.pass ? 'pass' : 'FAIL';
}

/**
 * One plain-text table: scenario, what, ersatz, each peer (with ratio), target, result; then the rows' notes.
 * Figures are medians; with several repetitions, [min–max] follows.
 */
export function renderTable(rows: readonly Measurement[]): string {
  const header = ['scenario', 'what', 'ersatz', 'peers (ratio: >1 = ersatz better)', 'target', 'result'];
  const body = rows.map((m) => [
    m.scenario,
    m.what,
    `${withSpread(m.ersatz, m.samples)} ${m.unit}`,
    m.peers
      .map((p) => (p.value === null ? `${p.name}: ${p.note ?? 'n/a'}` : `${p.name}: ${withSpread(p.value, p.samples)} (${fmt(ratio(m, p.value))}x)`))
      .join('; ') || '—',
    m.target?.text ?? '—',
    verdict(m),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ').trimEnd();
  const notes = rows.filter((m) => m.note).map((m) => `  ${m.scenario} / ${m.what}: ${m.note}`);
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...body.map(line), ...(notes.length ? ['', 'notes:', ...notes] : [])].join('\n');
}

/** A row as --json writes it: everything measured, plus summaries of the samples and raw observations. */
export interface JsonRow extends Measurement {
  readonly summary: { readonly samples?: Summary; readonly raw?: Summary };
  readonly peerSummaries: readonly { readonly name: string; readonly ratio: number | null; readonly samples?: Summary; readonly raw?: Summary }[];
  readonly result: string;
}

/** Adds the summaries --json carries to each row. */
export function jsonRows(rows: readonly Measurement[]): JsonRow[] {
  const sum = (xs: readonly number[] | undefined) => (xs?.length ? summarize(xs.filter(Number.isFinite)) : undefined);
  return rows.map((m) => ({
    ...m,
    summary: { samples: sum(m.samples), raw: sum(m.raw) },
    peerSummaries: m.peers.map((p) => ({ name: p.name, ratio: ratio(m, p.value), samples: sum(p.samples), raw: sum(p.raw) })),
    result: verdict(m),
  }));
}
