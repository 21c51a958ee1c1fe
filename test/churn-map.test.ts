// ChurnMap: the resolver's map of queries in flight. Map semantics for what the resolver uses, and memory bounded by
// the live entries however many distinct keys have come and gone.
import test from 'ava';
import { ChurnMap } from '@ersatz/resolve';

test('get, set, delete and size behave as a Map', (t) => {
  const m = new ChurnMap<number, { v: number }>();
  const a = { v: 1 };
  const b = { v: 2 };
  m.set(1, a);
  m.set(2, b);
  t.is(m.size, 2);
  t.is(m.get(1), a);
  m.set(1, b); // replacing a live entry is not a new one
  t.is(m.size, 2);
  t.is(m.get(1), b);
  t.true(m.delete(1));
  t.false(m.delete(1), 'already deleted');
  t.false(m.delete(3), 'never there');
  t.is(m.get(1), undefined);
  t.is(m.size, 1);
  m.set(1, a); // a deleted key comes back live
  t.is(m.size, 2);
  t.deepEqual([...m.values()].map((x) => x.v).sort(), [1, 2]);
  m.clear();
  t.is(m.size, 0);
  t.deepEqual([...m.values()], []);
  t.is(m.held, 0);
});

test('a steady set of keys asked again and again is never rebuilt: the keys stay held', (t) => {
  const m = new ChurnMap<number, object>();
  for (let round = 0; round < 100; round++) {
    for (let k = 0; k < 100; k++) m.set(k, {});
    for (let k = 0; k < 100; k++) m.delete(k);
  }
  t.is(m.size, 0);
  t.is(m.held, 100);
});

test('keys that come and go are dropped: held stays within twice the live entries plus the slack, every live entry kept', (t) => {
  const m = new ChurnMap<number, { k: number }>();
  const LIVE = 100;
  let most = 0;
  // 20,000 distinct keys, LIVE at a time: each new key joins as the oldest leaves.
  for (let k = 0; k < 20_000; k++) {
    m.set(k, { k });
    if (k >= LIVE) m.delete(k - LIVE);
    most = Math.max(most, m.held);
    t.is(m.size, Math.min(k + 1, LIVE));
  }
  t.true(most <= 2 * LIVE + 256 + 1, `held at most ${most}`);
  t.true(most > 2 * LIVE, 'idle keys were kept until the slack ran out');
  const live = [...m.values()].map((x) => x.k);
  t.deepEqual(live, Array.from({ length: LIVE }, (_, i) => 20_000 - LIVE + i));
  for (const k of live) t.is(m.get(k)?.k, k);
  t.is(m.get(0), undefined);
});
