// Child side of test/line-writer.test.ts: writes `count` numbered lines to stdout through a LineWriter, every other
// one written in place (room/end, as scan --json's host lines are). The parent reads nothing until this says "full" on
// stderr, so the pipe fills and the stream holds written chunks while more lines come: a chunk reused too early would
// overwrite lines not yet delivered.
import { setImmediate } from 'node:timers/promises';
import { LineWriter } from '@ersatz/cli';

const count = Number(process.argv[2]);
const text = (i: number): string => `${i} ${'x'.repeat(i % 150)}`;
const w = new LineWriter();
const put = (i: number): void => {
  if (i % 2 === 0) return w.line(text(i));
  const t = text(i);
  const at = w.room(t.length);
  w.end(at + w.chunk.write(t, at, 'latin1'));
};
let i = 0;
let held = 0;
// Until the pipe is full (bounded by count): flushed every 50 lines, so writes are smaller than a chunk.
for (; i < count && process.stdout.writableLength === 0; i++) {
  put(i);
  if (i % 50 === 49) w.flush();
}
process.stderr.write(`full at ${i}\n`);
for (; i < count; i++) {
  put(i);
  if (i % 50 === 49) {
    w.flush();
    if (process.stdout.writableLength > 0) held++;
  }
  if (i % 1000 === 999) await setImmediate(); // the event loop's turn: the stream drains as the parent reads
}
w.flush();
process.stderr.write(`held ${held}\n`);
