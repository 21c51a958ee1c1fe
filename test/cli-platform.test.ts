// On a system ersatz does not send on (macOS, the BSDs), every network command stops with one line saying where it
// runs, before loading anything native; --help and `decode` still work. No such machine here: the child process is
// told it is one (process.platform, set before the CLI loads), which is what the CLI reads.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { MAIN } from './helpers/cmd-run.js';

const AS_DARWIN = `data:text/javascript,Object.defineProperty(process, 'platform', { value: 'darwin' })`;
const run = (args: string[]) => spawnSync(process.execPath, ['--import', AS_DARWIN, MAIN, ...args], { encoding: 'utf8', timeout: 30_000 });

test('network commands exit 2 with one line naming the supported systems', (t) => {
  for (const args of [[], ['--target', '192.0.2.1'], ['scan', '192.0.2.0/24'], ['arping', '192.0.2.1'], ['ping', '192.0.2.1'], ['neigh'], ['claim', '192.0.2.7', '-I', 'en0']]) {
    const r = run(args);
    const what = `ersatz ${args.join(' ')}: ${r.stderr}`;
    t.is(r.status, 2, what);
    t.is(r.stdout, '', what);
    t.is(r.stderr, "ersatz: this is darwin: ersatz sends and captures on Linux, and on Windows with Npcap; 'ersatz decode' reads capture files anywhere\n", what);
  }
});

// (A command's own --help loads its module, and koffi with it: koffi ships macOS builds, but not for a Linux process
// that only claims to be darwin, so that case is not tried here.)
test('--help, --version and decode work there', (t) => {
  for (const args of [['--help'], ['--version'], ['decode', 'test/fixtures/pcap/arp-ns.pcap']]) {
    const r = run(args);
    t.is(r.status, 0, `ersatz ${args.join(' ')}: ${r.stderr}`);
    t.not(r.stdout, '');
  }
});
