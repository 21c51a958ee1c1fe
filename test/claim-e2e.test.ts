// `ersatz claim` end to end against a Linux kernel peer: the host has no IPv4 address yet (what a claim is for);
// the peer's tcpdump is the witness of what crossed the veth. Build first (npm run build).
import test from 'ava';
import { twoHostLab, type Host, type Lab, type RunResult } from '@ersatz/lab';
import { MAIN } from './helpers/cmd-run.js';

const FREE = '198.51.100.9';

let lab: Lab;
let host: Host;
let peer: Host;
test.before(() => {
  ({ lab, host, peer } = twoHostLab('clm'));
  lab.sh(host.ns, ['ip', 'addr', 'flush', 'dev', host.ifname]);
});
test.after.always(() => lab?.destroy());

const claim = (args: string[]): Promise<RunResult> => lab.exec(host.ns, ['node', MAIN, 'claim', ...args]);

interface Seen { t: number; src: string; dst: string; what: string }
/** tcpdump -e lines: `12:00:00.000001 SRC > DST, ethertype ARP (0x0806), length 42: Request who-has ...`. */
function parse(lines: string[]): Seen[] {
  return lines.map((l) => {
    const m = /^(\d+):(\d+):(\d+\.\d+) (\S+) > (\S+), ethertype ARP \(0x0806\), length \d+: (.*?), length \d+$/.exec(l);
    if (m === null) throw new Error(`unexpected tcpdump line: ${l}`);
    return { t: Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]), src: m[4]!, dst: m[5]!, what: m[6]! };
  });
}

test.serial('a free address: 3 probes, 2 announcements with the RFC 5227 fields and spacing, exit 0', async (t) => {
  const dump = await lab.tcpdump(peer.ns, peer.ifname, ['arp']);
  const r = await claim([FREE, '-I', host.ifname, '--json']);
  const seen = parse(await dump.stop());
  t.is(r.code, 0, r.stderr);
  t.is(r.stderr, '');
  const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event?: string; n?: number; summary?: Record<string, unknown> });
  t.deepEqual(events.slice(0, -1).map((e) => `${e.event}${e.n ?? ''}`), ['probing1', 'probing2', 'probing3', 'announcing1', 'announcing2', 'announced']);
  t.like(events.at(-1)!.summary, { ip: FREE, interface: host.ifname, mac: host.mac, result: 'announced', conflictMac: null, probes: 3, announcements: 2 });

  // Every frame is ours, broadcast; tcpdump prints a target MAC in parentheses only when it is not zero.
  t.deepEqual(
    seen.map((s) => [s.src, s.dst, s.what]),
    [
      ...Array.from({ length: 3 }, () => [host.mac, 'ff:ff:ff:ff:ff:ff', `Request who-has ${FREE} tell 0.0.0.0`]),
      ...Array.from({ length: 2 }, () => [host.mac, 'ff:ff:ff:ff:ff:ff', `Request who-has ${FREE} tell ${FREE}`]),
    ],
  );
  // Spacing on the peer's clock: never shorter than RFC 5227 allows. A loaded machine may send late, so only the lower
  // bounds are checked here; claim-timing checks the whole windows (PROBE_MAX too) on a virtual clock.
  const gaps = seen.slice(1).map((s, i) => s.t - seen[i]!.t);
  for (const g of gaps.slice(0, 2)) t.true(g >= 0.99, `probe gap ${g}`); // PROBE_MIN
  t.true(gaps[2]! >= 1.99, `announce wait ${gaps[2]}`); // ANNOUNCE_WAIT
  t.true(gaps[3]! >= 1.99, `announce interval ${gaps[3]}`); // ANNOUNCE_INTERVAL
  // The peer's kernel answered nothing (no one holds the address).
  t.false(seen.some((s) => s.src === peer.mac));
});

test.serial('an address the peer holds: its reply to the first probe is a conflict naming its MAC, nothing announced, exit 1', async (t) => {
  const dump = await lab.tcpdump(peer.ns, peer.ifname, ['arp']);
  const r = await claim([peer.ip, '-I', host.ifname]);
  const seen = parse(await dump.stop());
  t.is(r.code, 1, r.stderr);
  t.regex(r.stdout, new RegExp(`^Claiming ${peer.ip.replace(/\./g, '\\.')} on ${host.ifname} \\(${host.mac}\\): RFC 5227, 3 probes then 2 announcements\\nprobe 1: who-has ${peer.ip.replace(/\./g, '\\.')} tell 0\\.0\\.0\\.0\\nconflict: ${peer.ip.replace(/\./g, '\\.')} is in use by ${peer.mac} \\(it sent ARP as that address\\)\\n$`));
  // One probe; the peer's kernel answers it (a reply from its address to 0.0.0.0); we never announce.
  t.deepEqual(seen.map((s) => [s.src, s.what]), [
    [host.mac, `Request who-has ${peer.ip} tell 0.0.0.0`],
    [peer.mac, `Reply ${peer.ip} is-at ${peer.mac}`],
  ]);
  t.false(seen.some((s) => s.src === host.mac && s.what.endsWith(`tell ${peer.ip}`)));
});

test.serial('usage: ADDR and -I are required, and an address no host can hold is refused; exit 2, nothing sent', async (t) => {
  const dump = await lab.tcpdump(peer.ns, peer.ifname, ['arp']);
  const cases: [string[], RegExp][] = [
    [[FREE], /^ersatz: claim: --interface IF is required/],
    [['-I', host.ifname], /^ersatz: claim: missing ADDR/],
    [['224.0.0.1', '-I', host.ifname], /^ersatz: claim: 224\.0\.0\.1 is not an address a host can hold/],
    [[FREE, '-I', 'nope0'], /^ersatz: .*nope0/],
    [[FREE, '-I', 'lo'], /^ersatz: .*lo/],
  ];
  for (const [args, pattern] of cases) {
    const r = await claim(args);
    t.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, pattern);
  }
  t.deepEqual(await dump.stop(), []);
});
