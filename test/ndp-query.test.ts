// Issue #17: solicit$ on virtual time, with a stub link (sends logged, ND messages fed by the test): retries and the
// timeout, sharing between concurrent resolves of one address, what is not an answer, conflicts in the settle window,
// and cancelling. Nothing here touches a network.
import test, { type ExecutionContext } from 'ava';
import { TestScheduler } from 'rxjs/testing';
import { Subject } from 'rxjs';
import { Ipv6, Mac, parseNdpFrame } from '@ersatz/wire';
import { NeighborTimeoutError, solicit$, type NdpLink, type NdpObservation, type NeighborAnswer } from '@ersatz/resolve';

const US = { ip: Ipv6.parse('2001:db8::1'), mac: Mac.parse('02:00:00:00:00:0a') };
const PEER = { ip: Ipv6.parse('2001:db8::2'), mac: Mac.parse('02:00:00:00:00:0b') };
const OTHER = Mac.parse('02:00:00:00:00:0c');

function stub(ts: TestScheduler): NdpLink & { sent: { at: number; frame: Uint8Array }[]; ndp: Subject<NdpObservation> } {
  const sent: { at: number; frame: Uint8Array }[] = [];
  const ndp = new Subject<NdpObservation>();
  return { ifname: 'stub0', mac: US.mac, ndp$: ndp, ndp, sent, send: (frame) => sent.push({ at: ts.now(), frame: frame.slice() }) - 1, departedNs: () => null };
}

const na = (mac: Mac | null, target = PEER.ip): NdpObservation => ({
  tsNs: 0n,
  ethSrc: mac ?? PEER.mac,
  ethDst: US.mac,
  vlan: null,
  type: 'na',
  src: target,
  dst: US.ip,
  target,
  router: false,
  solicited: true,
  override: true,
  linkAddress: mac,
});

const scheduler = (t: ExecutionContext) => new TestScheduler((a, b) => t.deepEqual(a, b));

test('a solicitation to the solicited-node address, from our address with our MAC; retried, then NeighborTimeoutError', (t) => {
  const ts = scheduler(t);
  let error: unknown;
  const link = stub(ts);
  ts.run(() => {
    solicit$(link, PEER.ip, { source: US.ip, tries: 3, intervalMs: 100, scheduler: ts }).subscribe({ error: (e: unknown) => (error = e) });
  });
  t.deepEqual(link.sent.map((s) => s.at), [0, 100, 200]);
  const f = parseNdpFrame(link.sent[0]!.frame, 14, null)!;
  t.like(f, { ethDst: '33:33:ff:00:00:02', ethSrc: US.mac, ip: { src: US.ip, dst: 'ff02::1:ff00:2', hopLimit: 255 }, ndp: { type: 'ns', target: PEER.ip, options: { sourceLinkAddress: US.mac } } });
  t.true(error instanceof NeighborTimeoutError);
  t.like(error, { ip: PEER.ip, tries: 3, elapsedMs: 300 });
});

test('two concurrent resolves of one address share one solicitation and its answer; not-answers are ignored', (t) => {
  const ts = scheduler(t);
  const link = stub(ts);
  const got: NeighborAnswer[] = [];
  ts.run(({ cold }) => {
    const o = { source: US.ip, tries: 3, intervalMs: 100, scheduler: ts };
    solicit$(link, PEER.ip, o).subscribe((a) => got.push(a));
    solicit$(link, PEER.ip, o).subscribe((a) => got.push(a));
    cold('-- 10ms a b c').subscribe((k) => link.ndp.next(k === 'a' ? na(null) : k === 'b' ? na(OTHER, Ipv6.parse('2001:db8::3')) : na(PEER.mac)));
  });
  t.is(link.sent.length, 1, 'one solicitation for both');
  t.is(got.length, 2);
  t.like(got[0], { ip: PEER.ip, mac: PEER.mac, tries: 1, conflicts: [] });
  t.is(got[0], got[1], 'the same answer');
});

test('a second MAC within the settle window is a conflict; leaving before the answer stops the retries', (t) => {
  const ts = scheduler(t);
  const link = stub(ts);
  let answer: NeighborAnswer | undefined;
  ts.run(({ cold }) => {
    solicit$(link, PEER.ip, { source: US.ip, settleMs: 50, scheduler: ts }).subscribe((a) => (answer = a));
    cold('-- 10ms a 5ms b').subscribe((k) => link.ndp.next(na(k === 'a' ? PEER.mac : OTHER)));
  });
  t.like(answer, { mac: PEER.mac, conflicts: [OTHER] });

  const ts2 = scheduler(t); // a clock from 0 again
  const quiet = stub(ts2);
  ts2.run(({ cold }) => {
    const sub = solicit$(quiet, PEER.ip, { source: US.ip, tries: 5, intervalMs: 100, scheduler: ts2 }).subscribe();
    cold('150ms a').subscribe(() => sub.unsubscribe());
  });
  t.deepEqual(quiet.sent.map((s) => s.at), [0, 100], 'nothing more after the last subscriber left');
});
