/**
 * One line of the benchmark table: an ersatz figure beside each peer's figure from the same run.
 * Ratios are only meaningful within one run (the machine is noisy), so a scenario always measures
 * ersatz and its peers back to back in the same process tree.
 */
export interface Measurement {
  /** The scenario's name, e.g. `codec`. */
  readonly scenario: string;
  /** What was measured, e.g. `ARP parse→Repr`. */
  readonly what: string;
  /** e.g. `frames/s`, `µs`, `s`, `entries/s`, `MiB`. */
  readonly unit: string;
  /** Whether a bigger figure is better (throughput) or a smaller one (latency, time, memory). */
  readonly better: 'higher' | 'lower';
  /** ersatz's figure (median of the samples when several); NaN when ersatz could not be measured (say why in `note`). */
  readonly ersatz: number;
  /** One ersatz figure per repetition (--reps), for the min/median/max the table shows and for --json. */
  readonly samples?: readonly number[];
  /** The observations behind one figure, e.g. every resolve's latency: for --json and the charts, not the table. */
  readonly raw?: readonly number[];
  /** Peers measured in the same run; `value: null` with a note when the peer is not installed. */
  readonly peers: readonly PeerFigure[];
  /**
   * The goal from the issue, and whether this run met it: `pass: null` when it could not be judged (ersatz or the
   * peer the goal compares with was not measured).
   */
  readonly target?: { readonly text: string; readonly pass: boolean | null };
  /** Anything a reader needs to trust the figure (how a peer's RTT was corrected, loss, ...). */
  readonly note?: string;
  /** Where the row goes in the charts (see chart.ts); rows without it are not plotted. */
  readonly plot?: PlotPoint;
}

export interface PeerFigure {
  readonly name: string;
  readonly value: number | null;
  /** One figure per repetition, as Measurement.samples. */
  readonly samples?: readonly number[];
  /** The observations behind one figure, as Measurement.raw. */
  readonly raw?: readonly number[];
  readonly note?: string;
}

/**
 * A row's place in a chart: `scan` plots every figure of the row at x = hosts swept (log-log: hosts vs seconds);
 * `latency` plots the distribution of each figure's `raw` observations (one line per tool).
 */
export interface PlotPoint {
  readonly chart: 'scan' | 'latency';
  /** The x value for `scan` (hosts); unused for `latency`. */
  readonly x?: number;
  /** The name of the ersatz series (default `ersatz`); peers are named by PeerFigure.name. */
  readonly label?: string;
}

export interface BenchContext {
  /** Repetitions asked for with --reps (default 1). */
  readonly reps: number;
  /** Repository root (to find dist/main.js and fixtures). */
  readonly root: string;
  /** Progress lines go here (stderr), never to the table. */
  log(line: string): void;
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  run(ctx: BenchContext): Promise<Measurement[]>;
}
