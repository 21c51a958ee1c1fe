// Issue #8, spoofed and conflicting replies, on real wires. An attacker in the peer's namespace sends crafted ARP
// frames (its own AF_PACKET socket, test/helpers/hardening-attacker.ts) while ersatz, in the host's namespace, has
// queries pending: a reply for an IP nobody asked for, replies not addressed to us, gratuitous ARP, a reply whose
// Ethernet source is not its ARP sender. None resolves a query unless the caller opts in; a well-formed reply sent
// the same way does (so the frames demonstrably reach the resolver). Then two kernels answering for one address:
// the conflict is reported with both MACs, by query$ and resolve$, and by the CLI (--json and a warning line).
import test from 'ava';
import { responderLab, twoHostLab, type Host } from '@ersatz/lab';
import { ArpOp, Ipv4, Mac, emitArpFrame, type ArpRepr } from '@ersatz/wire';
import { ersatz, jsonLines, show } from './helpers/cmd-run.js';
import { probe, startAttacker, UNTIL_STOPPED_MS, startGatedProbe } from './helpers/hardening-run.js';

// Addresses nobody in the lab has (198.51.100.0/24 is the lab's subnet): each case spoofs its own, so all run at once.
const FAKE = Mac.parse('02:00:5e:00:53:01'); // the MAC the attacker claims the addresses for
const FAKE2 = Mac.parse('02:00:5e:00:53:02');
const THIRD = { ip: Ipv4.parse('198.51.100.50'), mac: Mac.parse('02:00:5e:00:53:50') }; // a bystander host
const at = (n: number) => Ipv4.parse(`198.51.100.${n}`);

function frame(ethSrc: Mac, ethDst: Mac, arp: ArpRepr): string {
  const buf = new Uint8Array(60);
  return Buffer.from(buf.subarray(0, emitArpFrame(buf, { src: ethSrc, dst: ethDst, arp }))).toString('hex');
}

/** "ip is-at FAKE", as a reply to `to`. */
function reply(ip: Ipv4, to: { ip: Ipv4; mac: Mac }, ethSrc = FAKE, ethDst = to.mac): string {
  return frame(ethSrc, ethDst, { operation: ArpOp.Reply, senderMac: FAKE, senderIp: ip, targetMac: to.mac, targetIp: to.ip });
}

interface Case {
  readonly name: string;
  readonly ip: Ipv4;
  /** The frames the attacker keeps sending for it, with tcpdump's reading above each. */
  readonly frames: (us: { ip: Ipv4; mac: Mac }) => string[];
  /** The option that admits it, if any. */
  readonly optIn?: 'acceptGratuitous' | 'acceptNotToUs' | 'acceptSourceMismatch';
}

const CASES: readonly Case[] = [
  {
    name: 'a reply for an IP nobody asked for',
    ip: at(71),
    // 02:00:5e:00:53:01 > HOST, ARP, Reply 198.51.100.171 is-at 02:00:5e:00:53:01, length 28 (we ask for .71)
    frames: (us) => [reply(at(171), us)],
  },
  {
    name: 'a reply to another host (Ethernet and ARP)',
    ip: at(72),
    optIn: 'acceptNotToUs',
    // 02:00:5e:00:53:01 > 02:00:5e:00:53:50, ARP, Reply 198.51.100.72 is-at 02:00:5e:00:53:01, length 28 (to .50)
    frames: () => [reply(at(72), THIRD)],
  },
  {
    name: 'a reply whose ARP body names another host, sent to our MAC',
    ip: at(73),
    optIn: 'acceptNotToUs',
    // 02:00:5e:00:53:01 > HOST, ARP, Reply 198.51.100.73 is-at 02:00:5e:00:53:01, length 28 (ar$tpa .50)
    frames: (us) => [reply(at(73), THIRD, FAKE, us.mac)],
  },
  {
    name: 'a reply naming us in its body, sent to another MAC',
    ip: at(74),
    optIn: 'acceptNotToUs',
    // 02:00:5e:00:53:01 > 02:00:5e:00:53:50, ARP, Reply 198.51.100.74 is-at 02:00:5e:00:53:01, length 28
    frames: (us) => [reply(at(74), us, FAKE, THIRD.mac)],
  },
  {
    name: 'gratuitous ARP (request and reply forms)',
    ip: at(75),
    optIn: 'acceptGratuitous',
    frames: () => [
      // 02:00:5e:00:53:01 > ff:ff:ff:ff:ff:ff, ARP, Request who-has 198.51.100.75 tell 198.51.100.75, length 28
      frame(FAKE, Mac.BROADCAST, { operation: ArpOp.Request, senderMac: FAKE, senderIp: at(75), targetMac: Mac.ZERO, targetIp: at(75) }),
      // 02:00:5e:00:53:01 > ff:ff:ff:ff:ff:ff, ARP, Reply 198.51.100.75 is-at 02:00:5e:00:53:01, length 28
      frame(FAKE, Mac.BROADCAST, { operation: ArpOp.Reply, senderMac: FAKE, senderIp: at(75), targetMac: Mac.BROADCAST, targetIp: at(75) }),
    ],
  },
  {
    name: 'a reply whose Ethernet source is not its ARP sender',
    ip: at(76),
    optIn: 'acceptSourceMismatch',
    // 02:00:5e:00:53:02 > HOST, ARP, Reply 198.51.100.76 is-at 02:00:5e:00:53:01, length 28
    frames: (us) => [reply(at(76), us, FAKE2)],
  },
];
// The control: a well-formed reply to us, sent exactly like the spoofs. ARP has no transaction id, so a reply that
// arrives after our request and names us is an answer, whoever sent it.
const CONTROL = at(77);

interface QueryRow {
  ip: string;
  result: { mac: string; conflicts?: string[] } | null;
  error: { name: string; message: string; macs?: string[] } | null;
}

function peerLab(t: { teardown(fn: () => void): void }, name: string): { lab: ReturnType<typeof twoHostLab>['lab']; host: Host; peer: Host; us: { ip: Ipv4; mac: Mac } } {
  const l = twoHostLab(name);
  t.teardown(() => l.lab.destroy());
  return { ...l, us: { ip: Ipv4.parse(l.host.ip), mac: Mac.parse(l.host.mac) } };
}

test('spoofed, unsolicited, gratuitous and not-to-us replies resolve nothing unless opted in; a real reply does', async (t) => {
  const { lab, host, peer, us } = peerLab(t, 'hspf');
  const frames = [...CASES.flatMap((c) => c.frames(us)), reply(CONTROL, us)];
  const attacker = await startAttacker(lab, peer.ns, 'repeat', { ifname: peer.ifname, frames, everyMs: 10, ms: UNTIL_STOPPED_MS });
  // Three requests 300 ms apart per query: the spoofs arrive before, between and after them.
  const query = { tries: 3, intervalMs: 300 };
  const plain = await probe<{ results: QueryRow[] }>(lab, host.ns, 'queries', { queries: [...CASES, { ip: CONTROL }].map((c) => ({ ip: Ipv4.format(c.ip), query })) });
  const optedIn = await probe<{ results: QueryRow[] }>(lab, host.ns, 'queries', {
    queries: CASES.filter((c) => c.optIn).map((c) => ({ ip: Ipv4.format(c.ip), query: { ...query, [c.optIn!]: true } })),
  });
  // The CLI, each case in its own process, all at once.
  const cli = await Promise.all(CASES.map((c) => ersatz(lab, host.ns, ['resolve', Ipv4.format(c.ip), '--tries', '2', '--timeout', '300', '--json'])));
  const cliControl = await ersatz(lab, host.ns, ['resolve', Ipv4.format(CONTROL), '--json']);
  t.true(attacker.running, 'the attacker was sending throughout');
  await attacker.stop();

  const rows = plain.result.results;
  CASES.forEach((c, i) => {
    t.like(rows[i], { ip: Ipv4.format(c.ip), result: null, error: { name: 'ResolveTimeoutError' } }, c.name);
    t.is(cli[i]!.code, 1, `${c.name}: ${show(cli[i]!)}`);
    t.is(cli[i]!.stdout, '', c.name);
    t.regex(cli[i]!.stderr, /^ersatz: no ARP reply from [^\n]+\n$/, c.name);
  });
  t.like(rows[CASES.length], { result: { mac: FAKE, conflicts: [] }, error: null }, 'the control reply resolves');
  t.is(cliControl.code, 0, show(cliControl));
  t.like(JSON.parse(cliControl.stdout), { ip: Ipv4.format(CONTROL), mac: FAKE });
  const opted = CASES.filter((c) => c.optIn);
  opted.forEach((c, i) => t.like(optedIn.result.results[i], { ip: Ipv4.format(c.ip), result: { mac: FAKE }, error: null }, `${c.name} with ${c.optIn}`));
});

test('an unsolicited reply seen before anyone asked is not believed when the question comes', async (t) => {
  const { lab, host, peer, us } = peerLab(t, 'hspu');
  const ip = at(81);
  // The link is open and capturing before the attacker speaks; the query starts only after it has gone quiet.
  const run = await startGatedProbe<{ result: unknown; error: { name: string } | null; stats: { decode: { arp: number } } }>(lab, host.ns, 'resolve', {
    ip: Ipv4.format(ip),
    query: { tries: 2, intervalMs: 300 },
  });
  const attacker = await startAttacker(lab, peer.ns, 'repeat', { ifname: peer.ifname, frames: [reply(ip, us)], everyMs: 10, ms: 500 });
  const sent = await attacker.done;
  const { result } = await run.go();
  t.true(sent.sent >= 10, `${sent.sent} unsolicited replies sent`);
  t.true(result.stats.decode.arp >= sent.sent, 'the capture saw them all');
  t.is(result.result, null);
  t.like(result.error, { name: 'ResolveTimeoutError' });
});

test('two hosts answering for one address: query$ and resolve$ report both MACs', async (t) => {
  const { lab, host, responders } = responderLab('hcfa', { cidr: '10.77.0.0/24', answers: ['10.77.0.0/24', '10.77.0.0/24'] });
  t.teardown(() => lab.destroy());
  const both = responders.map((r) => r.mac).sort();
  const ip = '10.77.0.9';
  const r = await probe<{ results: QueryRow[] }>(lab, host.ns, 'queries', {
    queries: [
      { ip, query: { settleMs: 50 } },
      { ip: '10.77.0.10', query: { settleMs: 50 }, api: 'resolve$' },
      { ip: '10.77.0.11', query: { settleMs: 0 } },
    ],
  });
  const [contested, resolved, unsettled] = r.result.results as [QueryRow, QueryRow, QueryRow];
  t.deepEqual([contested.result!.mac, ...contested.result!.conflicts!].sort(), both);
  t.is(resolved.result, null);
  t.like(resolved.error, { name: 'AddressConflictError' });
  t.deepEqual([...resolved.error!.macs!].sort(), both);
  t.regex(resolved.error!.message, new RegExp(`10\\.77\\.0\\.10 answered from (${both.join('|')}) and (${both.join('|')})`));
  // Without a settle window the first answer wins and nothing else is looked at: the documented trade-off.
  t.deepEqual(unsettled.result!.conflicts, []);
  t.true(both.includes(unsettled.result!.mac));
});

test('the CLI reports a conflict: --json lists both MACs, a warning line names them, exit 1, nothing injected', async (t) => {
  const { lab, host, responders } = responderLab('hcfc', { cidr: '10.77.0.0/24', answers: ['10.77.0.0/24', '10.77.0.0/24'] });
  t.teardown(() => lab.destroy());
  const both = responders.map((r) => r.mac).sort();
  const [json, human, settle0] = await Promise.all([
    ersatz(lab, host.ns, ['resolve', '10.77.0.9', '--json', '--inject']),
    ersatz(lab, host.ns, ['resolve', '10.77.0.10']),
    ersatz(lab, host.ns, ['resolve', '10.77.0.11', '--settle', '0', '--json']),
  ]);
  t.is(json.code, 1, show(json));
  const [out] = jsonLines(json.stdout) as [{ ip: string; mac: string; conflicts: string[] }];
  t.is(out.ip, '10.77.0.9');
  t.deepEqual([out.mac, ...out.conflicts].sort(), both);
  t.regex(json.stderr, new RegExp(`^ersatz: warning: address conflict: 10\\.77\\.0\\.9 answered from ${out.mac} and ${out.conflicts[0]} [^\\n]*not injected\\n$`));
  t.is(lab.sh(host.ns, ['ip', 'neigh', 'show', '10.77.0.9', 'nud', 'permanent']).trim(), '', 'a contested answer is not stored');

  t.is(human.code, 1, show(human));
  t.regex(human.stdout, /^10\.77\.0\.10 is at [0-9a-f:]{17} on ez0 \(\d+\.\d{3} ms\)\n$/);
  t.regex(human.stderr, /^ersatz: warning: address conflict: 10\.77\.0\.10 answered from [0-9a-f:]{17} and [0-9a-f:]{17} within 10 ms[^\n]*\n$/);
  for (const mac of both) t.true(human.stderr.includes(mac));

  t.is(settle0.code, 0, show(settle0));
  t.false('conflicts' in (JSON.parse(settle0.stdout) as object));
});
