// Replies no Linux kernel sends but real LANs carry, from a small raw-socket responder (helpers/odd-responder.py)
// in a lab namespace: what resolve, scan and arping make of them, beside arp-scan on the same wire.
import test from 'ava';
import { once } from 'node:events';
import { resolve as resolvePath } from 'node:path';
import { Lab } from '@ersatz/lab';
import { ersatz, jsonLines, show } from './helpers/cmd-run.js';

const RESPONDER = resolvePath('test/helpers/odd-responder.py');
const ODD = '198.51.100.9'; // answered only by the responder: its kernel does not have it

/** A host (198.51.100.1 on ez0) and a responder namespace answering ARP for ODD in `mode`. */
async function oddLab(t: import('ava').ExecutionContext, prefix: string, mode: string): Promise<{ lab: Lab; host: string; responderMac: string }> {
  const lab = new Lab(prefix);
  t.teardown(() => lab.destroy());
  const host = lab.namespace('h');
  const r = lab.namespace('r');
  lab.veth({ ns: host, ifname: 'ez0' }, { ns: r, ifname: 'ez1' });
  lab.sh(host, ['ip', 'addr', 'add', '198.51.100.1/24', 'dev', 'ez0']);
  const child = lab.start(r, ['python3', RESPONDER, 'ez1', ODD, mode, '20', '60']);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  const exited = once(child, 'close');
  // Bounded by the child: it prints "ready" once bound, or exits.
  await Promise.race([new Promise<void>((ok) => child.stdout!.on('data', () => out.includes('ready') && ok())), exited]);
  t.true(out.includes('ready'), `responder did not start: ${out}`);
  return { lab, host, responderMac: lab.mac(r, 'ez1') };
}

test('802.1Q priority-tagged replies (VID 0) answer resolve, scan and arping, as arp-scan takes them', async (t) => {
  const { lab, host, responderMac } = await oddLab(t, 'ovz', 'vid0');
  const resolved = await ersatz(lab, host, ['--target', ODD, '--json']);
  t.is(resolved.code, 0, show(resolved));
  t.like(jsonLines(resolved.stdout)[0], { ip: ODD, mac: responderMac });
  const scanned = await ersatz(lab, host, ['scan', '--json', ODD]);
  t.is(scanned.code, 0, show(scanned));
  t.like(jsonLines(scanned.stdout)[0], { ip: ODD, mac: responderMac, dup: false });
  const pinged = await ersatz(lab, host, ['arping', '-c', '1', '--json', ODD]);
  t.is(pinged.code, 0, show(pinged));
  t.like(jsonLines(pinged.stdout)[0], { ip: ODD, mac: responderMac });
  const arpScan = lab.run(host, ['arp-scan', '-I', 'ez0', '-q', '-x', ODD]);
  t.is(arpScan.stdout.trim(), `${ODD}\t${responderMac}`, arpScan.stderr);
  // decode still shows the priority tag: the frame on the wire is tagged, only the matching treats VID 0 as none.
  const file = `/tmp/ersatz-vid0-${lab.tag}.pcap`;
  t.teardown(() => lab.run(host, ['rm', '-f', file]));
  const capture = await ersatz(lab, host, ['arping', '-c', '1', '--pcap', file, ODD]);
  t.is(capture.code, 0, show(capture));
  const decoded = await ersatz(lab, host, ['decode', '--json', file]);
  t.true(jsonLines(decoded.stdout).some((f) => JSON.stringify(f).includes('"vlan":[0]')), decoded.stdout);
});

test('a unicast request from the target naming us (RFC 826; a Linux reachability probe) answers resolve, scan and arping', async (t) => {
  const { lab, host, responderMac } = await oddLab(t, 'orq', 'request');
  const resolved = await ersatz(lab, host, ['--target', ODD, '--json']);
  t.is(resolved.code, 0, show(resolved));
  t.like(jsonLines(resolved.stdout)[0], { ip: ODD, mac: responderMac });
  const scanned = await ersatz(lab, host, ['scan', '--json', ODD]);
  t.like(jsonLines(scanned.stdout)[0], { ip: ODD, mac: responderMac });
  const pinged = await ersatz(lab, host, ['arping', '-c', '1', '--json', ODD]);
  t.is(pinged.code, 0, show(pinged));
  t.like(jsonLines(pinged.stdout)[0], { ip: ODD, mac: responderMac, operation: 'request' });
});

test('a reply through a MAC-NAT bridge (Ethernet source is not the sender): resolve says what it ignored, and takes it on request', async (t) => {
  const { lab, host, responderMac } = await oddLab(t, 'ont', 'natsrc');
  const bridge = '02:00:5e:00:53:66'; // the responder's rewritten Ethernet source
  const refused = await ersatz(lab, host, ['--target', ODD, '--tries', '2', '--timeout', '300']);
  t.is(refused.code, 1, show(refused));
  t.is(
    refused.stderr.replace(/\(\d+ ms\)/, '(… ms)'),
    `ersatz: no ARP reply from ${ODD} after 2 tries (… ms): 2 replies ignored: Ethernet source ${bridge} differs from sender ${responderMac} ` +
      '(a MAC-NAT bridge, or a spoofer: --accept-source-mismatch, acceptSourceMismatch, takes it)\n',
  );
  const taken = await ersatz(lab, host, ['--target', ODD, '--accept-source-mismatch', '--json']);
  t.is(taken.code, 0, show(taken));
  t.like(jsonLines(taken.stdout)[0], { ip: ODD, mac: responderMac });
  // scan and arping take it as arp-scan and iputils do; scan shows where it came from.
  const scanned = await ersatz(lab, host, ['scan', '--json', ODD]);
  t.like(jsonLines(scanned.stdout)[0], { ip: ODD, mac: responderMac, ethSrc: bridge });
  const arpScan = lab.run(host, ['arp-scan', '-I', 'ez0', '-q', '-x', ODD]);
  t.is(arpScan.stdout.trim(), `${ODD}\t${responderMac} (${bridge})`, arpScan.stderr); // arp-scan names the source too
  const pinged = await ersatz(lab, host, ['arping', '-c', '1', ODD]);
  t.is(pinged.code, 0, show(pinged));
});

test('ARP flux: one Linux host answering from two NICs is named as a benign cause; --first takes the first answer, exit 0', async (t) => {
  const lab = new Lab('oflx');
  t.teardown(() => lab.destroy());
  const sw = lab.namespace('sw');
  lab.sh(sw, ['ip', 'link', 'add', 'br0', 'type', 'bridge']);
  lab.sh(sw, ['ip', 'link', 'set', 'br0', 'up']);
  const plug = (ns: string, ifname: string, port: string, cidr: string): void => {
    lab.veth({ ns, ifname }, { ns: sw, ifname: port });
    lab.sh(sw, ['ip', 'link', 'set', port, 'master', 'br0']);
    lab.sh(ns, ['ip', 'addr', 'add', cidr, 'dev', ifname]);
  };
  const host = lab.namespace('h');
  const multi = lab.namespace('m');
  plug(host, 'ez0', 'p0', '198.51.100.1/24');
  // Two NICs on one segment, Linux defaults (arp_ignore=0): each answers for every address of the host.
  plug(multi, 'ez1', 'p1', '198.51.100.5/24');
  plug(multi, 'ez2', 'p2', '198.51.100.6/24');
  const macs = [lab.mac(multi, 'ez1'), lab.mac(multi, 'ez2')].sort();
  const flagged = await ersatz(lab, host, ['--target', '198.51.100.5', '--settle', '200', '--json']);
  t.is(flagged.code, 1, show(flagged));
  t.deepEqual([jsonLines(flagged.stdout)[0]!.mac as string, ...(jsonLines(flagged.stdout)[0]!.conflicts as string[])].sort(), macs);
  t.regex(flagged.stderr, /^ersatz: warning: address conflict: 198\.51\.100\.5 answered from .+ one host answers from two NICs \(ARP flux, Linux arp_ignore=0\); --first takes the first\n$/);
  const first = await ersatz(lab, host, ['--target', '198.51.100.5', '--settle', '200', '--first']);
  t.is(first.code, 0, show(first));
  t.regex(first.stderr, /took the first \(--first\)\n$/);
});

test('scan -Q VID tags its requests and takes only answers tagged VID: the host arp-scan -Q finds, with the same MAC', async (t) => {
  const { lab, host, responderMac } = await oddLab(t, 'ovq', 'vlan42');
  const tagged = await ersatz(lab, host, ['scan', '-Q', '42', '-I', 'ez0', '--json', ODD]);
  t.is(tagged.code, 0, show(tagged));
  t.like(jsonLines(tagged.stdout)[0], { type: 'host', ip: ODD, mac: responderMac, vlan: 42 });
  // The line names the reply's VLAN after the vendor, in arp-scan's words (ersatz adds the RTT column).
  const line = await ersatz(lab, host, ['scan', '-Q', '42', '-I', 'ez0', '-x', ODD]);
  const theirs = lab.run(host, ['arp-scan', '-I', 'ez0', '-Q', '42', '-x', ODD]);
  t.deepEqual(line.stdout.trimEnd().split('\t').slice(0, 3), theirs.stdout.trimEnd().split('\t'), `${show(line)}\n${theirs.stdout}`);
  t.regex(line.stdout, /\(802\.1Q VLAN=42\)\tRTT=/);
  const format = await ersatz(lab, host, ['scan', '--vlan', '42', '-x', '-F', '${ip} ${mac} ${vlan}', ODD]);
  t.is(format.stdout, `${ODD} ${responderMac} 42\n`, show(format));
  // Untagged, or on another VLAN, the same host does not hear us: nothing found, exit 1.
  for (const args of [[], ['-Q', '43']]) {
    const r = await ersatz(lab, host, ['scan', ...args, '-r', '1', '-t', '200', '--json', ODD]);
    t.is(r.code, 1, show(r));
    t.is(jsonLines(r.stdout).filter((l) => l.type === 'host').length, 0, show(r));
  }
  const arpScan = lab.run(host, ['arp-scan', '-I', 'ez0', '-Q', '42', '-q', '-x', ODD]);
  t.is(arpScan.stdout.trim(), `${ODD}\t${responderMac}`, arpScan.stderr);
  const bad = await ersatz(lab, host, ['scan', '-Q', '4096', ODD]);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /^ersatz: scan: .*vlan.*4096/m);
});
