/** What one progress line shows. */
export interface ProgressState {
  /** Items done so far (0..total). */
  readonly done: number;
  readonly total: number;
  /** Time since the work started, in milliseconds. */
  readonly elapsedMs: number;
}

/** How wide the line may be. */
export interface LineLayout {
  /** Terminal width: the line stays within `columns - 1`, since writing the last column makes some terminals wrap. */
  readonly columns: number;
  /** Cells in the `[###...]` bar when there is room; it shrinks, then goes, in narrower terminals. */
  readonly barWidth: number;
}

const MIN_BAR = 5;
// Made on first use: the first Intl.NumberFormat of a process costs 20-30 ms (ICU's locale data), which every
// `ersatz scan` paid at start-up when they were made here, with or without a progress line to show.
let thousands: Intl.NumberFormat | undefined;
let tenths: Intl.NumberFormat | undefined;

/**
 * Returns the text of one progress line, e.g. `[##########..........] 32767/65534 50% 41,230/s ETA 0.8s`: done and
 * total, the percentage rounded down (100% only when done), the mean rate since the start and the time left at that
 * rate (`-` until there is a rate). Pure: the same state and layout always give the same text.
 */
export function formatProgress(state: ProgressState, layout: LineLayout): string {
  const { done, total, elapsedMs } = state;
  const fraction = total === 0 ? 1 : Math.min(done / total, 1);
  const rate = elapsedMs > 0 && done > 0 ? (done * 1000) / elapsedMs : undefined;
  const eta = rate === undefined ? '-' : formatDuration((total - done) / rate);
  const tail = `${done}/${total} ${Math.floor(fraction * 100)}% ${rate === undefined ? '-' : formatRate(rate)}/s ETA ${eta}`;

  const room = layout.columns - 1;
  const fit = room - tail.length - 3; // `[`, `]` and a space
  // Full width when it fits; shrunk while still readable; else no bar at all.
  const bar = layout.barWidth <= fit ? layout.barWidth : fit >= MIN_BAR ? fit : 0;
  if (bar === 0) return tail.slice(0, Math.max(room, 0));
  const filled = Math.floor(fraction * bar);
  return `[${'#'.repeat(filled)}${'.'.repeat(bar - filled)}] ${tail}`;
}

/** `41,230`; below 10 one decimal (`2.5`), so slow sweeps do not read as 0/s or 2/s. */
export function formatRate(perSecond: number): string {
  if (perSecond < 10) return (tenths ??= new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 })).format(perSecond);
  return (thousands ??= new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })).format(perSecond);
}

/** `1.3s` below 10 s, `42s` below a minute, `2m05s` below an hour, then `1h02m`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '-';
  if (seconds < 9.95) return `${seconds.toFixed(1)}s`;
  if (seconds < 59.5) return `${Math.round(seconds)}s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  const m = Math.round(seconds / 60);
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
