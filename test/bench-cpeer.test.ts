// The bench's C AF_PACKET peer (packages/bench/baselines/arp-peer.c) against real kernel responders: it must count
// exactly the hosts that exist, and say when a request got no reply, or its figures would set a false floor.
// No timing here: its speed is what `npm run bench` reports.
import test from 'ava';
import { buildArpPeer } from '@ersatz/bench';
import { responderLab } from '@ersatz/lab';

test('the C peer sweeps a /22 where a kernel answers half of it, counts exactly that half, and times replies one by one', async (t) => {
  const bin = buildArpPeer();
  if (typeof bin !== 'string') return t.fail(`the C peer did not build: ${bin.missing}`);
  const { lab, host } = responderLab('bcp', { cidr: '10.78.0.0/22', answers: ['10.78.0.0/23'] });
  t.teardown(() => lab.destroy());

  const sweep = await lab.exec(host.ns, [bin, 'sweep', host.ifname, '10.78.0.0/22']);
  t.is(sweep.code, 0, sweep.stderr);
  // Usable hosts .0.1–.3.254 asked; the responder owns .0.0–.1.255, of which .0.1–.1.255 were asked (511).
  // It waits out the silent half (200 ms) and stops; one reply per answered request, none dropped by its socket.
  t.like(JSON.parse(sweep.stdout), { sent: 1022, replies: 511, answered: 511, drops: 0, end: 'silence' });

  const answered = await lab.exec(host.ns, [bin, 'latency', host.ifname, '10.78.1.7', '20', '2']);
  t.is(answered.code, 0, answered.stderr);
  const a = JSON.parse(answered.stdout) as { latenciesNs: number[]; medianNs: number; p99Ns: number; lost: number };
  t.is(a.lost, 0);
  t.is(a.latenciesNs.length, 20);
  t.true(a.latenciesNs.every((ns) => ns > 0 && ns < 1e9));
  const sorted = [...a.latenciesNs].sort((x, y) => x - y);
  t.is(a.medianNs, sorted[9]!);
  t.is(a.p99Ns, sorted[19]!);

  const silent = await lab.exec(host.ns, [bin, 'latency', host.ifname, '10.78.3.9', '2', '0']);
  t.is(silent.code, 0, silent.stderr);
  t.deepEqual(JSON.parse(silent.stdout), { latenciesNs: [], medianNs: null, p99Ns: null, lost: 2 });

  const usage = await lab.exec(host.ns, [bin, 'sweep', host.ifname, 'ten/8']);
  t.is(usage.code, 2);
  t.regex(usage.stderr, /^arp-peer: CIDR must be/);
  const noLink = await lab.exec(host.ns, [bin, 'latency', 'nosuch0', '10.78.1.7', '1', '0']);
  t.is(noLink.code, 1);
  t.regex(noLink.stderr, /^arp-peer: nosuch0: No such device/);
});

test('the C peer counts every host of a /24 that a kernel answers in full, and stops as soon as the last has answered', async (t) => {
  const bin = buildArpPeer();
  if (typeof bin !== 'string') return t.fail(`the C peer did not build: ${bin.missing}`);
  const { lab, host } = responderLab('bcq', { cidr: '10.79.0.0/24' });
  t.teardown(() => lab.destroy());

  for (let run = 0; run < 3; run++) {
    const sweep = await lab.exec(host.ns, [bin, 'sweep', host.ifname, '10.79.0.0/24']);
    t.is(sweep.code, 0, sweep.stderr);
    // Stopped by the last reply, not by waiting out a silence: its time is the sweep's.
    t.like(JSON.parse(sweep.stdout), { sent: 254, replies: 254, answered: 254, drops: 0, end: 'answered' });
  }
});
