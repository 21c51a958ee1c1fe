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

  const sweep = await lab.exec(host.ns, [bin, 'sweep', host.ifname, '10.78.0.0/22'], { timeoutMs: 30_000 });
  t.is(sweep.code, 0, sweep.stderr);
  // Usable hosts .0.1–.3.254 asked; the responder owns .0.0–.1.255, of which .0.1–.1.255 were asked (511).
  t.like(JSON.parse(sweep.stdout), { sent: 1022, answered: 511 });

  const answered = await lab.exec(host.ns, [bin, 'latency', host.ifname, '10.78.1.7', '20', '2'], { timeoutMs: 30_000 });
  t.is(answered.code, 0, answered.stderr);
  const a = JSON.parse(answered.stdout) as { latenciesNs: number[]; lost: number };
  t.is(a.lost, 0);
  t.is(a.latenciesNs.length, 20);
  t.true(a.latenciesNs.every((ns) => ns > 0 && ns < 1e9));

  const silent = await lab.exec(host.ns, [bin, 'latency', host.ifname, '10.78.3.9', '2', '0'], { timeoutMs: 30_000 });
  t.is(silent.code, 0, silent.stderr);
  t.deepEqual(JSON.parse(silent.stdout), { latenciesNs: [], lost: 2 });

  const usage = await lab.exec(host.ns, [bin, 'sweep', host.ifname, 'ten/8'], { timeoutMs: 10_000 });
  t.is(usage.code, 2);
  t.regex(usage.stderr, /^arp-peer: CIDR must be/);
});
