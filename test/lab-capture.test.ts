// The lab's tcpdump witness (@ersatz/lab Lab.tcpdump, test/helpers/cmd-run.ts tcpdump): stop() returns every frame
// that crossed before it was called, however soon after the last one, and never the end-of-capture mark it uses.
import test from 'ava';
import { join } from 'node:path';
import { isEndMark, twoHostLab } from '@ersatz/lab';
import { scratchDir, tcpdump } from './helpers/cmd-run.js';

const PINGS = 200;

test('Lab.tcpdump: stop() right after a burst returns every frame of it, and not the end mark', async (t) => {
  const { lab, host, peer } = twoHostLab('tcap');
  t.teardown(() => lab.destroy());
  const witness = await lab.tcpdump(peer.ns, peer.ifname, ['icmp[icmptype] == icmp-echo']);
  // Flood mode: the next request as soon as the last reply came back; stop() follows the last one at once.
  lab.sh(host.ns, ['ping', '-q', '-f', '-c', String(PINGS), peer.ip]);
  const lines = await witness.stop();
  t.is(lines.filter((l) => l.includes('ICMP echo request')).length, PINGS, lines.slice(-5).join('\n'));
  t.false(lines.some((l) => l.includes('0x88b5')), 'the end mark is left out');
});

test('cmd-run tcpdump (-w): stop() returns every frame of a burst from the file, and not the end mark', async (t) => {
  const { lab, host, peer } = twoHostLab('tcpw');
  t.teardown(() => lab.destroy());
  const cap = await tcpdump(lab, peer.ns, peer.ifname, join(scratchDir(t), 'burst.pcap'), ['icmp[icmptype] == icmp-echo']);
  lab.sh(host.ns, ['ping', '-q', '-f', '-c', String(PINGS), peer.ip]);
  const frames = await cap.stop();
  t.is(frames.length, PINGS);
  t.false(frames.some((f) => isEndMark(f.data)));
});
