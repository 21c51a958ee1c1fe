// `ersatz scan` end to end on a /16: 65534 hosts, every one answered by a Linux kernel (responderLab's default
// 10.77.0.0/16), every one reported exactly once, none missed. The pace is set high enough to keep the file well
// under its time budget; retries cover the odd frame a busy machine loses, and the summary says what was lost.
import test from 'ava';
import { responderLab } from '@ersatz/lab';
import { ersatz, jsonLines, show } from './helpers/cmd-run.js';

test('a /16 sweep finds all 65534 hosts exactly once', async (t) => {
  const { lab, host, responders } = responderLab('sc16');
  t.teardown(() => lab.destroy());
  const r = await ersatz(lab, host.ns, ['scan', '--json', '--rate', '20000', '--tries', '3', '10.77.0.0/16'], 60_000);
  t.is(r.code, 0, show(r).slice(-2000));
  const lines = jsonLines(r.stdout);
  const summary = (lines.pop() as { summary: { hosts: number; answered: number; duplicates: number; sent: number; elapsedMs: number; drops: unknown } }).summary;
  t.log(`sent ${summary.sent} requests, ${summary.elapsedMs} ms, drops ${JSON.stringify(summary.drops)}`);
  t.like(summary, { hosts: 65534, answered: 65534, duplicates: 0 });
  t.is(lines.length, 65534);
  // Exactly once each: 65534 distinct addresses, each in 10.77.0.1 .. 10.77.255.254, each with the responder's MAC.
  const seen = new Set<string>();
  let wrong = 0;
  for (const l of lines) {
    const ip = l.ip as string;
    const m = /^10\.77\.(\d+)\.(\d+)$/.exec(ip);
    const n = m ? Number(m[1]) * 256 + Number(m[2]) : -1;
    if (n < 1 || n > 65534 || l.mac !== responders[0]!.mac || l.dup !== false) wrong++;
    seen.add(ip);
  }
  t.is(wrong, 0);
  t.is(seen.size, 65534);
});
