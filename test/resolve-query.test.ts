// resolve$/query$/resolve on virtual time: when arp$ is subscribed and unsubscribed, when requests go out, what
// comes back. Nothing here touches a network: the link is @ersatz/resolve/testing's FakeLink or a marble stub.
import test, { type ExecutionContext } from 'ava';
import { TestScheduler } from 'rxjs/testing';
import { defer, type Observable } from 'rxjs';
import { ArpOp, Ipv4, Mac, parseArpFrame } from '@ersatz/wire';
import { createResolver, OptionError, ResolveTimeoutError, type ArpLink, type ArpObservation, type ResolveResult } from '@ersatz/resolve';
import { FakeLink, type FakeHost } from '@ersatz/resolve/testing';

const US = { ip: Ipv4.parse('192.0.2.1'), mac: Mac.parse('02:00:00:00:00:0a') };
const PEER = { ip: Ipv4.parse('192.0.2.2'), mac: Mac.parse('02:00:00:00:00:0b') };
const OTHER = Mac.parse('02:00:00:00:00:0c');

function scheduler(t: ExecutionContext): TestScheduler {
  return new TestScheduler((actual, expected) => t.deepEqual(actual, expected));
}

function fake(ts: TestScheduler, hosts: FakeHost[] = [], departureDelayMs = 0): FakeLink {
  return new FakeLink({ scheduler: ts, ...US, hosts, departureDelayMs });
}

// A link whose arp$ is a marble: subscriptions and sends are logged with their virtual time; unlike a capture,
// it does not echo our own frames, so RTTs fall back to link.now() at send.
function stubLink(ts: TestScheduler, arp$: Observable<ArpObservation>): ArpLink & { sends: number[]; events: string[] } {
  const sends: number[] = [];
  const events: string[] = [];
  return {
    ifname: 'stub0',
    ...US,
    arp$: defer(() => {
      events.push(`subscribe@${ts.now()}`);
      return arp$;
    }),
    sends,
    events,
    send: () => {
      events.push(`send@${ts.now()}`);
      return sends.push(ts.now()) - 1;
    },
    departures: () => sends.length,
    departedNs: () => null, // the link cannot say when a request left
    now: () => BigInt(ts.now()) * 1_000_000n,
    heardUntilNs: () => BigInt(ts.now()) * 1_000_000n,
  };
}

// tcpdump -n -e: 02:00:00:00:00:0b > 02:00:00:00:00:0a, ARP, Reply 192.0.2.2 is-at 02:00:00:00:00:0b, length 28
function replyAt(ms: number, mac = PEER.mac): ArpObservation {
  return {
    tsNs: BigInt(ms) * 1_000_000n,
    ethSrc: mac,
    ethDst: US.mac,
    vlan: null,
    arp: { operation: ArpOp.Reply, senderMac: mac, senderIp: PEER.ip, targetMac: US.mac, targetIp: US.ip },
  };
}

test('resolve$ listens before it asks, retries every interval and errors after the last one', (t) => {
  const ts = scheduler(t);
  let link!: ReturnType<typeof stubLink>;
  ts.run(({ hot, expectObservable, expectSubscriptions }) => {
    const arp$ = hot<ArpObservation>('-');
    link = stubLink(ts, arp$);
    const resolver = createResolver(link, { scheduler: ts });
    expectObservable(resolver.resolve$(PEER.ip)).toBe('3000ms #', undefined, new ResolveTimeoutError(PEER.ip, 3, 3000));
    expectSubscriptions(arp$.subscriptions).toBe('^ 2999ms !');
  });
  t.deepEqual(link.sends, [0, 1000, 2000]);
  t.deepEqual(link.events.slice(0, 2), ['subscribe@0', 'send@0']);
});

test('the timeout error carries its numbers and says what to do', (t) => {
  const ts = scheduler(t);
  let error: unknown;
  ts.run(() => {
    const link = fake(ts);
    createResolver(link, { scheduler: ts }).resolve$(PEER.ip, { tries: 2, intervalMs: 250 }).subscribe({ error: (e: unknown) => (error = e) });
  });
  t.true(error instanceof ResolveTimeoutError);
  const e = error as ResolveTimeoutError;
  t.deepEqual([Ipv4.format(e.ip), e.tries, e.elapsedMs], ['192.0.2.2', 2, 500]);
  t.is(e.message, 'no ARP reply from 192.0.2.2 after 2 tries (500 ms): check that the host is up and on the same link, or raise --tries/--timeout');
});

test('an instant reply is not missed: the request is built and sent after arp$ is subscribed', (t) => {
  const ts = scheduler(t);
  const link = fake(ts, [{ ...PEER, delayMs: 0 }]);
  ts.run(({ expectObservable }) => {
    expectObservable(createResolver(link, { scheduler: ts }).resolve$(PEER.ip)).toBe('(m|)', { m: PEER.mac });
  });
  t.deepEqual(link.log, ['subscribe@0', 'send@0', 'unsubscribe@0']);
  // who-has 192.0.2.2 tell 192.0.2.1: broadcast, target MAC zero as the kernel sends it
  const f = link.sent[0]!.frame;
  t.deepEqual(f, {
    ethDst: Mac.BROADCAST,
    ethSrc: US.mac,
    vlan: null,
    arp: { operation: ArpOp.Request, senderMac: US.mac, senderIp: US.ip, targetMac: Mac.ZERO, targetIp: PEER.ip },
  });
});

test('a reply to the second try resolves then, and retransmission stops', (t) => {
  const ts = scheduler(t);
  const link = fake(ts, [{ ...PEER, drop: 1, delayMs: 5 }]);
  ts.run(({ expectObservable }) => {
    expectObservable(createResolver(link, { scheduler: ts }).resolve$(PEER.ip)).toBe('1005ms (m|)', { m: PEER.mac });
  });
  t.deepEqual(
    link.sent.map((s) => s.atMs),
    [0, 1000],
  );
  t.deepEqual(link.log.at(-1), 'unsubscribe@1005');
});

test('query$ times the reply from when our request left, tries and no conflicts', (t) => {
  const ts = scheduler(t);
  // Our request leaves 1 ms after we queue it; the peer answers 3 ms after that.
  const link = fake(ts, [{ ...PEER, delayMs: 3 }], 1);
  let result: ResolveResult | undefined;
  ts.run(() => {
    createResolver(link, { scheduler: ts }).query$(PEER.ip).subscribe((r) => (result = r));
  });
  t.truthy(result);
  t.is(result!.rttNs, 3_000_000n);
  t.is(result!.tries, 1);
  t.deepEqual(result!.conflicts, []);
  t.false(result!.fromCache);
  t.is(result!.reply?.tsNs, link.nsAt(4));
});

test('when the link cannot say when a request left, the RTT runs from link.now() at send; a late reply is timed from the latest earlier try', (t) => {
  const ts = scheduler(t);
  const results: ResolveResult[] = [];
  ts.run(({ hot }) => {
    // Reply captured at 1300 ms: the second request left at 1000 ms.
    const link = stubLink(ts, hot<ArpObservation>('1300ms r', { r: replyAt(1300) }));
    createResolver(link, { scheduler: ts }).query$(PEER.ip).subscribe((r) => results.push(r));
  });
  t.is(results[0]?.rttNs, 300_000_000n);
  t.is(results[0]?.tries, 2);
});

test('an answer captured after our request was queued but before it left (the peer asking us first) has no RTT, never a negative one', (t) => {
  const ts = scheduler(t);
  const results: ResolveResult[] = [];
  ts.run(({ hot }) => {
    // Queued at 0 ms; the transmit worker hands it to the kernel only at 12 ms; the answer was captured at 5 ms.
    const link = { ...stubLink(ts, hot<ArpObservation>('5ms r', { r: replyAt(5) })), departedNs: () => 12_000_000n };
    createResolver(link, { scheduler: ts }).query$(PEER.ip).subscribe((r) => results.push(r));
  });
  t.is(results[0]?.mac, PEER.mac);
  t.is(results[0]?.rttNs, null);
});

test('a reply captured before we asked (stale in the ring) is ignored', (t) => {
  const ts = scheduler(t);
  ts.run(({ hot, expectObservable }) => {
    // Delivered at 10 ms, but the capture stamped it before our first request (subscribed at 5 ms).
    const link = stubLink(ts, hot<ArpObservation>('10ms s 100ms r', { s: replyAt(2), r: replyAt(111) }));
    expectObservable(createResolver(link, { scheduler: ts }).resolve$(PEER.ip), '5ms ^').toBe('111ms (m|)', { m: PEER.mac });
  });
});

test('concurrent resolve$ for one IP share one query; each gets the answer', (t) => {
  const ts = scheduler(t);
  const link = fake(ts, [{ ...PEER, drop: 1, delayMs: 1 }]);
  ts.run(({ expectObservable }) => {
    const resolver = createResolver(link, { scheduler: ts });
    expectObservable(resolver.resolve$(PEER.ip)).toBe('1001ms (m|)', { m: PEER.mac });
    expectObservable(resolver.resolve$(PEER.ip), '500ms ^').toBe('1001ms (m|)', { m: PEER.mac });
    expectObservable(resolver.resolve$(PEER.ip), '700ms ^').toBe('1001ms (m|)', { m: PEER.mac });
  });
  t.deepEqual(
    link.sent.map((s) => s.atMs),
    [0, 1000],
  );
  t.deepEqual(
    link.log.filter((l) => l.startsWith('subscribe')),
    ['subscribe@0'],
  );
});

test('unsubscribing the last subscriber cancels the query: no more requests, arp$ released', (t) => {
  const ts = scheduler(t);
  const link = fake(ts);
  let resolver!: ReturnType<typeof createResolver>;
  ts.run(({ expectObservable }) => {
    resolver = createResolver(link, { scheduler: ts });
    expectObservable(resolver.resolve$(PEER.ip), '^ 499ms !').toBe('-');
    expectObservable(resolver.resolve$(PEER.ip), '^ 1499ms !').toBe('-');
  });
  // The first leaving at 500 ms does not stop the query; the second leaving at 1500 ms does.
  t.deepEqual(
    link.sent.map((s) => s.atMs),
    [0, 1000],
  );
  t.deepEqual(link.log.filter((l) => l.startsWith('subscribe') || l.startsWith('unsubscribe')), ['subscribe@0', 'unsubscribe@1500']);
  t.is(resolver.pendingCount, 0);
  t.is(link.subscribers, 0);
});

test('a new query after a finished one asks again (the pending entry is removed)', (t) => {
  const ts = scheduler(t);
  const link = fake(ts, [PEER]);
  ts.run(({ expectObservable }) => {
    const resolver = createResolver(link, { scheduler: ts });
    expectObservable(resolver.resolve$(PEER.ip)).toBe('1ms (m|)', { m: PEER.mac });
    expectObservable(resolver.resolve$(PEER.ip), '10ms ^').toBe('11ms (m|)', { m: PEER.mac });
  });
  t.deepEqual(
    link.sent.map((s) => s.atMs),
    [0, 10],
  );
});

test('the cache answers without sending until its TTL runs out', (t) => {
  const ts = scheduler(t);
  const link = fake(ts, [PEER]);
  const results: ResolveResult[] = [];
  ts.run(({ expectObservable }) => {
    const resolver = createResolver(link, { scheduler: ts, cacheTtlMs: 5000 });
    expectObservable(resolver.resolve$(PEER.ip)).toBe('1ms (m|)', { m: PEER.mac });
    // Stored at 1 ms, so fresh until 5001 ms.
    expectObservable(resolver.resolve$(PEER.ip), '3000ms ^').toBe('3000ms (m|)', { m: PEER.mac });
    expectObservable(resolver.resolve$(PEER.ip), '5001ms ^').toBe('5002ms (m|)', { m: PEER.mac });
    ts.schedule(() => resolver.query$(PEER.ip).subscribe((r) => results.push(r)), 4000);
  });
  t.deepEqual(
    link.sent.map((s) => s.atMs),
    [0, 5001],
  );
  t.like(results[0], { mac: PEER.mac, fromCache: true, tries: 0, rttNs: null, reply: null });
});

test('the cache is off by default and forget() drops entries', (t) => {
  const ts = scheduler(t);
  const link = fake(ts, [PEER]);
  ts.run(() => {
    const off = createResolver(link, { scheduler: ts });
    off.resolve$(PEER.ip).subscribe();
    ts.schedule(() => off.resolve$(PEER.ip).subscribe(), 100);
    const on = createResolver(link, { scheduler: ts, cacheTtlMs: 60_000 });
    ts.schedule(() => on.resolve$(PEER.ip).subscribe(), 200);
    ts.schedule(() => on.resolve$(PEER.ip).subscribe(), 300); // cached
    ts.schedule(() => {
      on.forget(PEER.ip);
      on.resolve$(PEER.ip).subscribe();
    }, 400);
  });
  t.deepEqual(
    link.sent.map((s) => s.atMs),
    [0, 100, 200, 400],
  );
});

test('resolve() resolves with the MAC and rejects with the timeout error', async (t) => {
  const ts = new TestScheduler(() => undefined);
  const link = fake(ts, [PEER]);
  const resolver = createResolver(link, { scheduler: ts });
  let ok!: Promise<Mac>;
  let late!: Promise<Mac>;
  ts.run(() => {
    ok = resolver.resolve(PEER.ip);
    late = resolver.resolve(Ipv4.parse('192.0.2.99'), { tries: 1, intervalMs: 10 });
  });
  t.is(await ok, PEER.mac);
  await t.throwsAsync(late, { instanceOf: ResolveTimeoutError });
});

test('resolve() with an AbortSignal: aborting rejects with the signal\'s reason and stops retransmitting', async (t) => {
  const ts = new TestScheduler(() => undefined);
  const link = fake(ts);
  const resolver = createResolver(link, { scheduler: ts });
  const ac = new AbortController();
  const reason = new Error('user gave up');
  let p!: Promise<Mac>;
  ts.run(() => {
    p = resolver.resolve(PEER.ip, { signal: ac.signal });
    ts.schedule(() => ac.abort(reason), 1500);
  });
  await t.throwsAsync(p, { is: reason });
  t.deepEqual(
    link.sent.map((s) => s.atMs),
    [0, 1000],
  );
  t.is(link.subscribers, 0);
});

test('resolve() with an already aborted signal rejects without sending', async (t) => {
  const ts = new TestScheduler(() => undefined);
  const link = fake(ts, [PEER]);
  const err = await t.throwsAsync(createResolver(link, { scheduler: ts }).resolve(PEER.ip, { signal: AbortSignal.abort() }), { any: true });
  t.is((err as DOMException).name, 'AbortError', 'an AbortSignal.abort() reason: a DOMException named AbortError');
  t.is(link.sent.length, 0);
});

test('two MACs answering within the settle window are both reported, and the answer is not cached', (t) => {
  const ts = scheduler(t);
  const link = fake(ts, [
    { ...PEER, delayMs: 1 },
    { ip: PEER.ip, mac: OTHER, delayMs: 3 },
  ]);
  const results: ResolveResult[] = [];
  ts.run(({ expectObservable }) => {
    const resolver = createResolver(link, { scheduler: ts, cacheTtlMs: 60_000 });
    resolver.query$(PEER.ip, { settleMs: 10 }).subscribe((r) => results.push(r));
    // With no window the first answer wins at once: the second claimant is not seen.
    expectObservable(resolver.query$(PEER.ip), '100ms ^').toBe('101ms (r|)', {
      r: { ip: PEER.ip, mac: PEER.mac, rttNs: 1_000_000n, tries: 1, conflicts: [], fromCache: false, reply: replyFrom(link, 101) },
    });
  });
  t.is(results.length, 1);
  t.is(results[0]!.mac, PEER.mac);
  t.deepEqual(results[0]!.conflicts, [OTHER]);
  t.is(results[0]!.reply?.tsNs, link.nsAt(1));
  // Two queries, two requests: the contested answer was not cached, the later one was (no third request).
  t.deepEqual(
    link.sent.map((s) => s.atMs),
    [0, 100],
  );
});

function replyFrom(link: FakeLink, ms: number): ArpObservation {
  return {
    tsNs: link.nsAt(ms),
    ethSrc: PEER.mac,
    ethDst: US.mac,
    vlan: null,
    arp: { operation: ArpOp.Reply, senderMac: PEER.mac, senderIp: PEER.ip, targetMac: US.mac, targetIp: US.ip },
  };
}

test('replies$ carries every reply seen, not only answers to our queries', (t) => {
  const ts = scheduler(t);
  ts.run(({ hot, expectObservable }) => {
    const request: ArpObservation = { ...replyAt(1), arp: { ...replyAt(1).arp, operation: ArpOp.Request } };
    const spoof: ArpObservation = { ...replyAt(3), ethSrc: OTHER };
    const link = stubLink(ts, hot<ArpObservation>('-a-b-c', { a: request, b: spoof, c: replyAt(5) }));
    expectObservable(createResolver(link, { scheduler: ts }).replies$).toBe('---b-c', { b: spoof, c: replyAt(5) });
  });
});

test('a VLAN link tags its requests and only believes replies on its VLAN', (t) => {
  const ts = scheduler(t);
  const link = new FakeLink({ scheduler: ts, ...US, vlan: 100 });
  const arp = { operation: ArpOp.Reply, senderMac: PEER.mac, senderIp: PEER.ip, targetMac: US.mac, targetIp: US.ip } as const;
  ts.run(({ expectObservable }) => {
    link.inject({ ethSrc: PEER.mac, ethDst: US.mac, vlan: null, arp }, 1); // untagged
    link.inject({ ethSrc: PEER.mac, ethDst: US.mac, vlan: 200, arp }, 2); // another VLAN
    link.inject({ ethSrc: PEER.mac, ethDst: US.mac, vlan: 100, arp }, 5);
    expectObservable(createResolver(link, { scheduler: ts }).resolve$(PEER.ip)).toBe('5ms (m|)', { m: PEER.mac });
  });
  t.is(link.sent[0]!.frame.vlan, 100);
  t.is(parseArpFrame(link.sent[0]!.bytes).vlan, 100);
});

test('options outside their domain throw OptionError naming the option', (t) => {
  const ts = new TestScheduler(() => undefined);
  const link = fake(ts);
  t.throws(() => createResolver(link, { tries: 0 }), { instanceOf: OptionError, message: 'resolve: invalid tries 0: expected an integer >= 1' });
  t.throws(() => createResolver(link, { cacheTtlMs: -1 }), { instanceOf: OptionError });
  const resolver = createResolver(link, { scheduler: ts });
  t.throws(() => resolver.resolve$(PEER.ip, { intervalMs: 0 }), { instanceOf: OptionError, message: 'resolve: invalid intervalMs 0: expected a finite number > 0 and <= 2147483647' });
  // Longer than a timer can wait: setTimeout would fire at once and time the query out immediately.
  t.throws(() => resolver.resolve$(PEER.ip, { intervalMs: 2 ** 31 }), { instanceOf: OptionError });
  t.throws(() => resolver.resolve$(PEER.ip, { tries: 3, intervalMs: 2 ** 30 }), { instanceOf: OptionError, message: /tries × intervalMs/ });
  t.throws(() => resolver.resolve$(PEER.ip, { tries: 1.5 }), { instanceOf: OptionError });
  t.throws(() => resolver.resolve$(PEER.ip, { settleMs: Number.NaN }), { instanceOf: OptionError });
});
