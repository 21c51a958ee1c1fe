/** The figures the table and --json give for a set of observations. */
export interface Summary {
  readonly n: number;
  readonly min: number;
  readonly median: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/**
 * The q-quantile (0 ≤ q ≤ 1) of ascending `sorted` values, interpolating linearly between the two nearest ranks
 * (Hyndman & Fan type 7, as numpy and R by default): the median of an even count is the mean of the middle two.
 * Returns NaN for no values; throws RangeError for q outside 0..1.
 */
export function quantile(sorted: readonly number[], q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile ${q} is outside 0..1`);
  if (sorted.length === 0) return Number.NaN;
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const below = sorted[lo]!;
  const above = sorted[Math.min(lo + 1, sorted.length - 1)]!;
  return below + (above - below) * (at - lo);
}

/** The median of `xs` in any order; NaN for none. */
export function median(xs: readonly number[]): number {
  return quantile(ascending(xs), 0.5);
}

/** n, min, median, p99, max and mean of `xs` in any order; NaN figures (n = 0) for none. NaN values are refused. */
export function summarize(xs: readonly number[]): Summary {
  if (xs.some((x) => Number.isNaN(x))) throw new RangeError('summarize: NaN among the observations');
  const s = ascending(xs);
  const sum = s.reduce((a, b) => a + b, 0);
  return {
    n: s.length,
    min: s[0] ?? Number.NaN,
    median: quantile(s, 0.5),
    p99: quantile(s, 0.99),
    max: s.at(-1) ?? Number.NaN,
    mean: s.length ? sum / s.length : Number.NaN,
  };
}

function ascending(xs: readonly number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}

/**
 * The least-squares line through `ys` at x = 0, 1, 2, …: returns its value at the first and last x, which smooths
 * the noise of single readings when a trend is what matters (RSS over repeated sweeps). NaN for fewer than 2 values.
 */
export function trend(ys: readonly number[]): { readonly first: number; readonly last: number } {
  const n = ys.length;
  if (n < 2) return { first: Number.NaN, last: Number.NaN };
  const meanX = (n - 1) / 2;
  const meanY = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  ys.forEach((y, x) => {
    sxy += (x - meanX) * (y - meanY);
    sxx += (x - meanX) ** 2;
  });
  const slope = sxy / sxx;
  return { first: meanY - slope * meanX, last: meanY + slope * meanX };
}
