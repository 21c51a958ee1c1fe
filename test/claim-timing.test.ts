// claim$ (RFC 5227) on virtual time: the probe and announcement schedule, conflicts while probing (a reply, a
// simultaneous probe), while announcing, and the defence interval. Nothing here touches a network.
import test from 'ava';
import { TestScheduler } from 'rxjs/testing';
import { map, Subject } from 'rxjs';
import { ArpOp, Ipv4, Mac, type ArpRepr } from '@ersatz/wire';
import { claim$, OptionError, Rfc5227, type ClaimEvent, type ClaimOptions } from '@ersatz/resolve';
import { FakeLink, type FakeHost } from '@ersatz/resolve/testing';

const US = { ip: Ipv4.UNSPECIFIED, mac: Mac.parse('02:00:00:00:00:0a'), addresses: [] as Ipv4[] }; // no address yet
const ADDR = Ipv4.parse('192.0.2.9');
const OTHER = Mac.parse('02:00:00:00:00:0c');

interface Run {
  link: FakeLink;
  events: [number, ClaimEvent][];
  completedAt: number | null;
  randomCalls: number;
}

/** Runs claim$(ADDR) to completion on a TestScheduler; `random` hands out `draws` in turn (then 0.5). */
function run(options: Omit<ClaimOptions, 'scheduler' | 'random'>, draws: number[], hosts: FakeHost[] = [], setup?: (link: FakeLink, ts: TestScheduler) => void): Run {
  const ts = new TestScheduler(() => undefined);
  const link = new FakeLink({ scheduler: ts, ...US, hosts });
  const events: [number, ClaimEvent][] = [];
  let completedAt: number | null = null;
  let randomCalls = 0;
  const random = () => draws[randomCalls++] ?? 0.5;
  ts.run(() => {
    setup?.(link, ts);
    claim$(link, ADDR, { scheduler: ts, random, ...options }).subscribe({ next: (e) => events.push([ts.now(), e]), complete: () => (completedAt = ts.now()) });
  });
  return { link, events, completedAt, randomCalls };
}

const label = (e: ClaimEvent): string => (e.type === 'probing' || e.type === 'announcing' ? `${e.type}${e.n}` : e.type === 'conflict' ? `conflict:${e.kind}:${e.phase}` : e.type);
const timeline = (r: Run) => r.events.map(([ms, e]) => `${label(e)}@${ms}`);
const sentAt = (r: Run) => r.link.sent.map((s) => s.atMs);

/** What another station puts on the wire. */
function other(link: FakeLink, arp: Partial<ArpRepr>, atMs: number, extra: { ethDst?: Mac; vlan?: number | null } = {}): void {
  const full: ArpRepr = { operation: ArpOp.Request, senderMac: OTHER, senderIp: Ipv4.UNSPECIFIED, targetMac: Mac.ZERO, targetIp: ADDR, ...arp };
  link.inject({ ethSrc: full.senderMac, ethDst: extra.ethDst ?? Mac.BROADCAST, arp: full, ...(extra.vlan !== undefined && { vlan: extra.vlan }) }, atMs);
}

test('schedule: PROBE_WAIT, 3 probes PROBE_MIN..PROBE_MAX apart, ANNOUNCE_WAIT, 2 announcements ANNOUNCE_INTERVAL apart', (t) => {
  const ts = new TestScheduler((a, b) => t.deepEqual(a, b));
  ts.run(({ expectObservable }) => {
    const link = new FakeLink({ scheduler: ts, ...US });
    const draws = [0.25, 0.5, 0.75];
    const claim = claim$(link, ADDR, { scheduler: ts, random: () => draws.shift()! }).pipe(map(label));
    // 250 = 0.25 × PROBE_WAIT; +1500 and +1750 = PROBE_MIN + r × (PROBE_MAX − PROBE_MIN); +2000 ANNOUNCE_WAIT; +2000.
    expectObservable(claim).toBe('250ms a 1499ms b 1749ms c 1999ms d 1999ms (ef|)', {
      a: 'probing1',
      b: 'probing2',
      c: 'probing3',
      d: 'announcing1',
      e: 'announcing2',
      f: 'announced',
    });
  });
});

test('frames: probes from 0.0.0.0 with a zero target MAC, announcements with spa = tpa, all broadcast requests from our MAC', (t) => {
  const r = run({}, [0, 0, 0.999]);
  t.deepEqual(sentAt(r), [0, 1000, 2999, 4999, 6999]);
  t.is(r.randomCalls, 3);
  t.is(r.completedAt, 6999);
  const probe = { operation: ArpOp.Request, senderMac: US.mac, senderIp: Ipv4.UNSPECIFIED, targetMac: Mac.ZERO, targetIp: ADDR };
  const announcement = { ...probe, senderIp: ADDR };
  t.deepEqual(
    r.link.sent.map((s) => s.frame),
    [probe, probe, probe, announcement, announcement].map((arp) => ({ ethDst: Mac.BROADCAST, ethSrc: US.mac, vlan: null, arp })),
  );
  // Byte for byte: Ethernet broadcast from us, ARP request, tha 00:00:00:00:00:00.
  t.deepEqual(r.link.sent[0]!.bytes.slice(0, 42), FakeLink.bytesOf({ dst: Mac.BROADCAST, src: US.mac, arp: probe }).slice(0, 42));
  // Our own frames come back through the capture: none of them is a conflict.
  t.is(r.events.filter(([, e]) => e.type === 'conflict').length, 0);
});

test('random draws outside [0, 1) cannot leave the RFC windows', (t) => {
  const r = run({}, [-5, 7, 1]);
  t.deepEqual(sentAt(r), [0, Rfc5227.PROBE_MAX, 2 * Rfc5227.PROBE_MAX, 2 * Rfc5227.PROBE_MAX + 2000, 2 * Rfc5227.PROBE_MAX + 4000]);
});

test('conflict while probing: the holder replies to the first probe; nothing more is sent', (t) => {
  const holder = { ip: ADDR, mac: OTHER, delayMs: 3 };
  const r = run({}, [0.5], [holder]);
  t.deepEqual(timeline(r), ['probing1@500', 'conflict:sender:probing@503']);
  t.is(r.completedAt, 503);
  t.deepEqual(sentAt(r), [500]);
  const conflict = r.events[1]![1];
  t.like(conflict, { type: 'conflict', mac: OTHER });
  t.is(r.link.subscribers, 0);
});

test('conflict while probing: a simultaneous probe for the address from another MAC (§2.1.1)', (t) => {
  const r = run({}, [0.5, 0.5, 0.5], [], (link) => other(link, {}, 1200));
  t.deepEqual(timeline(r), ['probing1@500', 'conflict:probe:probing@1200']);
  t.deepEqual(sentAt(r), [500]);
});

test('not conflicts: who-has ADDR from an addressed host, probes for other addresses, another VLAN, our own MAC', (t) => {
  const r = run({}, [0.5, 0.5, 0.5], [], (link) => {
    other(link, { senderIp: Ipv4.parse('192.0.2.7') }, 100); // an ordinary who-has for the address
    other(link, { targetIp: Ipv4.parse('192.0.2.10') }, 200); // someone else's probe
    other(link, {}, 300, { vlan: 7 }); // a probe on another VLAN
    other(link, { senderMac: US.mac }, 400); // our own probe (a capture echo)
    other(link, { senderIp: ADDR, operation: 3 as ArpOp }, 600); // RARP-style opcode: not ARP request/reply
  });
  t.deepEqual(timeline(r), ['probing1@500', 'probing2@2000', 'probing3@3500', 'announcing1@5500', 'announcing2@7500', 'announced@7500']);
});

test('conflict in the ANNOUNCE_WAIT after the last probe still stops the claim before any announcement', (t) => {
  const r = run({}, [0.5, 0.5, 0.5], [], (link) => other(link, { operation: ArpOp.Reply, senderIp: ADDR, targetIp: ADDR }, 5499));
  t.deepEqual(timeline(r), ['probing1@500', 'probing2@2000', 'probing3@3500', 'conflict:sender:probing@5499']);
  t.is(r.link.sent.length, 3);
});

test('while announcing: a sender conflict ends the claim (no defend); another host\'s probe is no conflict any more', (t) => {
  const r = run({}, [0.5, 0.5, 0.5], [], (link) => {
    other(link, {}, 6000); // a probe for ADDR after we claimed it: §2.4 counts only sender IP = ADDR
    other(link, { senderIp: ADDR }, 7000);
  });
  t.deepEqual(timeline(r).slice(3), ['announcing1@5500', 'conflict:sender:announcing@7000']);
  t.is(r.link.sent.length, 4);
});

test('defend: one announcement per conflict, DEFEND_INTERVAL apart at least; a second conflict sooner ends it', (t) => {
  const conflicts = [10_000, 20_000, 29_999];
  const r = run({ defend: true }, [0.5, 0.5, 0.5], [], (link) => conflicts.forEach((ms) => other(link, { senderIp: ADDR, targetIp: ADDR }, ms)));
  t.deepEqual(timeline(r).slice(5), ['announced@7500', 'defended@10000', 'defended@20000', 'conflict:sender:defending@29999']);
  t.deepEqual(sentAt(r), [500, 2000, 3500, 5500, 7500, 10_000, 20_000]);
  const defence = r.link.sent[5]!.frame.arp;
  t.deepEqual(defence, { operation: ArpOp.Request, senderMac: US.mac, senderIp: ADDR, targetMac: Mac.ZERO, targetIp: ADDR });
  t.is(r.completedAt, 29_999);
  t.is(r.link.subscribers, 0);
});

test('defend: while announcing, a conflict is defended too, and counts for the interval', (t) => {
  const r = run({ defend: true }, [0.5, 0.5, 0.5], [], (link) => [6000, 15_999].forEach((ms) => other(link, { senderIp: ADDR }, ms)));
  t.deepEqual(timeline(r).slice(3), ['announcing1@5500', 'defended@6000', 'announcing2@7500', 'announced@7500', 'conflict:sender:defending@15999']);
});

test('stop$ ends the claim without a verdict, sends nothing more and lets go of the capture', (t) => {
  const ts = new TestScheduler(() => undefined);
  const link = new FakeLink({ scheduler: ts, ...US });
  const stop = new Subject<void>();
  const events: string[] = [];
  let completedAt = -1;
  ts.run(() => {
    claim$(link, ADDR, { scheduler: ts, random: () => 0.5, stop$: stop }).subscribe({ next: (e) => events.push(`${label(e)}@${ts.now()}`), complete: () => (completedAt = ts.now()) });
    ts.schedule(() => stop.next(), 2500);
  });
  t.deepEqual(events, ['probing1@500', 'probing2@2000']);
  t.is(completedAt, 2500);
  t.is(link.sent.length, 2);
  t.is(link.subscribers, 0);
});

test('addresses no host can hold are refused before anything is sent', (t) => {
  const link = new FakeLink({ scheduler: new TestScheduler(() => undefined), ...US });
  for (const text of ['0.0.0.0', '255.255.255.255', '224.0.0.251', '127.0.0.1']) {
    const err = t.throws(() => claim$(link, Ipv4.parse(text)), { instanceOf: OptionError });
    t.regex(err!.message, new RegExp(`^claim: invalid address ${text.replace(/\./g, '\\.')}: expected a unicast address`));
  }
  t.is(link.sent.length, 0);
});
