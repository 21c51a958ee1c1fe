// scan$ on virtual time against FakeLink peers that answer like the Linux kernel: the pacing schedule handed to
// the link, arp-scan's retry/timeout/backoff timing, one report per host, DUP flagging, completion and summary.
import test, { type ExecutionContext } from 'ava';
import { TestScheduler } from 'rxjs/testing';
import { defer, Subject, timer, type SchedulerAction, type SchedulerLike, type Subscription } from 'rxjs';
import { ArpOp, Ipv4, Mac, parseTargets } from '@ersatz/wire';
import { ForeignSenderError, OptionError, scan$, type ArpLink, type ArpObservation, type ScanEvent, type ScanOptions, type ScanSummary } from '@ersatz/resolve';
import { FakeLink, type FakeHost } from '@ersatz/resolve/testing';

const US = { ip: Ipv4.parse('192.0.2.1'), mac: Mac.parse('02:00:00:00:00:0a') };
const ip = (n: number): Ipv4 => Ipv4.parse(`192.0.2.${n}`);
const mac = (n: number): Mac => Mac.parse(`02:00:00:00:00:${n.toString(16).padStart(2, '0')}`);

interface Run {
  link: FakeLink;
  /** [ms, event] */
  events: [number, ScanEvent][];
  completedAt: number | null;
  /** notBeforeNs of each send, as ms since the scan started. */
  schedule: number[];
  /** When each send call was made. */
  calls: number[];
}

function run(t: ExecutionContext, targets: Iterable<Ipv4>, options: ScanOptions, hosts: FakeHost[] = [], subscription?: string): Run {
  const ts = new TestScheduler((a, e) => t.deepEqual(a, e));
  const link = new FakeLink({ scheduler: ts, ...US, hosts });
  const events: [number, ScanEvent][] = [];
  let completedAt: number | null = null;
  ts.run(({ expectObservable }) => {
    // The timelines below are about pacing and retries: no settle window unless a test asks for one.
    const scan = scan$(link, targets, { scheduler: ts, settleMs: 0, ...options });
    if (subscription) {
      expectObservable(scan, subscription);
      return;
    }
    scan.subscribe({ next: (e) => events.push([ts.now(), e]), complete: () => (completedAt = ts.now()) });
  });
  const t0 = link.nsAt(0);
  return {
    link,
    events,
    completedAt,
    schedule: link.sent.map((s) => Number(s.notBeforeNs! - t0) / 1e6),
    calls: link.sent.map((s) => s.atMs),
  };
}

const hostsOf = (r: Run) =>
  r.events.filter(([, e]) => e.type === 'host').map(([ms, e]) => (e.type === 'host' ? [ms, Ipv4.format(e.ip), e.mac, e.dup, e.tries, Number(e.rttNs) / 1e6] : []));
const summaryOf = (r: Run): ScanSummary | undefined => {
  const last = r.events.at(-1)?.[1];
  return last?.type === 'done' ? last.summary : undefined;
};

test('requests are paced: one notBeforeNs per slot, handed over at most lookaheadMs early', (t) => {
  const r = run(t, [10, 11, 12, 13, 14].map(ip), { ratePps: 100, tries: 1, timeoutMs: 50 });
  t.deepEqual(r.schedule, [0, 10, 20, 30, 40]);
  t.deepEqual(r.calls, [0, 0, 10, 20, 30]);
  // who-has 192.0.2.10 tell 192.0.2.1, broadcast, target MAC zero
  t.deepEqual(r.link.sent[0]!.frame.arp, { operation: ArpOp.Request, senderMac: US.mac, senderIp: US.ip, targetMac: Mac.ZERO, targetIp: ip(10) });
  t.deepEqual(r.link.sent[0]!.frame.ethDst, Mac.BROADCAST);
  // Done when the last host's only timeout ends: sent at 40, waits 50.
  t.is(r.completedAt, 90);
  t.deepEqual(summaryOf(r), { hosts: 5, sent: 5, answered: 0, duplicates: 0, elapsedMs: 90 });
});

test('bandwidth pacing counts each request as a 64-byte frame, as arp-scan does (256000 bit/s = 2 ms)', (t) => {
  const slots = (o: ScanOptions) => run(t, [10, 11, 12].map(ip), { tries: 1, timeoutMs: 1, ...o }).schedule;
  t.deepEqual(slots({}), [0, 2, 4]);
  t.deepEqual(slots({ bandwidthBps: 1_024_000 }), [0, 0.5, 1]);
  t.deepEqual(slots({ ratePps: 1000, lookaheadMs: 0 }), [0, 1, 2]);
});

test('on a VLAN link every request is tagged and names its own target', (t) => {
  const ts = new TestScheduler(() => undefined);
  const link = new FakeLink({ scheduler: ts, ...US, vlan: 42, hosts: [{ ip: ip(11), mac: mac(11) }] });
  const found: string[] = [];
  ts.run(() => {
    scan$(link, [10, 11, 12].map(ip), { scheduler: ts, tries: 1, timeoutMs: 10 }).subscribe((e) => e.type === 'host' && found.push(Ipv4.format(e.ip)));
  });
  t.deepEqual(
    link.sent.map((s) => [s.frame.vlan, Ipv4.format(s.frame.arp.targetIp), s.frame.arp.senderIp]),
    [
      [42, '192.0.2.10', US.ip],
      [42, '192.0.2.11', US.ip],
      [42, '192.0.2.12', US.ip],
    ],
  );
  // Still one 64-byte frame each on the wire: 2 ms apart at the default 256000 bit/s.
  t.deepEqual(
    link.sent.map((s) => Number(s.notBeforeNs! - link.nsAt(0)) / 1e6),
    [0, 2, 4],
  );
  t.deepEqual(found, ['192.0.2.11']);
});

test('retries follow arp-scan: a pass over all hosts, then each waits timeout × backoff^(try-1) after its latest request', (t) => {
  const r = run(t, [10, 11].map(ip), { ratePps: 100, tries: 3, timeoutMs: 100, backoff: 2 });
  // A: 0, +100 → 100, +200 → 300, +400 → gives up at 700. B trails by one slot.
  t.deepEqual(r.schedule, [0, 10, 100, 110, 300, 310]);
  // A retry is only handed over once its timeout has passed (a reply could still cancel it until then).
  t.deepEqual(r.calls, [0, 0, 100, 110, 300, 310]);
  t.is(r.completedAt, 710);
  t.deepEqual(summaryOf(r), { hosts: 2, sent: 6, answered: 0, duplicates: 0, elapsedMs: 710 });
});

test('a host waits its whole timeout after its request left, not after the schedule said it would', (t) => {
  // Our requests leave 150 ms late (a transmit queue behind the schedule): C is due to leave at 200
  // but leaves at 350, and its reply 50 ms later is within 120 ms of that (the schedule alone says it timed out at 320).
  const ts = new TestScheduler(() => undefined);
  const link = new FakeLink({ scheduler: ts, ...US, departureDelayMs: 150, hosts: [{ ip: ip(12), mac: mac(12), delayMs: 50 }] });
  const found: [number, string][] = [];
  ts.run(() => {
    scan$(link, [10, 11, 12].map(ip), { scheduler: ts, ratePps: 10, tries: 1, timeoutMs: 120 }).subscribe((e) => {
      if (e.type === 'host') found.push([ts.now(), Ipv4.format(e.ip)]);
    });
  });
  t.deepEqual(found, [[400, '192.0.2.12']]);
});

test('an answer captured in time but still crossing a lagging pipeline when the wait ends is not lost', (t) => {
  // The consumer runs 300 ms behind the capture (a main thread that fell behind a sweep): .12 answers 50 ms after
  // its request, within its 120 ms, but that reaches the scan only at 350 ms. .13 never answers.
  const ts = new TestScheduler(() => undefined);
  const link = new FakeLink({ scheduler: ts, ...US, deliveryLagMs: 300, hosts: [{ ip: ip(12), mac: mac(12), delayMs: 50 }] });
  const found: [number, string][] = [];
  let done: ScanSummary | undefined;
  let doneAt = 0;
  ts.run(() => {
    scan$(link, [12, 13].map(ip), { scheduler: ts, ratePps: 1000, tries: 1, timeoutMs: 120 }).subscribe((e) => {
      if (e.type === 'host') found.push([ts.now(), Ipv4.format(e.ip)]);
      if (e.type === 'done') [done, doneAt] = [e.summary, ts.now()];
    });
  });
  t.deepEqual(found, [[350, '192.0.2.12']]);
  t.like(done, { hosts: 2, answered: 1 });
  // .13's wait ended at 121 ms; the scan knew it heard everything up to then only at ~421 ms.
  t.true(doneAt >= 421 && doneAt < 440, String(doneAt));
});

test('the first pass comes before any retry, however long it takes (arp-scan order)', (t) => {
  const r = run(t, [10, 11, 12, 13].map(ip), { ratePps: 10, tries: 2, timeoutMs: 150 });
  // Host .10's timeout ends at 150 ms, during the first pass; it is retried after .13 (300 ms), at 400 ms.
  t.deepEqual(r.schedule, [0, 100, 200, 300, 400, 500, 600, 700]);
  t.deepEqual(
    r.link.sent.map((s) => Ipv4.format(s.frame.arp.targetIp)),
    ['192.0.2.10', '192.0.2.11', '192.0.2.12', '192.0.2.13', '192.0.2.10', '192.0.2.11', '192.0.2.12', '192.0.2.13'],
  );
});

test('each host is reported once as it answers; a second MAC is a DUP; done after the silent host gives up', (t) => {
  const r = run(t, [2, 3, 4].map(ip), { ratePps: 1000, tries: 2, timeoutMs: 100, backoff: 1.5 }, [
    { ip: ip(2), mac: mac(2), delayMs: 1 },
    { ip: ip(3), mac: mac(3), delayMs: 1 },
    { ip: ip(3), mac: mac(0x33), delayMs: 2 },
  ]);
  t.deepEqual(hostsOf(r), [
    [1, '192.0.2.2', mac(2), false, 1, 1],
    [2, '192.0.2.3', mac(3), false, 1, 1],
    [3, '192.0.2.3', mac(0x33), true, 1, 2],
  ]);
  // .4 was asked at 2 ms and again at 102 ms, then waited 150 ms.
  t.deepEqual(
    r.link.sent.map((s) => [s.atMs, Ipv4.format(s.frame.arp.targetIp)]),
    [
      [0, '192.0.2.2'],
      [0, '192.0.2.3'],
      [0, '192.0.2.4'],
      [102, '192.0.2.4'],
    ],
  );
  t.is(r.completedAt, 252);
  t.deepEqual(summaryOf(r), { hosts: 3, sent: 4, answered: 2, duplicates: 1, elapsedMs: 252 });
});

test('the last host to answer still gets its DUP: the scan listens settleMs (default 10) after nothing is outstanding', (t) => {
  const hosts = [
    { ip: ip(2), mac: mac(2), delayMs: 1 },
    { ip: ip(2), mac: mac(0x22), delayMs: 4 }, // a second owner, 3 ms later
    { ip: ip(2), mac: mac(0x23), delayMs: 30 }, // a third, after the window: not seen
  ];
  const byDefault = run(t, [ip(2)], { settleMs: undefined, ratePps: 1000, tries: 1, timeoutMs: 100 }, hosts);
  t.deepEqual(hostsOf(byDefault), [
    [1, '192.0.2.2', mac(2), false, 1, 1],
    [4, '192.0.2.2', mac(0x22), true, 1, 4],
  ]);
  t.is(byDefault.completedAt, 11); // the last host answered at 1 ms
  t.like(summaryOf(byDefault), { answered: 1, duplicates: 1 });
  // settleMs 0 ends at the first answer, as the scan did before: the duplicate goes unseen.
  const none = run(t, [ip(2)], { settleMs: 0, ratePps: 1000, tries: 1, timeoutMs: 100 }, hosts);
  t.is(none.completedAt, 1);
  t.like(summaryOf(none), { answered: 1, duplicates: 0 });
});

test('the same MAC answering twice is one host, not a DUP', (t) => {
  const r = run(t, [ip(2), ip(3)], { ratePps: 1000, tries: 1, timeoutMs: 50 }, [
    { ip: ip(2), mac: mac(2), delayMs: 1 },
    { ip: ip(2), mac: mac(2), delayMs: 2 },
  ]);
  t.deepEqual(hostsOf(r), [[1, '192.0.2.2', mac(2), false, 1, 1]]);
  t.like(summaryOf(r), { answered: 1, duplicates: 0 });
});

test('a host answering only the retry is reported then, with its try count; no third request', (t) => {
  const r = run(t, [ip(5)], { ratePps: 1000, tries: 3, timeoutMs: 100 }, [{ ip: ip(5), mac: mac(5), drop: 1, delayMs: 4 }]);
  t.deepEqual(hostsOf(r), [[104, '192.0.2.5', mac(5), false, 2, 4]]);
  t.deepEqual(r.schedule, [0, 100]);
  // Nothing outstanding once it answered: the scan ends then, as arp-scan's does.
  t.is(r.completedAt, 104);
});

test('an answer after its host\'s last wait is still reported while the scan runs, as arp-scan reports it', (t) => {
  // .2 (asked at 0) is given up at 50 and answers at 55, while .3 (asked at 10, silent) keeps the scan running to 60.
  const r = run(t, [2, 3].map(ip), { ratePps: 100, tries: 1, timeoutMs: 50 }, [{ ip: ip(2), mac: mac(2), delayMs: 55 }]);
  t.deepEqual(hostsOf(r), [[55, '192.0.2.2', mac(2), false, 1, 55]]);
  t.is(r.completedAt, 60);
  t.like(summaryOf(r), { hosts: 2, sent: 2, answered: 1 });
});

test('at a slow rate the scan ends at the last answer too, not at the slot after the last request', (t) => {
  // 10 requests/s: .3 is asked at 100 and answers at 105; no 200 ms slot is waited for to learn the list is over.
  const r = run(t, [2, 3].map(ip), { ratePps: 10, tries: 1, timeoutMs: 500 }, [
    { ip: ip(2), mac: mac(2), delayMs: 5 },
    { ip: ip(3), mac: mac(3), delayMs: 5 },
  ]);
  t.deepEqual(hostsOf(r).map(([ms]) => ms), [5, 105]);
  t.is(r.completedAt, 105);
});

test('when every host answers the scan ends at the last answer, not at a timeout', (t) => {
  const r = run(t, [2, 3].map(ip), { ratePps: 1000 }, [
    { ip: ip(2), mac: mac(2), delayMs: 3 },
    { ip: ip(3), mac: mac(3), delayMs: 7 },
  ]);
  t.is(r.completedAt, 8);
  t.deepEqual(summaryOf(r), { hosts: 2, sent: 2, answered: 2, duplicates: 0, elapsedMs: 8 });
});

test('replies from hosts not asked, to another sender IP, or spoofed at the Ethernet layer count for nothing but their own', (t) => {
  const ts = new TestScheduler(() => undefined);
  const link = new FakeLink({ scheduler: ts, ...US });
  const events: ScanEvent[] = [];
  const reply = (from: number, over: Partial<ArpObservation['arp']> = {}, ethDst = US.mac) =>
    link.inject({ ethSrc: mac(from), ethDst, arp: { operation: ArpOp.Reply, senderMac: mac(from), senderIp: ip(from), targetMac: US.mac, targetIp: US.ip, ...over } }, 5);
  ts.run(() => {
    scan$(link, [ip(2), ip(3), ip(4), ip(6)], { scheduler: ts, ratePps: 1000, tries: 1, timeoutMs: 50 }).subscribe((e) => events.push(e));
    reply(9); // never asked
    reply(2, { targetIp: ip(77) }); // to another sender IP
    reply(3, { targetMac: mac(77) }); // to another MAC
    reply(4, {}, mac(77)); // unicast to someone else (seen only by a promiscuous capture)
    reply(6, { operation: ArpOp.Request, targetIp: ip(77) }); // a request for someone else is not an answer
  });
  t.deepEqual(
    events.map((e) => e.type),
    ['done'],
  );
});

test('random order: a permutation, the same for the same seed (TargetSet.shuffled), whatever the iterable', (t) => {
  const set = parseTargets('198.51.100.1-198.51.100.50');
  const order = (targets: Iterable<Ipv4>, seed: number) =>
    run(t, targets, { random: true, seed, ratePps: 1e6, tries: 1, timeoutMs: 1 }).link.sent.map((s) => s.frame.arp.targetIp as number);
  const a = order(set, 42);
  t.deepEqual(a, Array.from(set.shuffled(42)));
  t.deepEqual(order([...set], 42), a, 'a plain array shuffles the same way');
  t.deepEqual([...a].sort((x, y) => x - y), [...set] as number[]);
  t.notDeepEqual(a, [...set] as number[]);
  t.notDeepEqual(order(set, 43), a);
});

test('an answer after its host was given up is reported for LATE_HOSTS give-ups, and not after', (t) => {
  // 32766 hosts at 100 000/s, one try, 50 ms: the first pass ends at 327.66 ms, when every host asked before 277.66
  // is given up at once (27766 of them); past the last 16384 of those (LATE_HOSTS), a host is forgotten.
  const set = parseTargets('10.1.0.0/17');
  const nth = (i: number): Ipv4 => Ipv4.parse(`10.1.${(i + 1) >> 8}.${(i + 1) & 0xff}`); // the i-th target (from .0.1)
  const r = run(t, set, { ratePps: 100_000, tries: 1, timeoutMs: 50 }, [
    { ip: nth(0), mac: mac(1), delayMs: 340 }, // given up at 327.66 with 27765 after it: forgotten, its answer unseen
    { ip: nth(20000), mac: mac(2), delayMs: 130 }, // given up at 327.66 with 7765 after it: its answer at 330 counts
    { ip: nth(30000), mac: mac(3), delayMs: 55 }, // asked at 300, given up at 350, answers at 355
  ]);
  t.is(set.size, 32766);
  t.deepEqual(
    hostsOf(r).map(([ms, ipText, m, dup, tries, rttMs]) => [Math.round(ms as number), ipText, m, dup, tries, Math.round(rttMs as number)]),
    [
      [330, Ipv4.format(nth(20000)), mac(2), false, 1, 130],
      [355, Ipv4.format(nth(30000)), mac(3), false, 1, 55],
    ],
  );
  t.like(summaryOf(r), { hosts: 32766, sent: 32766, answered: 2 });
});

test('a target listed twice is asked once', (t) => {
  const r = run(t, [ip(2), ip(2), ip(3)], { ratePps: 1000, tries: 1, timeoutMs: 10 });
  t.deepEqual(summaryOf(r)?.hosts, 2);
  t.is(r.link.sent.length, 2);
});

test('unsubscribing stops the schedule and releases arp$ (requests already handed over stay sent)', (t) => {
  const r = run(t, [10, 11, 12, 13, 14, 15].map(ip), { ratePps: 100 }, [], '^ 14ms !'); // unsubscribes at 15 ms: '^' takes frame 0
  t.deepEqual(r.schedule, [0, 10, 20]);
  t.is(r.link.subscribers, 0);
  t.deepEqual(r.link.log.filter((l) => !l.startsWith('send')), ['subscribe@0', 'unsubscribe@15']);
});

test('stop$ ends the scan early with its summary; progress events come every progressMs', (t) => {
  const r = run(t, [10, 11, 12, 13, 14, 15].map(ip), { ratePps: 100, progressMs: 20, stop$: timer(45) }, [{ ip: ip(11), mac: mac(11), delayMs: 1 }]);
  t.deepEqual(
    r.events.map(([ms, e]) => [ms, e.type]),
    [
      [11, 'host'],
      [20, 'progress'],
      [40, 'progress'],
      [45, 'done'],
    ],
  );
  // The 40 ms tick runs before that instant's pump (it was scheduled first): the sixth request is not out yet.
  t.like(r.events[2]![1], { type: 'progress', hosts: 5, sent: 5, answered: 1, outstanding: 4, elapsedMs: 40 });
  t.deepEqual(summaryOf(r), { hosts: 6, sent: 6, answered: 1, duplicates: 0, elapsedMs: 45 });
  t.is(r.completedAt, 45);
});

test('an empty target list is done at once', (t) => {
  const r = run(t, [], {});
  t.deepEqual(summaryOf(r), { hosts: 0, sent: 0, answered: 0, duplicates: 0, elapsedMs: 0 });
  t.is(r.link.subscribers, 0);
});

test('a /16 sweeps with one timer and one arp$ subscription, whatever the host count', (t) => {
  const ts = new TestScheduler(() => undefined);
  // Counts actions scheduled and not yet run or cancelled: per-host timers would show here as thousands.
  let live = 0;
  let peak = 0;
  const counting: SchedulerLike = {
    now: () => ts.now(),
    schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay?: number, state?: T): Subscription {
      live++;
      peak = Math.max(peak, live);
      let ended = false;
      const end = () => {
        if (!ended) {
          ended = true;
          live--;
        }
      };
      const sub = ts.schedule(function (this: SchedulerAction<T>, s?: T) {
        end();
        work.call(this, s);
      }, delay, state as T);
      sub.add(end);
      return sub;
    },
  };
  const arp$ = new Subject<ArpObservation>();
  let subscriptions = 0;
  let sent = 0;
  const watched: ArpLink = {
    ifname: 'count0',
    ...US,
    arp$: defer(() => {
      subscriptions++;
      return arp$;
    }),
    send: () => sent++,
    departures: () => sent, // every request leaves at once; when is not known
    departedNs: () => null,
    now: () => BigInt(Math.round(ts.now() * 1e6)),
    heardUntilNs: () => BigInt(Math.round(ts.now() * 1e6)),
  };
  const set = parseTargets('10.1.0.0/16');
  let summary: ScanSummary | undefined;
  ts.run(() => {
    scan$(watched, set, { scheduler: counting, ratePps: 100_000, tries: 2, timeoutMs: 500, backoff: 1.5 }).subscribe((e) => {
      if (e.type === 'done') summary = e.summary;
    });
  });
  t.is(set.size, 65534);
  t.is(sent, 2 * 65534);
  t.like(summary, { hosts: 65534, sent: 2 * 65534, answered: 0 });
  t.true(peak <= 2, `peak scheduled actions ${peak}`);
  t.is(subscriptions, 1);
  t.is(arp$.observed, false);
});

test('options outside their domain throw OptionError', (t) => {
  const link = new FakeLink({ scheduler: new TestScheduler(() => undefined) });
  t.throws(() => scan$(link, [], { ratePps: 10, bandwidthBps: 10 }), { instanceOf: OptionError });
  t.throws(() => scan$(link, [], { ratePps: 0 }), { instanceOf: OptionError, message: 'scan: invalid ratePps 0: expected a finite number > 0' });
  t.throws(() => scan$(link, [], { tries: 0 }), { instanceOf: OptionError });
  t.throws(() => scan$(link, [], { backoff: -1 }), { instanceOf: OptionError });
  t.throws(() => scan$(link, [], { timeoutMs: Number.POSITIVE_INFINITY }), { instanceOf: OptionError });
  // The last try's wait must fit a timer (else the scan would wake every millisecond and never end).
  t.throws(() => scan$(link, [], { timeoutMs: 500, backoff: 100, tries: 100 }), { instanceOf: OptionError, message: /backoff/ });
});

test('a sender address the interface lacks is refused before anything is sent; 0.0.0.0 (a probe) and --spoof-sender are not', (t) => {
  const ts = new TestScheduler((a, e) => t.deepEqual(a, e));
  const link = new FakeLink({ scheduler: ts, ...US, addresses: [US.ip, Ipv4.parse('192.0.2.9')] });
  const foreign = Ipv4.parse('192.0.2.254');
  const err = t.throws(() => scan$(link, [Ipv4.parse('192.0.2.2')], { source: foreign }), { instanceOf: ForeignSenderError });
  t.regex(err.message, /^scan: 192\.0\.2\.254 is not an address of \S+ \(it has 192\.0\.2\.1, 192\.0\.2\.9\): refusing/);
  t.is(link.sent.length, 0);
  for (const options of [{ source: Ipv4.parse('192.0.2.9') }, { source: Ipv4.UNSPECIFIED }, { source: foreign, spoofSender: true }]) {
    t.notThrows(() => scan$(link, [Ipv4.parse('192.0.2.2')], options), JSON.stringify(options));
  }
});

