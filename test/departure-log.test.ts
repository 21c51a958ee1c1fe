// The transmit worker's departure record (@ersatz/ring's DepartureLog) on byte fixtures: tickets in ring order, the
// count wrapping at 2^32, frames that never left, frames written off with a dead worker, and the trust window.
import test from 'ava';
import { DEPARTURE_SLOTS, DepartureLog, createDepartureLog } from '@ersatz/ring';

test('a frame is queued until the writer publishes it, then has the time recorded for it', (t) => {
  const sab = createDepartureLog();
  const writer = new DepartureLog(sab);
  const reader = new DepartureLog(sab);
  const queued = 3; // tickets 0, 1, 2 in the ring
  t.is(reader.departures(queued), 0);
  t.is(reader.departedNs(0, queued), null, 'still queued');
  writer.record(0, 1000n);
  writer.record(1, 0n); // refused by the kernel
  t.is(reader.departedNs(0, queued), null, 'recorded but not yet published');
  writer.publish(2);
  t.is(reader.departures(queued), 2);
  t.is(reader.departedNs(0, queued), 1000n);
  t.is(reader.departedNs(1, queued), null, 'did not leave');
  t.is(reader.departedNs(2, queued), null, 'still queued');
  t.is(reader.departedNs(-1, queued), null, 'not a ticket (send refused)');
});

test('the count wraps at 2^32 while tickets keep counting', (t) => {
  const sab = createDepartureLog();
  const log = new DepartureLog(sab);
  const base = 2 ** 32 - 2; // tickets base .. base + 3 straddle the wrap
  log.publish(base % 2 ** 32);
  for (let k = 0; k < 4; k++) log.record((base + k) % 2 ** 32, BigInt(k + 1));
  log.publish((base + 4) % 2 ** 32);
  t.is(log.taken, 2);
  t.is(log.departures(base + 5), base + 4);
  t.deepEqual([0, 1, 2, 3].map((k) => log.departedNs(base + k, base + 5)), [1n, 2n, 3n, 4n]);
});

test('frames lost with a dead worker are written off: no longer queued, and no departure time', (t) => {
  const log = new DepartureLog(createDepartureLog());
  for (let n = 0; n < 5; n++) log.record(n, 7n);
  log.publish(5);
  // Tickets 5..9 were queued when the worker died; a stale time from an older lap must not show through.
  log.record(8, 99n);
  log.writeOff(10);
  t.is(log.departures(10), 10);
  t.is(log.departedNs(4, 10), 7n);
  t.deepEqual([5, 6, 7, 8, 9].map((k) => log.departedNs(k, 10)), [null, null, null, null, null]);
  t.is(log.taken, 10, 'a successor numbers on from here');
});

test('a time is trusted only while fewer than half the slots have been taken since (the writer runs ahead of its count)', (t) => {
  const log = new DepartureLog(createDepartureLog());
  log.record(0, 5n);
  log.publish(1);
  t.is(log.departedNs(0, 1), 5n);
  log.publish(DEPARTURE_SLOTS / 2);
  t.is(log.departedNs(0, DEPARTURE_SLOTS / 2), 5n);
  log.publish(DEPARTURE_SLOTS / 2 + 1);
  t.is(log.departedNs(0, DEPARTURE_SLOTS / 2 + 1), null);
});
