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
  const exited = once(child, 'exit');
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
  const arpScan = lab.run(host, ['arp-scan', '-I', 'ez0', '-q', '-x', ODD], { timeoutMs: 20_000 });
  t.is(arpScan.stdout.trim(), `${ODD}\t${responderMac}`, arpScan.stderr);
  // decode still shows the priority tag: the frame on the wire is tagged, only the matching treats VID 0 as none.
  const file = `/tmp/ersatz-vid0-${lab.tag}.pcap`;
  t.teardown(() => lab.run(host, ['rm', '-f', file]));
  const capture = await ersatz(lab, host, ['arping', '-c', '1', '--pcap', file, ODD]);
  t.is(capture.code, 0, show(capture));
  const decoded = await ersatz(lab, host, ['decode', '--json', file]);
  t.true(jsonLines(decoded.stdout).some((f) => JSON.stringify(f).includes('"vlan":[0]')), decoded.stdout);
});
