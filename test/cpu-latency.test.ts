// holdCpuLatency (@ersatz/os) on files of our own: what it writes, that it lets go, and that a missing device is an
// error, not a file made in its place. The kernel's device itself is exercised by pipeline-lab's idlePoll test
// (one test only: test files run at once, and the device reads the smallest request of any process).
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { holdCpuLatency } from '@ersatz/os';

const openFds = (): number => readdirSync('/proc/self/fd').length;

test('writes the request as one s32 in the machine\'s byte order and closes it on release, once', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ersatz-cpu-latency-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'device');
  writeFileSync(file, '');
  const fds = openFds();
  const release = holdCpuLatency(25, file);
  t.is(openFds(), fds + 1, 'held open: the kernel keeps a request while its file is open');
  t.deepEqual([...new Int32Array(Uint8Array.from(readFileSync(file)).buffer)], [25]);
  release();
  t.is(openFds(), fds);
  t.notThrows(release, 'a second release is a no-op');
});

test('a write the device refuses (/dev/full: ENOSPC) throws it and leaves no descriptor open', (t) => {
  const fds = openFds();
  t.throws(() => holdCpuLatency(0, '/dev/full'), { code: 'ENOSPC' });
  t.is(openFds(), fds);
});

test('a request that is not a whole number of µs from 0 to 2^31 − 1 is a RangeError, before anything is opened', (t) => {
  for (const us of [Number.NaN, -1, 1.5, 2 ** 31, Infinity]) t.throws(() => holdCpuLatency(us, '/nonexistent/device'), { instanceOf: RangeError }, String(us));
  const fds = openFds();
  t.notThrows(holdCpuLatency(2 ** 31 - 1, '/dev/null'), 'the largest s32 is a request (released at once)');
  t.is(openFds(), fds);
});

test('a missing device throws ENOENT and creates nothing', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ersatz-cpu-latency-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const missing = join(dir, 'cpu_dma_latency');
  t.throws(() => holdCpuLatency(0, missing), { code: 'ENOENT' });
  t.false(existsSync(missing));
});
