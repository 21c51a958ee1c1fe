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
  /** ersatz's figure (median of the samples when several). */
  readonly ersatz: number;
  /** Raw ersatz samples, for --json. */
  readonly samples?: readonly number[];
  /** Peers measured in the same run; `value: null` with a note when the peer is not installed. */
  readonly peers: readonly PeerFigure[];
  /** The goal from the issue, and whether this run met it. */
  readonly target?: { readonly text: string; readonly pass: boolean };
  /** Anything a reader needs to trust the figure (how a peer's RTT was corrected, loss, ...). */
  readonly note?: string;
}

export interface PeerFigure {
  readonly name: string;
  readonly value: number | null;
  readonly samples?: readonly number[];
  readonly note?: string;
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
