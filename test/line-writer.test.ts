// The CLI's LineWriter reuses its chunk once a write has gone through: lines into a pipe that is full must still come
// out whole and in order (the stream holds a chunk it has not written yet).
import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { LineWriter } from '@ersatz/cli';

const CHILD = fileURLToPath(new URL('./helpers/line-writer-child.js', import.meta.url));
const COUNT = 100_000;
const text = (i: number): string => `${i} ${'x'.repeat(i % 150)}`;

test('lines written into a full pipe arrive whole and in order', async (t) => {
  const child = spawn(process.execPath, [CHILD, String(COUNT)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stdout.setEncoding('utf8');
  child.stdout.pause();
  // Read only once the child has filled the pipe (an event from it, not a delay).
  child.stderr.on('data', (d: string) => {
    stderr += d;
    if (stderr.includes('full at')) child.stdout.resume();
  });
  let rest = '';
  let next = 0;
  let firstBad: string | undefined;
  child.stdout.on('data', (d: string) => {
    const lines = (rest + d).split('\n');
    rest = lines.pop()!;
    for (const line of lines) {
      if (firstBad === undefined && line !== text(next)) firstBad = `line ${next}: ${JSON.stringify(line.slice(0, 40))}`;
      next++;
    }
  });
  const [code] = (await once(child, 'close')) as [number];
  t.is(code, 0, stderr);
  t.is(firstBad, undefined);
  t.is(next, COUNT);
  t.is(rest, '');
  const held = Number(/held (\d+)/.exec(stderr)?.[1]);
  t.true(held > 0, `the stream never held a chunk, so the test did not exercise it: ${stderr}`);
});

test('a line longer than a chunk is written whole', (t) => {
  const long = 'y'.repeat(200_000);
  const w = new LineWriter();
  const written: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: Uint8Array) => (written.push(Buffer.from(chunk).toString()), true)) as typeof process.stdout.write;
  try {
    w.line('a');
    w.line(long);
    w.line('b');
    w.flush();
  } finally {
    process.stdout.write = write;
  }
  t.is(written.join(''), `a\n${long}\nb\n`);
});
