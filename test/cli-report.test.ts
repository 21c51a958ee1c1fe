// How the CLI reports what reaches its top: the libraries mark user-facing errors (one line, exit 2) and no-reply
// errors (exit 1) on their classes; anything unmarked is a bug (stack trace, exit 70).
import { spawnSync } from 'node:child_process';
import test from 'ava';
import { report } from '@ersatz/cli';
import { RingCorruptError, RingSizeError } from '@ersatz/ring';
import { AddressConflictError, ResolveTimeoutError } from '@ersatz/resolve';
import { NoDefaultRouteError } from '@ersatz/netlink';
import { Ipv4, Mac, TruncatedError } from '@ersatz/wire';
import { MAIN } from './helpers/cmd-run.js';

function reported(err: unknown): { code: number; stderr: string } {
  const write = process.stderr.write.bind(process.stderr);
  let stderr = '';
  process.stderr.write = ((chunk: string) => ((stderr += chunk), true)) as typeof process.stderr.write;
  try {
    return { code: report(err), stderr };
  } finally {
    process.stderr.write = write;
  }
}

const ip = Ipv4.parse('192.0.2.7');

test('user-facing errors of any package print one line and exit 2', (t) => {
  for (const err of [new RingSizeError(5000, 4096, 1 << 30), new NoDefaultRouteError(), new TruncatedError('arp', 28, 20)]) {
    const r = reported(err);
    t.is(r.code, 2, err.name);
    t.is(r.stderr, `ersatz: ${err.message}\n`);
  }
});

test('no reply and a contested answer exit 1 with one line', (t) => {
  for (const err of [new ResolveTimeoutError(ip, 3, 3000), new AddressConflictError(ip, [Mac.parse('02:00:00:00:00:01'), Mac.parse('02:00:00:00:00:02')])]) {
    const r = reported(err);
    t.is(r.code, 1, err.name);
    t.is(r.stderr, `ersatz: ${err.message}\n`);
  }
});

test('a corrupted ring, or any unmarked error, is a bug: stack trace and exit 70', (t) => {
  for (const err of [new RingCorruptError(64, 1 << 20, 9018), new TypeError('x is undefined')]) {
    const r = reported(err);
    t.is(r.code, 70, err.name);
    t.true(r.stderr.startsWith('ersatz: internal error: ') && r.stderr.includes('\n    at '), r.stderr);
  }
});

test('the bundled CLI maps an internal error stack trace onto our TypeScript sources when it prints it', (t) => {
  // A fault planted under the CLI: its --version line's write throws, inside main()'s try.
  const plant = 'data:text/javascript,const w=process.stdout.write.bind(process.stdout);process.stdout.write=(s,...a)=>{if(String(s).startsWith("ersatz "))throw new TypeError("planted");return w(s,...a)}';
  const r = spawnSync(process.execPath, ['--import', plant, MAIN, '--version'], { encoding: 'utf8' });
  t.is(r.status, 70, r.stderr);
  t.true(r.stderr.startsWith('ersatz: internal error: TypeError: planted\n'), r.stderr);
  t.regex(r.stderr, /\n {4}at main \(\S*packages\/cli\/src\/index\.ts:\d+:\d+\)/, r.stderr);
  t.notRegex(r.stderr, /dist\/chunk-/, r.stderr);
});
