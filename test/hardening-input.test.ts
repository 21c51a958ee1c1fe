// Issue #8, bad input: every subcommand (resolve, scan, arping, ping, neigh, decode) given malformed addresses,
// networks, ranges and MACs, numbers out of range, unknown flags, interfaces that do not exist, and files that cannot
// be read or are not captures. Each prints exactly one line on stderr (`ersatz: ...`, no stack trace), nothing on
// stdout, and exits 2. They run inside a lab namespace, so an input wrongly accepted could only ever reach the lab.
import test from 'ava';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { twoHostLab, type RunResult } from '@ersatz/lab';
import { MAIN, scratchDir, show } from './helpers/cmd-run.js';
import { readableCheckout } from './helpers/readable-checkout.js';

/** argv after `ersatz`, and what the one line must mention. */
type Case = readonly [readonly string[], RegExp];

function cases(dir: string, peer: string): Record<string, readonly Case[]> {
  const text = join(dir, 'notes.txt');
  writeFileSync(text, 'this is not a capture file\n');
  const empty = join(dir, 'empty.pcap');
  writeFileSync(empty, '');
  const short = join(dir, 'short.pcap');
  writeFileSync(short, Buffer.from('d4c3b2a1020004000000', 'hex')); // a pcap magic and 6 of the header's 24 bytes
  const badLinkHeader = join(dir, 'bad-version.pcap');
  // magic, version 9.9, then zeros: a header no reader should trust
  writeFileSync(badLinkHeader, Buffer.from('d4c3b2a1' + '09000900' + '00'.repeat(16), 'hex'));
  const sub = join(dir, 'a-directory');
  mkdirSync(sub);
  const nowhere = join(dir, 'no', 'such', 'dir', 'out.pcap');
  return {
    resolve: [
      [['resolve', '198.51.100.256'], /198\.51\.100\.256/],
      [['resolve', '198.51.100'], /198\.51\.100/],
      [['resolve', '198.51.100.01'], /leading zero/],
      [['resolve', 'gateway'], /gateway/],
      [['resolve', ''], /""/],
      [['--target', '1.2.3.4.5'], /1\.2\.3\.4\.5/],
      [['resolve', peer, '198.51.100.3'], /unexpected argument/],
      [['resolve', peer, '--tries', '0'], /--tries/],
      [['resolve', peer, '--tries', '101'], /--tries/],
      [['resolve', peer, '--tries', '1.5'], /--tries/],
      [['resolve', peer, '--timeout', '0'], /--timeout/],
      [['resolve', peer, '--timeout', '-5'], /--timeout/],
      [['resolve', peer, '--timeout', '1e9'], /--timeout/],
      [['resolve', peer, '--settle', '-1'], /--settle/],
      [['resolve', peer, '--bogus'], /--bogus/],
      [['resolve', peer, '-Z'], /-Z/],
      [['resolve', peer, '--interface', 'nosuch0'], /nosuch0/],
      [['resolve', peer, '--interface', 'a-name-far-too-long'], /a-name-far-too-long/],
      [['resolve', peer, '--interface', 'lo'], /lo/],
    ],
    scan: [
      [['scan'], /no targets/],
      [['scan', '198.51.100.0/33'], /198\.51\.100\.0\/33/],
      [['scan', '198.51.100.0/'], /198\.51\.100\.0\//],
      [['scan', '/24'], /\/24/],
      [['scan', '198.51.100.0/2x'], /198\.51\.100\.0\/2x/],
      [['scan', '198.51.100.0:255.0.255.0'], /255\.0\.255\.0/],
      [['scan', '198.51.100.9-198.51.100.1'], /198\.51\.100\.9-198\.51\.100\.1/],
      [['scan', '198.51.100.1-'], /198\.51\.100\.1-/],
      [['scan', '198.51.100.1-198.51.100.300'], /300/],
      [['scan', '198.51.100.0/28', '--rate', '0'], /--rate/],
      [['scan', '198.51.100.0/28', '--rate', 'fast'], /--rate/],
      [['scan', '198.51.100.0/28', '--bandwidth', '0'], /--bandwidth/],
      [['scan', '198.51.100.0/28', '--bandwidth', '5X'], /--bandwidth/],
      [['scan', '198.51.100.0/28', '--rate', '10', '--bandwidth', '1M'], /--rate, --interval and --bandwidth each set the pace/],
      [['scan', '198.51.100.0/28', '--tries', '0'], /--tries/],
      [['scan', '198.51.100.0/28', '--timeout', '0'], /--timeout/],
      [['scan', '198.51.100.0/28', '--backoff', '0'], /--backoff/],
      [['scan', '198.51.100.0/28', '--seed', '7'], /--random/],
      [['scan', '198.51.100.0/28', '--random', '--seed', '-1'], /--seed/],
      [['scan', '198.51.100.0/28', '--bogus'], /--bogus/],
      [['scan', '198.51.100.0/28', '--interface', 'nosuch0'], /nosuch0/],
      [['scan', '--file', join(dir, 'missing.txt')], /missing\.txt/],
      [['scan', '--file', sub], /a-directory/],
      [['scan', '--file', text], /this/],
      [['scan', '198.51.100.0/28', '--pcap', nowhere], /out\.pcap/],
    ],
    arping: [
      [['arping'], /missing TARGET/],
      [['arping', '300.1.1.1'], /300\.1\.1\.1/],
      [['arping', peer, 'extra'], /unexpected argument/],
      [['arping', peer, '-c', '0'], /--count/],
      [['arping', peer, '-c', 'many'], /--count/],
      [['arping', peer, '--deadline=-1'], /--deadline/],
      [['arping', peer, '-w', '-1'], /-w/], // parseArgs: "Option '-w' argument is ambiguous" (a value starting with -)
      [['arping', peer, '-i', '0'], /--interval/],
      [['arping', peer, '-i', 'soon'], /--interval/],
      [['arping', peer, '-s', '198.51.100.999'], /198\.51\.100\.999/],
      [['arping', peer, '-D', '-U'], /-D, -U and -A/],
      [['arping', peer, '--bogus'], /--bogus/],
      [['arping', peer, '-I', 'nosuch0'], /nosuch0/],
      [['arping', peer, '--pcap', nowhere], /out\.pcap/],
    ],
    ping: [
      [['ping'], /missing TARGET/],
      [['ping', '198.51.100.x'], /198\.51\.100\.x/],
      [['ping', peer, '-c', '0'], /--count/],
      [['ping', peer, '-s', '1473'], /--size/],
      [['ping', peer, '-s', '-1'], /-s/],
      // A value after a space that starts with a dash: parseArgs's own way to write one is in the line too.
      [['ping', peer, '-c', '-1'], /Option '-c' argument is ambiguous \(to specify an option argument starting with a dash use '--count=-XYZ' or '-c-XYZ'\): run/],
      [['ping', peer, '-c-1'], /--count takes a whole number from 1 to \d+, not "-1"/],
      [['ping', peer, '-s=-1'], /--size/],
      [['ping', peer, '-t', '0'], /--ttl/],
      [['ping', peer, '-t', '256'], /--ttl/],
      [['ping', peer, '-W', '0'], /--timeout/],
      [['ping', peer, '-i', '0'], /--interval/],
      [['ping', peer, '--bogus'], /--bogus/],
      [['ping', peer, '-I', 'nosuch0'], /nosuch0/],
      [['ping', peer, '--pcap', nowhere], /out\.pcap/],
    ],
    neigh: [
      [['neigh', 'bogus'], /unknown subcommand "bogus"/],
      [['neigh', 'flush'], /flush/],
      [['neigh', 'add', '198.51.100.7', '02:00:5e:00:53', '--interface', 'ez0'], /02:00:5e:00:53/],
      [['neigh', 'add', '198.51.100.7', 'zz:00:5e:00:53:07', '--interface', 'ez0'], /zz:00:5e:00:53:07/],
      [['neigh', 'add', '198.51.100.7', '02:00:5e:00:53:07:08', '--interface', 'ez0'], /02:00:5e:00:53:07:08/],
      [['neigh', 'add', '198.51.100.700', '02:00:5e:00:53:07', '--interface', 'ez0'], /198\.51\.100\.700/],
      [['neigh', 'add', '198.51.100.7', '--interface', 'ez0'], /MAC/i],
      [['neigh', 'add', '198.51.100.7', '02:00:5e:00:53:07', '--interface', 'nosuch0'], /nosuch0/],
      [['neigh', 'add', '198.51.100.7', '02:00:5e:00:53:07', '--interface', 'ez0', '--state', 'forever'], /forever/],
      [['neigh', 'add', '198.51.100.7', '02:00:5e:00:53:07', '--interface', 'ez0', '--via', 'telepathy'], /telepathy/],
      [['neigh', 'del', 'not-an-ip', '--interface', 'ez0'], /not-an-ip/],
      [['neigh', 'show', '--interface', 'nosuch0'], /nosuch0/],
      [['neigh', 'show', '--bogus'], /--bogus/],
      [['neigh', 'watch', '--count', '0'], /--count/],
      [['neigh', 'watch', '--timeout', '-1'], /--timeout/],
    ],
    decode: [
      [['decode'], /capture file/],
      [['decode', join(dir, 'missing.pcap')], /missing\.pcap/],
      [['decode', sub], /a-directory/],
      [['decode', text], /notes\.txt/],
      [['decode', empty], /empty\.pcap/],
      [['decode', short], /short\.pcap/],
      [['decode', badLinkHeader], /bad-version\.pcap/],
      [['decode', text, '--threads', '65'], /--threads/],
      [['decode', text, '--threads', '-1'], /--threads/],
      [['decode', text, '--bogus'], /--bogus/],
    ],
    other: [
      [['frobnicate'], /frobnicate/],
      [['--bogus'], /--bogus/],
    ],
  };
}

/** Runs `jobs` at most `n` at a time (each one a node process: the machine has few cores). */
async function pool<T>(jobs: readonly (() => Promise<T>)[], n: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < jobs.length) {
        const i = next++;
        out[i] = await jobs[i]!();
      }
    }),
  );
  return out;
}

test('every subcommand: bad input gives one line on stderr, nothing on stdout, exit 2, never a stack trace', async (t) => {
  const { lab, host, peer } = twoHostLab('hinp');
  t.teardown(() => lab.destroy());
  const table = Object.entries(cases(scratchDir(t), peer.ip)).flatMap(([command, list]) => list.map(([argv, says]) => ({ command, argv, says })));
  const runs = await pool(
    table.map(({ argv }) => () => lab.exec(host.ns, ['node', MAIN, ...argv])),
    4,
  );
  const commands = new Set<string>();
  // Every case is checked and every failure listed at once: ava would report only the first.
  const wrong: string[] = [];
  table.forEach(({ command, argv, says }, i) => {
    const r: RunResult = runs[i]!;
    commands.add(command);
    const faults = [
      r.code !== 2 && `exit ${r.code ?? r.signal}`,
      r.stdout !== '' && 'stdout not empty',
      !/^ersatz: [^\n]+\n$/.test(r.stderr) && 'not one line',
      /internal error|\n\s+at /.test(r.stderr) && 'a stack trace',
      !says.test(r.stderr) && `no ${says}`,
    ].filter(Boolean);
    if (faults.length > 0) wrong.push(`ersatz ${argv.join(' ')}: ${faults.join(', ')}\n${show(r)}`);
  });
  t.deepEqual(wrong, []);
  t.deepEqual([...commands].sort(), ['arping', 'decode', 'neigh', 'other', 'ping', 'resolve', 'scan']);
  t.log(`${table.length} cases`);
});

test('decode: a capture file that cannot be read (no permission) gives one line and exit 2', async (t) => {
  const { lab, host } = twoHostLab('hinr');
  t.teardown(() => lab.destroy());
  const dir = scratchDir(t);
  chmodSync(dir, 0o755);
  const locked = join(dir, 'locked.pcap');
  writeFileSync(locked, Buffer.from('d4c3b2a102000400' + '00'.repeat(8) + 'ffff000001000000', 'hex'));
  chmodSync(locked, 0o000);
  // root reads anything: run as nobody, who cannot.
  const r = await lab.exec(host.ns, ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--', 'node', readableCheckout(t).path(MAIN), 'decode', locked]);
  t.is(r.code, 2, show(r));
  t.is(r.stdout, '');
  t.regex(r.stderr, /^ersatz: [^\n]*locked\.pcap[^\n]*\n$/);
});
