import test from 'ava';
import fc from 'fast-check';
import {
  closeRing,
  createRing,
  RingArgumentError,
  RingCorruptError,
  RingError,
  RingHandleError,
  RingReader,
  RingRoleTakenError,
  RingSizeError,
  ringStats,
  RingWriter,
  type RingHandle,
} from '@ersatz/ring';

// The ring's on-buffer format (packages/ring/src/layout.ts), needed only to poke at the header from outside.
const HEADER_BYTES = 192;
const WRITE_WORD = 0;
const READ_WORD = 16;

function ring(dataBytes = 4096): { h: RingHandle; w: RingWriter; r: RingReader } {
  const h = createRing(dataBytes);
  return { h, w: new RingWriter(h), r: new RingReader(h) };
}

/** A frame whose bytes depend on its length and a salt, so a misplaced or stale byte shows. */
function pattern(len: number, salt = 0): Uint8Array {
  const f = new Uint8Array(len);
  for (let i = 0; i < len; i++) f[i] = (i * 31 + len + salt) & 0xff;
  return f;
}

function drainAll(r: RingReader, max?: number): { frame: Uint8Array; ts: bigint }[] {
  const out: { frame: Uint8Array; ts: bigint }[] = [];
  r.drain((frame, ts) => out.push({ frame: frame.slice(), ts }), max);
  return out;
}

test('createRing takes powers of two from 4096 to 2^30 and refuses anything else', (t) => {
  for (const ok of [4096, 8192, 1 << 20]) t.is(createRing(ok).sab.byteLength, HEADER_BYTES + ok);
  for (const bad of [0, -4096, 2048, 4095, 5000, 4096.5, 2 ** 31, NaN, Infinity]) {
    const e = t.throws(() => createRing(bad), { instanceOf: RingSizeError }, String(bad));
    t.true(e instanceof RingError);
    t.is(e?.dataBytes, bad);
  }
  t.throws(() => createRing(5000), { message: 'ring: dataBytes must be a power of two from 4096 to 1073741824, got 5000' });
});

test('a handle that is not from createRing is refused with RingHandleError', (t) => {
  const sab = new SharedArrayBuffer(HEADER_BYTES + 4096);
  const bad: unknown[] = [
    null,
    42,
    {},
    { sab: new ArrayBuffer(HEADER_BYTES + 4096), dataBytes: 4096 },
    { sab, dataBytes: 8192 },
    { sab, dataBytes: 4096 }, // right size, no magic word
  ];
  for (const h of bad) {
    for (const use of [(x: RingHandle) => new RingWriter(x), (x: RingHandle) => new RingReader(x), ringStats, closeRing]) {
      t.throws(() => use(h as RingHandle), { instanceOf: RingHandleError });
    }
  }
});

test('a ring takes one writer and one reader', (t) => {
  const { h } = ring();
  t.throws(() => new RingWriter(h), { instanceOf: RingRoleTakenError, message: /already has a writer/ });
  t.throws(() => new RingReader(h), { instanceOf: RingRoleTakenError, message: /already has a reader/ });
});

test('every length from 0 to maxFrameBytes goes through intact, across wrap-around', (t) => {
  for (const size of [4096, 8192]) {
    const { h, w, r } = ring(size);
    t.is(w.maxFrameBytes, size / 2 - 16);
    let next = 0; // next length to check
    let pushed = 0;
    while (pushed <= w.maxFrameBytes) {
      // Fill until refused, then drain: records land at every kind of offset and wrap with a skip marker.
      while (pushed <= w.maxFrameBytes && w.tryPush(pattern(pushed, size), BigInt(pushed) * 1_000_003n)) pushed++;
      r.drain((frame, ts) => {
        if (frame.length !== next || ts !== BigInt(next) * 1_000_003n) {
          t.fail(`length ${next}: got ${frame.length} bytes, ts ${ts}`);
        }
        else if (!frame.every((b, i) => b === ((i * 31 + next + size) & 0xff))) t.fail(`length ${next}: bytes differ`);
        next++;
      });
    }
    t.is(next, w.maxFrameBytes + 1);
    const s = ringStats(h);
    t.is(s.pushed, w.maxFrameBytes + 1);
    t.is(s.popped, s.pushed);
    t.true(s.dropped > 0); // the fill-then-drain rhythm met a full ring
  }
});

test('a frame of maxFrameBytes fits into an empty ring wherever its positions stand', (t) => {
  for (let at = 0; at < 4096; at += 8) {
    // Place both positions at offset `at` (as if 'at' bytes had passed through), then push the largest frame.
    const h = createRing(4096);
    const i32 = new Int32Array(h.sab);
    i32[WRITE_WORD] = at;
    i32[READ_WORD] = at;
    const w = new RingWriter(h);
    const r = new RingReader(h);
    const big = pattern(w.maxFrameBytes, at);
    if (!w.tryPush(big)) t.fail(`refused at offset ${at}`);
    const got = drainAll(r);
    if (got.length !== 1 || !Buffer.from(got[0]!.frame).equals(big)) t.fail(`wrong record at offset ${at}`);
    t.false(w.tryPush(new Uint8Array(w.maxFrameBytes + 1)));
  }
  t.pass();
});

test('with the consumer stopped, every refused push is counted, with its bytes', (t) => {
  const { h, w, r } = ring(4096);
  const frame = pattern(60); // a minimum Ethernet frame without FCS: 16 + 60 → an 80-byte record
  let accepted = 0;
  while (w.tryPush(frame)) accepted++;
  t.is(accepted, Math.floor(4096 / 80));
  let refused = 1;
  let refusedBytes = 60;
  for (let i = 0; i < 500; i++) {
    const len = 1 + (i % 100); // 16 bytes are left: only an empty frame (a bare 16-byte header) would still fit
    if (i % 2 === 0) {
      t.false(w.tryPush(new Uint8Array(len)));
      refused++;
      refusedBytes += len;
    } else {
      // A refused batch counts one drop: its first frame; the rest were not attempted.
      t.is(w.pushBatch([new Uint8Array(len), new Uint8Array(7), new Uint8Array(9)]), 0);
      refused++;
      refusedBytes += len;
    }
  }
  t.false(w.tryPush(new Uint8Array(w.maxFrameBytes + 1))); // too big counts too
  refused++;
  refusedBytes += w.maxFrameBytes + 1;
  t.like(ringStats(h), { pushed: accepted, popped: 0, dropped: refused, droppedBytes: refusedBytes });

  // Free exactly one record: exactly one 60-byte frame fits again, and a batch takes a prefix.
  t.is(r.drain(() => {}, 1), 1);
  t.is(w.pushBatch([frame, frame, frame]), 1);
  t.like(ringStats(h), { pushed: accepted + 1, popped: 1, dropped: refused + 1, droppedBytes: refusedBytes + 60 });
});

test('pushBatch takes one timestamp for all or one per frame, 0 where missing', (t) => {
  const { w, r } = ring();
  t.is(w.pushBatch([pattern(1), pattern(2)], 5n), 2);
  t.is(w.pushBatch([pattern(3), pattern(4), pattern(5)], [7n, 8n]), 3);
  t.is(w.pushBatch([pattern(6)]), 1);
  t.is(w.pushBatch([]), 0);
  t.deepEqual(
    drainAll(r).map(({ frame, ts }) => [frame.length, ts]),
    [[1, 5n], [2, 5n], [3, 7n], [4, 8n], [5, 0n], [6, 0n]],
  );
});

test('timestamps keep all 64 bits; out-of-range ones are refused with RingArgumentError', (t) => {
  const { h, w, r } = ring();
  const stamps = [0n, 1n, 0xffff_ffffn, 0x1_0000_0000n, 2n ** 63n, 2n ** 64n - 1n, 1_700_000_000_123_456_789n];
  for (const ts of stamps) t.true(w.tryPush(pattern(3), ts));
  t.deepEqual(drainAll(r).map((x) => x.ts), stamps);
  for (const bad of [-1n, 2n ** 64n, 5 as unknown as bigint]) {
    t.throws(() => w.tryPush(pattern(3), bad), {
      instanceOf: RingArgumentError,
      message: /tsNs must be an unsigned 64-bit integer/,
    });
  }
  t.throws(() => w.tryPush(new Uint16Array(4) as unknown as Uint8Array), { instanceOf: RingArgumentError });
  t.like(ringStats(h), { pushed: stamps.length, dropped: 0 }); // argument errors are bugs, not drops
});

test('frames are copied from their own byteOffset (Buffer, subarray) and handed out as views into the ring', (t) => {
  const { h, w, r } = ring();
  const base = Uint8Array.from({ length: 40 }, (_, i) => i);
  t.true(w.tryPush(base.subarray(10, 20)));
  t.true(w.tryPush(Buffer.from([0xde, 0xad])));
  base.fill(0); // the ring holds its own copy
  const seen: Uint8Array[] = [];
  r.drain((frame) => {
    t.is(frame.buffer, h.sab);
    seen.push(frame.slice());
  });
  t.deepEqual(seen, [Uint8Array.from({ length: 10 }, (_, i) => i + 10), Uint8Array.of(0xde, 0xad)]);
});

test("a record's space is freed only after its callback returns", (t) => {
  const { w, r } = ring(4096);
  const frame = pattern(w.maxFrameBytes, 1);
  t.true(w.tryPush(frame));
  t.true(w.tryPush(frame)); // the ring is now full: two 2048-byte records
  let inside = 0;
  r.drain((view) => {
    inside++;
    // Were the space freed before fn returns, this push would land on top of `view`.
    t.false(w.tryPush(pattern(w.maxFrameBytes, 2)));
    t.true(Buffer.from(view).equals(frame));
  }, 1);
  t.is(inside, 1);
  t.true(w.tryPush(pattern(w.maxFrameBytes, 3))); // freed now
});

test('drain refuses to run inside its own callback', (t) => {
  const { w, r } = ring();
  w.tryPush(Uint8Array.of(1));
  w.tryPush(Uint8Array.of(2));
  const seen: number[] = [];
  const nested = (f: Uint8Array): void => {
    seen.push(f[0]!);
    r.drain(() => seen.push(-1));
  };
  t.throws(() => r.drain(nested), { instanceOf: RingError, message: /inside a drain callback/ });
  t.deepEqual(drainAll(r).map((x) => x.frame[0]), [2]); // the first record was consumed by the callback that threw
  t.deepEqual(seen, [1]);
});

test('drain honours max and refuses a bad one', (t) => {
  const { w, r } = ring();
  for (let i = 0; i < 5; i++) w.tryPush(Uint8Array.of(i));
  t.is(r.drain(() => {}, 0), 0);
  t.deepEqual(drainAll(r, 2).map((x) => x.frame[0]), [0, 1]);
  t.deepEqual(drainAll(r).map((x) => x.frame[0]), [2, 3, 4]);
  t.is(r.drain(() => {}), 0);
  for (const bad of [-1, NaN]) t.throws(() => r.drain(() => {}, bad), { instanceOf: RingArgumentError });
});

test('a callback that throws consumes its record and leaves the rest', (t) => {
  const { h, w, r } = ring();
  for (let i = 0; i < 4; i++) w.tryPush(Uint8Array.of(i));
  const seen: number[] = [];
  t.throws(
    () =>
      r.drain((f) => {
        seen.push(f[0]!);
        if (f[0] === 1) throw new Error('bad frame');
      }),
    { message: 'bad frame' },
  );
  t.deepEqual(seen, [0, 1]);
  t.like(ringStats(h), { popped: 2 });
  t.deepEqual(drainAll(r).map((x) => x.frame[0]), [2, 3]);
});

test('after close: pushes are dropped, what was in the ring still drains, then waits report false', async (t) => {
  const { h, w, r } = ring();
  t.true(w.tryPush(pattern(10)));
  t.false(r.closed);
  closeRing(h);
  t.true(r.closed);
  t.false(w.tryPush(pattern(20)));
  t.is(w.pushBatch([pattern(30), pattern(40)]), 0);
  t.like(ringStats(h), { pushed: 1, dropped: 2, droppedBytes: 50, closed: true });
  t.true(r.waitSync(1000)); // a record is still there
  t.true(await r.waitAsync(1000));
  t.is(drainAll(r).length, 1);
  t.false(r.waitSync(60_000)); // closed and empty: returns at once instead of sleeping
  t.false(await r.waitAsync(60_000));
});

test('a frame that is not a Uint8Array is refused with RingArgumentError on a closed ring too', (t) => {
  const { h, w } = ring();
  closeRing(h);
  const bad = 'not bytes' as unknown as Uint8Array;
  t.throws(() => w.tryPush(bad), { instanceOf: RingArgumentError, message: /frame must be a Uint8Array/ });
  t.throws(() => w.pushBatch([bad]), { instanceOf: RingArgumentError, message: /frame must be a Uint8Array/ });
  t.like(ringStats(h), { dropped: 0 }); // refused as a bad argument, not counted as a drop
});

test('waits refuse a negative or NaN timeout and return at once with 0', async (t) => {
  const { w, r } = ring();
  for (const bad of [-1, NaN]) {
    t.throws(() => r.waitSync(bad), { instanceOf: RingArgumentError });
    await t.throwsAsync(r.waitAsync(bad), { instanceOf: RingArgumentError });
  }
  t.false(r.waitSync(0));
  t.false(await r.waitAsync(0));
  w.tryPush(pattern(1));
  t.true(r.waitSync(0));
  t.true(await r.waitAsync(0));
});

test('a length word no writer could store is reported as RingCorruptError', (t) => {
  const { h, w, r } = ring();
  w.tryPush(pattern(8));
  new Int32Array(h.sab)[HEADER_BYTES / 4] = 1_000_000;
  t.throws(() => r.drain(() => {}), { instanceOf: RingCorruptError, message: /length 1000000 \(max 2032\)/ });
});

/**
 * Model-based: any sequence of pushes, batches and drains behaves like a FIFO queue, and the ring refuses exactly
 * when the documented layout says the record does not fit (8-aligned 16-byte header, padding to the end of the data
 * area when a record would straddle it, at most dataBytes in use).
 */
function modelRun(start: number) {
  const D = 4096;
  const anyTs = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
  return fc.property(
    fc.array(
      fc.oneof(
        fc.record({ op: fc.constant('push' as const), len: fc.nat(2050), ts: anyTs }),
        fc.record({ op: fc.constant('batch' as const), lens: fc.array(fc.nat(600), { maxLength: 12 }), ts: anyTs }),
        fc.record({ op: fc.constant('drain' as const), max: fc.oneof(fc.nat(8), fc.constant(Infinity)) }),
      ),
      { maxLength: 200 },
    ),
    (ops) => {
      const h = createRing(D);
      // Start both positions at `start`, so the free-running counters also cross 2^32 during the run.
      const i32 = new Int32Array(h.sab);
      i32[WRITE_WORD] = start | 0;
      i32[READ_WORD] = start | 0;
      const w = new RingWriter(h);
      const r = new RingReader(h);
      const queue: { frame: Uint8Array; ts: bigint; span: number }[] = [];
      let write = start; // the model's positions, as unbounded numbers
      let read = start;
      let salt = 0;
      let pushed = 0;
      let dropped = 0;
      const accepts = (len: number): number => {
        const size = (16 + len + 7) & ~7;
        const room = D - (write % D);
        const span = size <= room ? size : room + size;
        return len <= w.maxFrameBytes && write - read + span <= D ? span : 0;
      };
      for (const o of ops) {
        if (o.op === 'drain') {
          const got = drainAll(r, o.max);
          const want = queue.splice(0, Math.min(o.max, queue.length));
          if (got.length !== want.length) return false;
          for (let i = 0; i < got.length; i++) {
            if (got[i]!.ts !== want[i]!.ts || !Buffer.from(got[i]!.frame).equals(want[i]!.frame)) return false;
            read += want[i]!.span;
          }
          continue;
        }
        const frames = o.op === 'push' ? [pattern(o.len, ++salt)] : o.lens.map((l) => pattern(l, ++salt));
        let expect = 0;
        for (const f of frames) {
          const span = accepts(f.length);
          if (span === 0) break;
          queue.push({ frame: f, ts: o.ts, span });
          write += span;
          expect++;
        }
        const n = o.op === 'push' ? (w.tryPush(frames[0]!, o.ts) ? 1 : 0) : w.pushBatch(frames, o.ts);
        if (n !== expect) return false;
        pushed += n;
        if (n < frames.length) dropped++;
      }
      const s = ringStats(h);
      return s.pushed === pushed && s.popped === pushed - queue.length && s.dropped === dropped;
    },
  );
}

test('the ring behaves as a FIFO and refuses exactly when full, under any sequence of operations', (t) => {
  fc.assert(modelRun(0), { numRuns: 300 });
  t.pass();
});

test('free-running positions wrap past 2^32 without a seam', (t) => {
  fc.assert(modelRun(2 ** 32 - 4096), { numRuns: 300 }); // crosses 2^32 at a lap boundary
  fc.assert(modelRun(2 ** 32 - 2000), { numRuns: 200 }); // and in the middle of the data area
  t.pass();
});
