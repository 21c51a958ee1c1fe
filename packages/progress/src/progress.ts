import { ProgressArgumentError } from './error.js';
import { formatProgress } from './format.js';

/** The part of a stream the line needs: `process.stderr` or, in tests, a Writable with `isTTY` and `columns` set. */
export interface ProgressStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface ProgressOptions {
  /** How many items the work has (addresses to probe): a non-negative integer. */
  readonly total: number;
  /** Where to draw. Default `process.stderr`; nothing is drawn unless `stream.isTTY` is true. */
  readonly stream?: ProgressStream;
  /** false keeps the line off whatever the stream is (the caller passes false for --json or piped output). Default true. */
  readonly enabled?: boolean;
  /** Least time between two redraws, ms. Default 100 (at most 10 redraws a second). */
  readonly intervalMs?: number;
  /** Cells in the bar when the terminal is wide enough. Default 20. */
  readonly barWidth?: number;
  /** The clock in ms, for rate and ETA. Default `performance.now`; tests pass a fake one. */
  readonly now?: () => number;
}

const CLEAR_LINE = '\r\x1b[K'; // carriage return, then erase to the end of the line (ECMA-48 EL 0)

/**
 * A live one-line progress bar, `[#####.....] 12034/65534 18% 41,230/s ETA 1.3s`, redrawn in place on a terminal.
 *
 * Redraws are throttled: an update inside the interval schedules one trailing redraw instead of drawing, so the line
 * shows the latest count within `intervalMs` and is written at most once per interval. Off a TTY, or with
 * `enabled: false`, every method is a no-op that writes nothing and starts no timer. `stop()` erases the line (so the
 * results printed after it start on a clean line) and cancels the pending redraw: no timer outlives it.
 */
export class Progress {
  /** Whether the line is drawn at all (a TTY and enabled), and not yet stopped. */
  get active(): boolean {
    return this.#active;
  }

  /** Items done so far, as last reported. */
  get done(): number {
    return this.#done;
  }

  readonly total: number;
  readonly #stream: ProgressStream;
  readonly #intervalMs: number;
  readonly #barWidth: number;
  readonly #now: () => number;
  readonly #start: number;
  #active: boolean;
  #done = 0;
  #lastDraw = -Infinity;
  #shown = ''; // the text on screen now; '' when the line is clear
  #timer: NodeJS.Timeout | undefined;

  /** Starts the clock and draws the empty bar (when active). Throws ProgressArgumentError for a bad option. */
  constructor(options: ProgressOptions) {
    const { total, intervalMs = 100, barWidth = 20 } = options;
    if (!Number.isSafeInteger(total) || total < 0) throw new ProgressArgumentError('total', total, 'a non-negative integer');
    if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
      throw new ProgressArgumentError('intervalMs', intervalMs, 'a positive number of milliseconds');
    }
    if (!Number.isSafeInteger(barWidth) || barWidth < 0) {
      throw new ProgressArgumentError('barWidth', barWidth, 'a non-negative integer');
    }
    this.total = total;
    this.#stream = options.stream ?? process.stderr;
    this.#intervalMs = intervalMs;
    this.#barWidth = barWidth;
    this.#now = options.now ?? (() => performance.now());
    this.#start = this.#now();
    this.#active = (options.enabled ?? true) && this.#stream.isTTY === true;
    this.#request();
  }

  /**
   * Reports `done` items finished (counts above `total`, such as duplicate replies, show as `total`).
   * Throws ProgressArgumentError for a negative or non-integer count.
   */
  update(done: number): void {
    if (!Number.isSafeInteger(done) || done < 0) throw new ProgressArgumentError('done', done, 'a non-negative integer');
    this.#done = Math.min(done, this.total);
    this.#request();
  }

  /** Reports `n` more items finished (default 1). Throws as update does. */
  increment(n = 1): void {
    this.update(this.#done + n);
  }

  /**
   * Erases the line now so the caller can print a result line (on stdout or stderr) without the bar in it; the bar
   * comes back on the next update, or within `intervalMs` at the latest.
   */
  clear(): void {
    if (!this.#active) return;
    this.#erase();
    // Never redraw synchronously here: the caller's line is written right after this returns.
    this.#schedule(Math.max(this.#lastDraw + this.#intervalMs - this.#now(), 0));
  }

  /** Erases the line and cancels any pending redraw; later calls do nothing. Safe to call more than once. */
  stop(): void {
    if (!this.#active) return;
    this.#active = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#erase();
  }

  // Draws now if the interval since the last draw has passed, else makes sure one trailing redraw is scheduled.
  // The timer is a one-shot (not an interval), so even a Progress nobody stops keeps the process alive ≤ intervalMs.
  #request(): void {
    if (!this.#active) return;
    const now = this.#now();
    const wait = this.#lastDraw + this.#intervalMs - now;
    if (wait <= 0) this.#draw(now);
    else this.#schedule(wait);
  }

  #schedule(wait: number): void {
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      if (this.#active) this.#draw(this.#now());
    }, wait);
  }

  #draw(now: number): void {
    // This frame supersedes a pending trailing one (a late timer must not draw twice in one interval).
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#lastDraw = now;
    const line = formatProgress(
      { done: this.#done, total: this.total, elapsedMs: now - this.#start },
      { columns: this.#stream.columns ?? 80, barWidth: this.#barWidth },
    );
    if (line === this.#shown) return;
    // Rewrite from column 0 and erase what a longer previous line left to the right.
    this.#stream.write(`\r${line}\x1b[K`);
    this.#shown = line;
  }

  #erase(): void {
    if (this.#shown === '') return;
    this.#stream.write(CLEAR_LINE);
    this.#shown = '';
  }
}
