// The `for await` forms: eachOf over synthetic observables (order, errors after the values before them, leaving the
// loop or aborting unsubscribes). scan() over a real link and kernel: examples/scan.mjs, run by test/examples.
import test from 'ava';
import { Observable, Subject, finalize, of, throwError, concat } from 'rxjs';
import { eachOf } from '@ersatz/api';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

test('every value in order, then the end; values that come while the loop body waits are kept', async (t) => {
  const s = new Subject<number>();
  const seen: number[] = [];
  const done = (async () => {
    for await (const v of eachOf(s)) {
      seen.push(v);
      await new Promise((r) => setTimeout(r, 1)); // a slow body: the next values queue
    }
  })();
  for (let i = 0; i < 3000; i++) s.next(i);
  s.complete();
  await done;
  t.deepEqual(seen, Array.from({ length: 3000 }, (_, i) => i));
});

test('an error is thrown after the values before it; a synchronous source works', async (t) => {
  const boom = new Error('boom');
  const got: number[] = [];
  await t.throwsAsync(async () => {
    for await (const v of eachOf(concat(of(1, 2), throwError(() => boom)))) got.push(v);
  }, { is: boom });
  t.deepEqual(got, [1, 2]);
  t.deepEqual(await collect(eachOf(of('a', 'b'))), ['a', 'b']);
});

test('leaving the loop unsubscribes (the operation stops)', async (t) => {
  let stopped = 0;
  const s = new Subject<number>();
  const seen: number[] = [];
  const loop = (async () => {
    for await (const v of eachOf(s.pipe(finalize(() => stopped++)))) {
      seen.push(v);
      if (v === 1) break;
    }
  })();
  t.true(s.observed, 'subscribed when the loop started');
  for (let i = 0; i < 5; i++) s.next(i);
  await loop;
  t.deepEqual(seen, [0, 1]);
  t.is(stopped, 1);
  t.false(s.observed);
});

test('abort: the loop throws the signal\'s reason at once and unsubscribes; an aborted signal never subscribes', async (t) => {
  let subscribed = 0;
  let stopped = 0;
  const never$ = new Observable<number>((o) => {
    subscribed++;
    o.next(1);
    return () => stopped++;
  });
  const ac = new AbortController();
  const reason = new Error('enough');
  const got: number[] = [];
  await t.throwsAsync(async () => {
    for await (const v of eachOf(never$, ac.signal)) {
      got.push(v);
      ac.abort(reason);
    }
  }, { is: reason });
  t.deepEqual(got, [1]);
  t.is(stopped, 1);
  await t.throwsAsync(collect(eachOf(never$, AbortSignal.abort(reason))), { is: reason });
  t.is(subscribed, 1);
});
