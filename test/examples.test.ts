// Issue #18: every example under examples/ runs, as a user would run it (`node examples/X.mjs ARGS`, importing the
// package by its name), inside a namespace lab against a real kernel peer, and prints what it says it prints.
import test from 'ava';
import { once } from 'node:events';
import { twoHostLab, type Host, type Lab } from '@ersatz/lab';
import { show } from './helpers/cmd-run.js';

function lab(prefix: string): { lab: Lab; host: Host; peer: Host } {
  return twoHostLab(prefix);
}

async function example(l: Lab, ns: string, name: string, args: readonly string[]): Promise<string> {
  const r = await l.exec(ns, ['node', `examples/${name}.mjs`, ...args]);
  if (r.code !== 0) throw new Error(show(r));
  return r.stdout;
}

test('resolve.mjs prints the peer kernel’s MAC', async (t) => {
  const { lab: l, host, peer } = lab('exr');
  t.teardown(() => l.destroy());
  t.is(await example(l, host.ns, 'resolve', [peer.ip]), `${peer.ip} is at ${peer.mac}\n`);
});

test('scan.mjs lists the one host of the /24 that answers, and the count', async (t) => {
  const { lab: l, host, peer } = lab('exs');
  t.teardown(() => l.destroy());
  const out = await example(l, host.ns, 'scan', [peer.ip.replace(/\.\d+$/, '.0/24')]);
  t.is(out, `${peer.ip}\t${peer.mac}\n1 of 254 hosts answered\n`);
});

test('arping.mjs prints a reply per probe and the counts', async (t) => {
  const { lab: l, host, peer } = lab('exa');
  t.teardown(() => l.destroy());
  const lines = (await example(l, host.ns, 'arping', [peer.ip])).trimEnd().split('\n');
  t.is(lines.length, 4, lines.join('\n'));
  for (const line of lines.slice(0, 3)) t.regex(line, new RegExp(`^reply from ${peer.ip.replaceAll('.', '\\.')} \\[${peer.mac}\\] \\d+\\.\\d{3} ms$`));
  t.is(lines[3], 'sent 3, received 3');
});

test('ping.mjs prints a reply per echo request and the counts', async (t) => {
  const { lab: l, host, peer } = lab('exp');
  t.teardown(() => l.destroy());
  const out = await example(l, host.ns, 'ping', [peer.ip]);
  t.is(out, [1, 2, 3].map((s) => `reply from ${peer.ip}: icmp_seq=${s} ttl=64\n`).join('') + '3 transmitted, 3 received\n');
});

test('neighbours.mjs prints the table, then the change the kernel announces', async (t) => {
  const { lab: l, host } = lab('exn');
  t.teardown(() => l.destroy());
  l.sh(host.ns, ['ip', 'neigh', 'add', '198.51.100.77', 'lladdr', '02:00:00:00:00:77', 'dev', host.ifname, 'nud', 'permanent']);
  const child = l.start(host.ns, ['node', 'examples/neighbours.mjs', host.ifname, '1']);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  const closed = once(child, 'close');
  // Once it watches, a change: the one event it waits for (it gives up after 10 s on its own).
  while (!out.includes('watching\n') && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
  l.sh(host.ns, ['ip', 'neigh', 'add', '198.51.100.78', 'lladdr', '02:00:00:00:00:78', 'dev', host.ifname, 'nud', 'permanent']);
  const [code] = (await closed) as [number];
  t.is(code, 0);
  t.is(out, `198.51.100.77 02:00:00:00:00:77 permanent ${host.ifname}\nwatching\nnew 198.51.100.78 02:00:00:00:00:78 permanent\n`);
});
