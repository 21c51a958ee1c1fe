// What may answer a query: properties over generated frames that spoofed, unsolicited, gratuitous, not-to-us and
// foreign-VLAN replies never resolve one unless the caller opts in, and that the opt-ins admit only their own case.
import test from 'ava';
import fc from 'fast-check';
import { TestScheduler } from 'rxjs/testing';
import { ArpOp, Ipv4, Mac } from '@ersatz/wire';
import { createResolver, describeRejection, isAnswer, judgeAnswer, ResolveTimeoutError, type ArpObservation, type QueryOptions } from '@ersatz/resolve';
import { FakeLink } from '@ersatz/resolve/testing';

const US = { ip: Ipv4.parse('192.0.2.1'), mac: Mac.parse('02:00:00:00:00:0a') };
const PEER = { ip: Ipv4.parse('192.0.2.2'), mac: Mac.parse('02:00:00:00:00:0b') };
const LINK = { ifname: 'x', ...US, arp$: undefined as never, send: () => -1, departures: () => 0, departedNs: () => null, now: () => 0n, heardUntilNs: () => 0n };

// tcpdump -n -e: 02:00:00:00:00:0b > 02:00:00:00:00:0a, ARP, Reply 192.0.2.2 is-at 02:00:00:00:00:0b, length 28
const GOOD: ArpObservation = {
  tsNs: 0n,
  ethSrc: PEER.mac,
  ethDst: US.mac,
  vlan: null,
  arp: { operation: ArpOp.Reply, senderMac: PEER.mac, senderIp: PEER.ip, targetMac: US.mac, targetIp: US.ip },
};

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Obs = Omit<Mutable<ArpObservation>, 'arp'> & { arp: Mutable<ArpObservation['arp']> };
const clone = (o: ArpObservation): Obs => ({ ...o, arp: { ...o.arp } });

// Addresses that are never ours or the peer's: 198.51.100.0/24 and 02:00:00:00:01:xx.
const otherIp = fc.integer({ min: 1, max: 254 }).map((n) => Ipv4.parse(`198.51.100.${n}`));
const otherMac = fc.integer({ min: 0, max: 255 }).map((n) => Mac.parse(`02:00:00:00:01:${n.toString(16).padStart(2, '0')}`));
const groupMac = fc.constantFrom(Mac.BROADCAST, Mac.ZERO, Mac.parse('01:00:5e:00:00:01'), Mac.parse('33:33:00:00:00:01'));

/** One way a frame fails to be an answer, and the opt-in (if any) that admits it. */
const DEFECTS = {
  otherOp: { optIn: null, apply: fc.constantFrom(ArpOp.RarpReply, ArpOp.InArpReply).map((op) => (o: Obs) => void (o.arp.operation = op)) },
  wrongSender: { optIn: null, apply: otherIp.map((ip) => (o: Obs) => void (o.arp.senderIp = ip)) },
  ownFrame: { optIn: null, apply: fc.constant((o: Obs) => void (o.ethSrc = US.mac)) },
  // VID 0 is not a VLAN (802.1Q priority tag): see the test of its own below.
  foreignVlan: { optIn: null, apply: fc.integer({ min: 1, max: 4095 }).map((v) => (o: Obs) => void (o.vlan = v)) },
  groupSenderMac: { optIn: null, apply: groupMac.map((m) => (o: Obs) => void ((o.arp.senderMac = m), (o.ethSrc = m))) },
  tpaNotUs: { optIn: 'acceptNotToUs', apply: otherIp.map((ip) => (o: Obs) => void (o.arp.targetIp = ip)) },
  thaNotUs: { optIn: 'acceptNotToUs', apply: fc.oneof(otherMac, fc.constant(Mac.ZERO)).map((m) => (o: Obs) => void (o.arp.targetMac = m)) },
  ethDstNotUs: { optIn: 'acceptNotToUs', apply: otherMac.map((m) => (o: Obs) => void (o.ethDst = m)) },
  sourceMismatch: { optIn: 'acceptSourceMismatch', apply: otherMac.map((m) => (o: Obs) => void (o.ethSrc = m)) },
  gratuitous: {
    optIn: 'acceptGratuitous',
    apply: fc.constantFrom(ArpOp.Request, ArpOp.Reply).map((op) => (o: Obs) => {
      o.arp.operation = op;
      o.arp.targetIp = o.arp.senderIp;
      o.arp.targetMac = op === ArpOp.Request ? Mac.ZERO : o.arp.senderMac;
      o.ethDst = Mac.BROADCAST;
    }),
  },
} as const satisfies Record<string, { optIn: keyof QueryOptions | null; apply: fc.Arbitrary<(o: Obs) => void> }>;
type Defect = keyof typeof DEFECTS;
const NAMES = Object.keys(DEFECTS) as Defect[];

// Defects touching the same fields are alternatives (one per group), applied in a fixed order, so that no defect
// undoes another and `names` describes the frame exactly.
const GROUPS: readonly (readonly Defect[])[] = [
  ['gratuitous', 'tpaNotUs', 'thaNotUs', 'ethDstNotUs'],
  ['otherOp'],
  ['wrongSender'],
  ['ownFrame', 'sourceMismatch', 'groupSenderMac'],
  ['foreignVlan'],
];
const pick = (group: readonly Defect[]): fc.Arbitrary<Defect[]> =>
  group[0] === 'gratuitous'
    ? fc.oneof(fc.constant<Defect[]>([]), fc.constant<Defect[]>(['gratuitous']), fc.subarray(group.slice(1) as Defect[], { minLength: 1 }))
    : fc.oneof(fc.constant<Defect[]>([]), ...group.map((d) => fc.constant<Defect[]>([d])));
// Each frame may also be sent as a request. That is no defect in itself (RFC 826: a request naming us teaches the
// sender's mapping as a reply does), and a request's ar$tha is the unknown being asked for, so a wrong one is none.
const defective = fc
  .tuple(fc.tuple(...GROUPS.map(pick)).map((chosen) => chosen.flat()), fc.boolean())
  .map(([applied, asRequest]) => ({ applied, asRequest, names: asRequest ? applied.filter((n) => n !== 'thaNotUs') : applied }))
  .filter(({ names }) => names.length > 0)
  .chain(({ applied, asRequest, names }) => fc.tuple(fc.constant(names), fc.constant(asRequest), fc.tuple(...applied.map((n) => DEFECTS[n].apply as fc.Arbitrary<(o: Obs) => void>))))
  .map(([names, asRequest, fixes]) => {
    const o = clone(GOOD);
    for (const f of fixes) f(o);
    if (asRequest && o.arp.operation === ArpOp.Reply) o.arp.operation = ArpOp.Request;
    return { names, obs: o as ArpObservation };
  });

test('the unaltered reply answers, unicast to us or broadcast', (t) => {
  t.true(isAnswer(LINK, PEER.ip, {}, GOOD));
  t.true(isAnswer(LINK, PEER.ip, {}, { ...GOOD, ethDst: Mac.BROADCAST }));
  t.false(isAnswer(LINK, Ipv4.parse('192.0.2.3'), {}, GOOD), 'an answer for another IP');
});

test('a request from the IP naming us answers (RFC 826; a Linux reachability probe has ar$tha zero); naming another does not', (t) => {
  const request = { ...GOOD, arp: { ...GOOD.arp, operation: ArpOp.Request, targetMac: Mac.ZERO } };
  t.true(isAnswer(LINK, PEER.ip, {}, request), 'unicast to us');
  t.true(isAnswer(LINK, PEER.ip, {}, { ...request, ethDst: Mac.BROADCAST }), 'broadcast who-has us');
  t.false(isAnswer(LINK, PEER.ip, {}, { ...request, ethDst: Mac.BROADCAST, arp: { ...request.arp, targetIp: Ipv4.parse('192.0.2.3') } }), 'who-has someone else');
  t.is(judgeAnswer(LINK, PEER.ip, US.ip, {}, { ...request, ethSrc: Mac.parse('02:00:00:00:00:66') }), 'source-mismatch');
});

test('asking for our own sender address (a scan of our subnet), a reply naming it is an answer, not gratuitous', (t) => {
  const claim = { ...GOOD, arp: { ...GOOD.arp, senderIp: US.ip } };
  t.is(judgeAnswer(LINK, US.ip, US.ip, {}, claim), 'answer');
  t.is(judgeAnswer(LINK, US.ip, US.ip, {}, { ...claim, ethDst: Mac.BROADCAST, arp: { ...claim.arp, targetMac: Mac.ZERO, operation: ArpOp.Request } }), 'answer');
  t.is(judgeAnswer(LINK, PEER.ip, US.ip, {}, { ...GOOD, arp: { ...GOOD.arp, targetIp: PEER.ip } }), 'gratuitous');
});

test('a rejected frame says why in one line', (t) => {
  const natted = { ...GOOD, ethSrc: Mac.parse('02:00:00:00:00:66') };
  t.is(judgeAnswer(LINK, PEER.ip, US.ip, {}, natted), 'source-mismatch');
  t.regex(describeRejection('source-mismatch', natted), /^Ethernet source 02:00:00:00:00:66 differs from sender 02:00:00:00:00:0b \(a MAC-NAT bridge, or a spoofer/);
  t.is(judgeAnswer(LINK, Ipv4.parse('192.0.2.3'), US.ip, {}, GOOD), 'unrelated');
  t.is(judgeAnswer(LINK, PEER.ip, US.ip, {}, { ...GOOD, ethSrc: US.mac }), 'unrelated');
});

test('property: a frame with any defect never answers by default', (t) => {
  fc.assert(
    fc.property(defective, ({ obs }) => !isAnswer(LINK, PEER.ip, {}, obs)),
    { numRuns: 2000 },
  );
  t.pass();
});

test('property: each opt-in admits its own defect and nothing else', (t) => {
  const all: QueryOptions = { acceptGratuitous: true, acceptNotToUs: true, acceptSourceMismatch: true };
  fc.assert(
    fc.property(defective, ({ names, obs }) => {
      // With every opt-in on, a frame passes exactly when each of its defects has an opt-in.
      const expected = names.every((n) => DEFECTS[n].optIn !== null);
      return isAnswer(LINK, PEER.ip, all, obs) === expected;
    }),
    { numRuns: 2000 },
  );
  for (const name of NAMES) {
    const { optIn } = DEFECTS[name];
    if (optIn === null) continue;
    fc.assert(
      fc.property(DEFECTS[name].apply as fc.Arbitrary<(o: Obs) => void>, (fix) => {
        const o = clone(GOOD);
        fix(o);
        if (isAnswer(LINK, PEER.ip, {}, o)) return false;
        if (!isAnswer(LINK, PEER.ip, { [optIn]: true }, o)) return false;
        // The other opt-ins do not admit it.
        for (const other of ['acceptGratuitous', 'acceptNotToUs', 'acceptSourceMismatch'] as const) {
          if (other !== optIn && isAnswer(LINK, PEER.ip, { [other]: true }, o)) return false;
        }
        return true;
      }),
      { numRuns: 200 },
    );
  }
  t.pass();
});

test('property: resolve$ times out when only defective frames arrive, before and during the query', (t) => {
  fc.assert(
    fc.property(fc.array(defective, { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 2999 }), (frames, atMs) => {
      const ts = new TestScheduler(() => undefined);
      const link = new FakeLink({ scheduler: ts, ...US });
      let outcome: unknown = 'pending';
      ts.run(() => {
        // An unsolicited (valid) reply before any query must not be remembered either.
        link.inject({ ...GOOD, arp: GOOD.arp }, 0);
        ts.schedule(() => {
          createResolver(link, { scheduler: ts, cacheTtlMs: 60_000 })
            .resolve$(PEER.ip)
            .subscribe({ next: (m) => (outcome = m), error: (e: unknown) => (outcome = e) });
        }, 1);
        for (const { obs } of frames) link.inject(obs, 1 + atMs);
      });
      return outcome instanceof ResolveTimeoutError && link.sent.length === 3;
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('a priority-tagged reply (802.1Q VID 0) belongs to the untagged link and answers; a tagged link still refuses it', (t) => {
  const tagged = { ...GOOD, vlan: 0 };
  t.true(isAnswer(LINK, PEER.ip, {}, tagged));
  t.false(isAnswer({ ...LINK, vlan: 42 }, PEER.ip, {}, tagged));
  t.true(isAnswer({ ...LINK, vlan: 42 }, PEER.ip, {}, { ...GOOD, vlan: 42 }));
});
