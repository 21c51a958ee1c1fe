// The pipeline's restart and reopen policy (Supervisor) on virtual time: no thread, no root. What it must do is what
// docs/reliability.md promises: restarts after 0, 250, 500, 1000, 2000 ms, the sixth death within 30 s stops the
// pipeline, reopens back off to 5 s, a lost interface under linkLoss 'fail' gives the right advice.
import test from 'ava';
import { map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { InterfaceLostError, Supervisor, WorkerCrashLoopError, type Action, type SupervisorOptions } from '@ersatz/pipeline';

function scheduler(t: { deepEqual(a: unknown, b: unknown): void }): TestScheduler {
  return new TestScheduler((actual, expected) => t.deepEqual(actual, expected));
}

function supervisor(ts: TestScheduler, o: Partial<SupervisorOptions> = {}): Supervisor {
  return new Supervisor({ ifname: 'ez0', linkLoss: 'reopen', linkExists: () => true, scheduler: ts, ...o });
}

/** One letter per action kind, the stage's initial for restarts and reopens. */
const letter = (a: Action): string => (a.kind === 'restart' || a.kind === 'reopen' ? `${a.kind[0]}${a.stage[0]}` : a.kind);

test('a stage that keeps dying is restarted after 0, 250, 500, 1000 and 2000 ms; the sixth death in 30 s fails', (t) => {
  const ts = scheduler(t);
  ts.run(({ cold, expectObservable }) => {
    const sup = supervisor(ts);
    const warnings: string[] = [];
    let failure: unknown;
    sup.actions$.subscribe((a) => {
      if (a.kind === 'warn') warnings.push(a.text);
      if (a.kind === 'fail') failure = a.error;
    });
    expectObservable(sup.actions$.pipe(map(letter)), '^ 6500ms !').toBe('(wr) 6ms w 249ms r 39ms w 499ms r 199ms w 999ms r 999ms w 1999ms r 999ms f', {
      w: 'warn',
      r: 'rd',
      f: 'fail',
    });
    cold('a 9ms b 289ms c 699ms d 1999ms e 2999ms f').subscribe(() => sup.died('decode', 'Error: boom'));
    ts.flush();
    t.deepEqual(warnings, [
      'decode worker died (Error: boom); restarting it (restart 1)',
      'decode worker died (Error: boom); restarting it in 250 ms (restart 2)',
      'decode worker died (Error: boom); restarting it in 500 ms (restart 3)',
      'decode worker died (Error: boom); restarting it in 1000 ms (restart 4)',
      'decode worker died (Error: boom); restarting it in 2000 ms (restart 5)',
    ]);
    t.true(failure instanceof WorkerCrashLoopError);
    t.like(failure, { stage: 'decode', restarts: 6, windowMs: 30_000, lastReason: 'Error: boom' });
    t.deepEqual(sup.restarts(), { capture: 0, decode: 5, transmit: 0 });
  });
});

test('deaths further apart than the crash window restart at once, forever', (t) => {
  const ts = scheduler(t);
  ts.run(({ cold, expectObservable }) => {
    const sup = supervisor(ts);
    expectObservable(sup.actions$.pipe(map(letter)), '^ 200s !').toBe('(wr) 29997ms (wr) 29997ms (wr) 29997ms (wr) 29997ms (wr) 29997ms (wr) 29997ms (wr)', { w: 'warn', r: 'rc' });
    cold('a 30s a 30s a 30s a 30s a 30s a 30s a').subscribe(() => sup.died('capture', 'exit code 1'));
  });
});

test('each stage has its own count: deaths of two stages do not add up', (t) => {
  const ts = scheduler(t);
  ts.run(({ cold }) => {
    const sup = supervisor(ts);
    const fails: Action[] = [];
    sup.actions$.subscribe((a) => a.kind === 'fail' && fails.push(a));
    cold('a 100ms a 100ms a 100ms a 100ms a').subscribe(() => {
      sup.died('capture', 'x');
      sup.died('transmit', 'y');
    });
    ts.flush();
    t.deepEqual(fails, []);
    t.deepEqual(sup.restarts(), { capture: 5, decode: 0, transmit: 5 });
  });
});

test('reopens back off 250, 500, 1000, 2000, then every 5000 ms; a reopen that worked starts over', (t) => {
  const ts = scheduler(t);
  ts.run(({ cold, expectObservable }) => {
    const sup = supervisor(ts);
    let failures = 6;
    // Each reopen fails (the interface is still down) until six have, then one works.
    sup.actions$.subscribe((a) => {
      if (a.kind !== 'reopen') return;
      if (failures-- > 0) sup.reopenLater(a.stage);
      else sup.reopened(a.stage);
    });
    expectObservable(sup.actions$.pipe(map(letter)), '^ 25s !').toBe('250ms a 499ms a 999ms a 1999ms a 4999ms a 4999ms a 4999ms a 1499ms a', { a: 'rc' });
    cold('a').subscribe(() => sup.reopenLater('capture'));
    cold('20s a').subscribe(() => sup.reopenLater('capture')); // a later loss: back to 250 ms
  });
});

test("linkLoss 'fail': a deleted interface fails at once, a downed one after the settle time with the right advice", (t) => {
  const ts = scheduler(t);
  ts.run(({ cold, expectObservable }) => {
    const gone = supervisor(ts, { linkLoss: 'fail' });
    expectObservable(gone.actions$.pipe(map((a) => (a.kind === 'fail' ? (a.error as InterfaceLostError).message : a.kind))), '^ 1s !').toBe('10ms a', {
      a: "ez0 disappeared (sendmmsg: ENXIO): it was deleted or moved; list the interfaces with 'ip link' and run again",
    });
    cold('10ms a').subscribe(() => t.true(gone.linkLost({ code: 'ENXIO', operation: 'sendmmsg' })));

    // Down and still there 50 ms later; a second notice meanwhile (the other stage) changes nothing.
    const down = supervisor(ts, { linkLoss: 'fail', linkExists: () => true });
    expectObservable(down.actions$.pipe(map((a) => (a.kind === 'fail' ? (a.error as InterfaceLostError).code : a.kind))), '^ 1s !').toBe('50ms a', { a: 'ENETDOWN' });
    cold('a 4ms b').subscribe((v) => t.true(down.linkLost(v === 'a' ? { code: 'ENETDOWN', detail: 'The interface went down' } : { code: 'ENETDOWN' })));

    // Down, then gone within the settle time: deletion takes an interface down first.
    let exists = true;
    const deleted = supervisor(ts, { linkLoss: 'fail', linkExists: () => exists });
    expectObservable(deleted.actions$.pipe(map((a) => (a.kind === 'fail' ? (a.error as InterfaceLostError).code : a.kind))), '^ 1s !').toBe('50ms a', { a: 'ENODEV' });
    cold('a 10ms b').subscribe((v) => (v === 'a' ? deleted.linkLost({ code: 'ENETDOWN' }) : (exists = false)));
  });
});

test("linkLoss 'reopen', or an error that is not about the interface, is not a lost link", (t) => {
  const ts = scheduler(t);
  t.false(supervisor(ts).linkLost({ code: 'ENODEV' }));
  t.false(supervisor(ts, { linkLoss: 'fail' }).linkLost({ code: 'EPERM' }));
  t.false(supervisor(ts, { linkLoss: 'fail' }).linkLost(new Error('no code')));
});

test('close cancels what is pending and completes actions$; nothing happens afterwards', (t) => {
  const ts = scheduler(t);
  ts.run(({ cold, expectObservable }) => {
    const sup = supervisor(ts);
    expectObservable(sup.actions$.pipe(map(letter))).toBe('(wr) 6ms w 89ms |', { w: 'warn', r: 'rt' });
    cold('a 9ms a').subscribe(() => sup.died('transmit', 'x')); // restart at once, then one 250 ms later
    cold('100ms a').subscribe(() => sup.close());
    cold('150ms a').subscribe(() => {
      sup.died('transmit', 'x');
      sup.reopenLater('capture');
    });
  });
});
