import test from 'ava';
import fc from 'fast-check';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Progress, ProgressArgumentError, ProgressError, formatDuration, formatProgress, formatRate } from '@ersatz/progress';

const ERASE = '\r\x1b[K';

// The tests that wait on real timers run serially, so each one's count of pending timers is its own.

/** A terminal stand-in: records every chunk written, and says it is a TTY of `columns` columns. */
class FakeTty extends Writable {
  readonly chunks: string[] = [];
  constructor(
    readonly isTTY: boolean,
    public columns = 80,
  ) {
    super({ decodeStrings: false });
  }
  override _write(chunk: string, _enc: BufferEncoding, done: () => void): void {
    this.chunks.push(chunk);
    done();
  }
  /** The chunks that drew a line (not the bare erases), as the text shown. */
  get frames(): string[] {
    return this.chunks.filter((c) => c !== ERASE).map((c) => c.slice(1, -3));
  }
}

/** A clock the test moves by hand. */
function fakeClock(start = 0) {
  const clock = { ms: start, now: () => clock.ms };
  return clock;
}

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

test('the line shows bar, count, percent, rate and ETA', (t) => {
  // 12034 of 65534 done at 41,230/s: 53500 left, 1.297 s.
  const wide = { columns: 80, barWidth: 10 };
  t.is(formatProgress({ done: 12034, total: 65534, elapsedMs: (12034 / 41230) * 1000 }, wide), '[#.........] 12034/65534 18% 41,230/s ETA 1.3s');
  t.is(
    formatProgress({ done: 41230, total: 65534, elapsedMs: 1000 }, { ...wide, barWidth: 20 }),
    '[############........] 41230/65534 62% 41,230/s ETA 0.6s',
  );
  t.is(formatProgress({ done: 0, total: 65534, elapsedMs: 0 }, { columns: 80, barWidth: 10 }), '[..........] 0/65534 0% -/s ETA -');
  t.is(formatProgress({ done: 0, total: 254, elapsedMs: 500 }, { columns: 80, barWidth: 10 }), '[..........] 0/254 0% -/s ETA -');
  t.is(formatProgress({ done: 253, total: 254, elapsedMs: 1000 }, { columns: 80, barWidth: 10 }), '[#########.] 253/254 99% 253/s ETA 0.0s');
  t.is(formatProgress({ done: 254, total: 254, elapsedMs: 2000 }, { columns: 80, barWidth: 10 }), '[##########] 254/254 100% 127/s ETA 0.0s');
  t.is(formatProgress({ done: 3, total: 254, elapsedMs: 2000 }, { columns: 80, barWidth: 10 }), '[..........] 3/254 1% 1.5/s ETA 2m47s');
  t.is(formatProgress({ done: 0, total: 0, elapsedMs: 10 }, { columns: 80, barWidth: 4 }), '[####] 0/0 100% -/s ETA -');
});

test('rates and durations read well at every scale', (t) => {
  t.is(formatRate(0.25), '0.3');
  t.is(formatRate(2.5), '2.5');
  t.is(formatRate(41230.4), '41,230');
  t.is(formatRate(1234567.8), '1,234,568');
  const cases = [[0, '0.0s'], [1.25, '1.3s'], [9.94, '9.9s'], [9.96, '10s'], [42.4, '42s'], [59.6, '1m00s'], [125, '2m05s']] as const;
  for (const [s, text] of [...cases, [3599.4, '59m59s'], [3600, '1h00m'], [7322, '2h02m'], [-1, '-'], [Infinity, '-']] as const) {
    t.is(formatDuration(s), text, String(s));
  }
});

test('the line never reaches the last column: the bar shrinks, then goes, then the text is cut', (t) => {
  t.is(formatProgress({ done: 41230, total: 65534, elapsedMs: 1000 }, { columns: 45, barWidth: 20 }), '[#####...] 41230/65534 62% 41,230/s ETA 0.6s');
  t.is(formatProgress({ done: 41230, total: 65534, elapsedMs: 1000 }, { columns: 40, barWidth: 20 }), '41230/65534 62% 41,230/s ETA 0.6s');
  t.is(formatProgress({ done: 41230, total: 65534, elapsedMs: 1000 }, { columns: 12, barWidth: 20 }), '41230/65534');
  const counts = fc.tuple(fc.nat(1e7), fc.nat(1e7)).map(([a, b]): [number, number] => (a <= b ? [a, b] : [b, a]));
  fc.assert(
    fc.property(counts, fc.nat(1e8), fc.nat(300), fc.nat(60), ([done, total], elapsedMs, columns, barWidth) => {
      const line = formatProgress({ done, total, elapsedMs }, { columns, barWidth });
      return line.length <= Math.max(columns - 1, 0) && !line.includes('NaN') && !line.includes('Infinity');
    }),
  );
  t.pass();
});

test('redraws are throttled to one per interval, each in place with \\r and erase-to-end', (t) => {
  const tty = new FakeTty(true);
  const clock = fakeClock();
  const p = new Progress({ total: 1000, stream: tty, now: clock.now, intervalMs: 100 });
  t.true(p.active);
  t.deepEqual(tty.frames, ['[....................] 0/1000 0% -/s ETA -']);
  // 1000 updates, one per fake millisecond: one redraw per 100 ms.
  for (let ms = 1; ms <= 1000; ms++) {
    clock.ms = ms;
    p.update(ms);
  }
  t.is(tty.frames.length, 11);
  t.is(tty.frames[1], '[##..................] 100/1000 10% 1,000/s ETA 0.9s');
  t.is(tty.frames.at(-1), '[####################] 1000/1000 100% 1,000/s ETA 0.0s');
  for (const c of tty.chunks) t.regex(c, /^\r[^\r\n]*\x1b\[K$/);
  p.stop();
});

test.serial('an update inside the interval leaves one trailing redraw that shows the latest count', async (t) => {
  const tty = new FakeTty(true);
  const clock = fakeClock();
  const before = timers();
  const p = new Progress({ total: 500, stream: tty, now: clock.now, intervalMs: 50 });
  t.is(timers(), before, 'drawing right away needs no timer');
  clock.ms = 10;
  p.update(100);
  p.update(200);
  p.increment(50);
  t.is(tty.frames.length, 1, 'no redraw inside the interval');
  t.is(timers(), before + 1, 'one trailing redraw pending, however many updates');
  clock.ms = 60;
  // The trailing timer (≤ 40 ms) was armed before this one, so it fires first: an ordering, not a timing, assertion.
  await sleep(200);
  t.is(tty.frames.at(-1), '[##########..........] 250/500 50% 4,167/s ETA 0.1s');
  t.is(timers(), before);
  p.stop();
});

test('a draw cancels the trailing redraw it supersedes', (t) => {
  const tty = new FakeTty(true);
  const clock = fakeClock();
  const before = timers();
  const p = new Progress({ total: 10, stream: tty, now: clock.now });
  clock.ms = 50;
  p.update(1); // armed
  t.is(timers(), before + 1);
  clock.ms = 150; // as if the event loop had been busy past the timer's due time
  p.update(2); // draws now
  t.is(tty.frames.at(-1), '[####................] 2/10 20% 13/s ETA 0.6s');
  t.is(timers(), before, 'the late timer would have drawn a second frame in the same interval');
  p.stop();
});

test('stop erases the line, cancels the pending redraw and silences later calls', (t) => {
  const tty = new FakeTty(true);
  const clock = fakeClock();
  const before = timers();
  const p = new Progress({ total: 10, stream: tty, now: clock.now });
  clock.ms = 5;
  p.update(3); // inside the interval: arms the trailing redraw
  t.is(timers(), before + 1);
  p.stop();
  t.is(timers(), before, 'no timer outlives stop()');
  t.is(tty.chunks.at(-1), ERASE);
  t.false(p.active);
  const written = tty.chunks.length;
  clock.ms = 1000;
  p.update(9);
  p.clear();
  p.stop();
  t.is(tty.chunks.length, written, 'nothing after stop');
});

test.serial('clear erases now and brings the bar back later, never in the same call', async (t) => {
  const tty = new FakeTty(true);
  const clock = fakeClock();
  const p = new Progress({ total: 10, stream: tty, now: clock.now, intervalMs: 20 });
  clock.ms = 500; // the interval has long passed: update would draw at once, clear must not
  p.clear();
  t.is(tty.chunks.at(-1), ERASE);
  tty.write('192.0.2.7 02:00:5e:10:00:07\n'); // what the caller prints between clear and the redraw
  await sleep(100);
  t.regex(tty.chunks.at(-1)!, /^\r\[\.+\] 0\/10 0% -\/s ETA -\x1b\[K$/);
  p.stop();
});

test('off a TTY, or disabled, nothing is written and no timer starts', (t) => {
  const before = timers();
  for (const [tty, enabled] of [[new FakeTty(false), true], [new FakeTty(true), false]] as const) {
    const clock = fakeClock();
    const p = new Progress({ total: 100, stream: tty, now: clock.now, enabled });
    t.false(p.active);
    for (let ms = 0; ms < 300; ms += 7) {
      clock.ms = ms;
      p.increment();
      t.is(timers(), before);
    }
    p.clear();
    p.stop();
    t.deepEqual(tty.chunks, []);
    t.is(p.done, 43);
  }
  t.is(new Progress({ total: 1 }).active, process.stderr.isTTY === true, 'defaults to stderr, drawn only on a TTY');
});

test('the bar fits a narrow terminal and follows a resize', (t) => {
  const tty = new FakeTty(true, 40);
  const clock = fakeClock();
  const p = new Progress({ total: 65534, stream: tty, now: clock.now });
  t.is(tty.frames[0], '[................] 0/65534 0% -/s ETA -');
  tty.columns = 120;
  clock.ms = 1000;
  p.update(41230);
  t.is(tty.frames.at(-1), '[############........] 41230/65534 62% 41,230/s ETA 0.6s');
  p.stop();
});

test('counts above total show as total; bad options and counts are typed errors', (t) => {
  const tty = new FakeTty(true);
  const p = new Progress({ total: 5, stream: tty, now: () => 0, enabled: false });
  p.update(7);
  t.is(p.done, 5);
  for (const [make, message] of [
    [() => new Progress({ total: -1 }), 'progress: invalid total -1 (a non-negative integer)'],
    [() => new Progress({ total: 1.5 }), 'progress: invalid total 1.5 (a non-negative integer)'],
    [() => new Progress({ total: Number.NaN }), 'progress: invalid total NaN (a non-negative integer)'],
    [() => new Progress({ total: 5, intervalMs: 0 }), 'progress: invalid intervalMs 0 (a positive number of milliseconds)'],
    [() => new Progress({ total: 5, barWidth: -2 }), 'progress: invalid barWidth -2 (a non-negative integer)'],
    [() => p.update(-1), 'progress: invalid done -1 (a non-negative integer)'],
    [() => p.increment(0.5), 'progress: invalid done 5.5 (a non-negative integer)'],
  ] as const) {
    const err = t.throws(make, { instanceOf: ProgressArgumentError, message });
    t.true(err instanceof ProgressError);
  }
});
