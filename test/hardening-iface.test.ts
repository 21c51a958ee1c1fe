// Issue #8, interface faults: the interface goes down, or is deleted, in the middle of a resolve and of a sweep. The
// CLI says so in one line well before its own timeouts would end it, exits 2, and leaves no process behind (every
// worker is a thread of the one process, and `ip netns pids` shows none left in the namespace).
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { responderLab, twoHostLab } from '@ersatz/lab';
import { startErsatz, show } from './helpers/cmd-run.js';
import { watch } from './helpers/hardening-run.js';

const SILENT = '198.51.100.99';

/** What `ip link` does to the interface: take it down, or delete it (a veth pair goes with it). */
const FAULTS = {
  down: { argv: (ifname: string) => ['ip', 'link', 'set', ifname, 'down'], says: (ifname: string) => new RegExp(`^ersatz: ${ifname} went down \\([^\\n]+\\): bring it up \\(ip link set ${ifname} up\\) and run again\\n$`) },
  deleted: { argv: (ifname: string) => ['ip', 'link', 'del', ifname], says: (ifname: string) => new RegExp(`^ersatz: ${ifname} disappeared \\([^\\n]+\\): [^\\n]*ip link[^\\n]*\\n$`) },
} as const;

/** The processes still in `ns` (`ip netns pids` only reads /proc: it runs outside the lab's namespaces safely). */
function leftover(ns: string): string {
  return execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).trim();
}

for (const [fault, how] of Object.entries(FAULTS)) {
  test(`the interface ${fault} in the middle of a resolve: one line, exit 2, long before the query's own deadline, nothing left`, async (t) => {
    const { lab, host, peer } = twoHostLab(`hi${fault.slice(0, 2)}`);
    t.teardown(() => lab.destroy());
    // The peer's tcpdump says when our requests are on the wire: the fault strikes a query in flight.
    const dump = watch(lab.start(peer.ns, ['tcpdump', '-l', '-n', '-i', peer.ifname, 'arp']));
    await dump.waitFor(/listening on/);
    // 20 tries 500 ms apart: left alone, this query would end with exit 1 after 10 s.
    const run = watch(startErsatz(lab, host.ns, ['resolve', SILENT, '--tries', '20', '--timeout', '500']));
    await dump.waitFor(new RegExp(`who-has ${SILENT.replaceAll('.', '\\.')}`));
    lab.sh(host.ns, how.argv(host.ifname));
    const { code } = await run.exited;
    const r = { code, signal: null, stdout: run.stdout(), stderr: run.stderr() };
    t.is(code, 2, show(r));
    t.is(r.stdout, '');
    t.regex(r.stderr, how.says(host.ifname));
    t.is(leftover(host.ns), '', 'no process left in the namespace');
  });

  test(`the interface ${fault} in the middle of a /16 sweep: the hosts found so far, one line, exit 2, nothing left`, async (t) => {
    const { lab, host } = responderLab(`hs${fault.slice(0, 2)}`);
    t.teardown(() => lab.destroy());
    // 65534 hosts at 2000 requests/s: over half a minute if nothing stopped it.
    const run = watch(startErsatz(lab, host.ns, ['scan', '10.77.0.0/16', '--rate', '2000', '--json']));
    await run.waitFor(/(\{"type":"host","ip":[^\n]*\n){200}/);
    lab.sh(host.ns, how.argv(host.ifname));
    const { code } = await run.exited;
    const r = { code, signal: null, stdout: run.stdout(), stderr: run.stderr() };
    t.is(code, 2, show(r).slice(-3000));
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    t.true(lines.length >= 200 && lines.length < 65534, `${lines.length} hosts printed`);
    for (const l of lines) t.regex(l, /^\{"type":"host","ip":"10\.77\.\d+\.\d+","mac":"[0-9a-f:]{17}"/);
    t.regex(r.stderr, how.says(host.ifname));
    t.is(leftover(host.ns), '', 'no process left in the namespace');
  });
}
