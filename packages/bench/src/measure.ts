// Bookkeeping shared by the scenarios: a tool's figures across repetitions, and the row fields built from them.
import { median } from './stats.js';
import type { PeerFigure } from './types.js';

/** One tool's figures in one scenario: one per repetition, the raw observations pooled, and why any are missing. */
export class Series {
  readonly samples: number[] = [];
  readonly raw: number[] = [];
  readonly problems: string[] = [];

  /** Records one repetition's figure (NaN is not a figure: use `fail`) and its raw observations. */
  add(figure: number, raw: readonly number[] = []): void {
    if (Number.isNaN(figure)) throw new RangeError('Series.add: NaN figure');
    this.samples.push(figure);
    for (const x of raw) this.raw.push(x);
  }

  /** Records why a repetition gave no figure. */
  fail(why: string): void {
    if (!this.problems.includes(why)) this.problems.push(why);
  }

  /** The median of the repetitions' figures; NaN when there is none. */
  get value(): number {
    return median(this.samples);
  }

  /** The figure as a table peer (value null with the reason when it was never measured). */
  peer(name: string, note?: string): PeerFigure {
    if (this.samples.length === 0) return { name, value: null, note: this.problems.join('; ') || 'not measured' };
    const why = [note, ...this.problems].filter(Boolean).join('; ');
    return { name, value: this.value, samples: [...this.samples], ...(this.raw.length && { raw: [...this.raw] }), ...(why && { note: why }) };
  }
}

/** Runs `fn`; a thrown error's first line goes to `series.fail` instead of ending the scenario. */
export async function attempt<T>(series: Series, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    series.fail((err as Error).message.split('\n')[0]!);
    return undefined;
  }
}

/** `pass` when every figure it needs was measured, else null (the table says n/a). */
export function judge(needs: readonly number[], pass: () => boolean): boolean | null {
  return needs.every(Number.isFinite) ? pass() : null;
}
