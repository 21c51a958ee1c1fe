// `--version` on the root command and every subcommand, and `ersatz help COMMAND`: the built bin, no network.
import test from 'ava';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { MAIN } from './helpers/cmd-run.js';

const run = promisify(execFile);
const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
const COMMANDS = ['resolve', 'scan', 'arping', 'ping', 'claim', 'neigh', 'decode'];

test('--version and -V print the package.json version, on the root command and on every subcommand', async (t) => {
  t.regex(version, /^\d+\.\d+\.\d+/);
  const argvs = [['--version'], ['-V'], ['--target', '192.0.2.1', '--version'], ...COMMANDS.flatMap((c) => [[c, '--version'], [c, '-V']]), ['neigh', 'show', '--version']];
  for (const argv of argvs) {
    const r = await run('node', [MAIN, ...argv]);
    t.is(r.stdout, `ersatz ${version}\n`, argv.join(' '));
    t.is(r.stderr, '', argv.join(' '));
  }
  // After '--' it is an argument, not an option: decode names a file that is not there (exit 2).
  const after = await run('node', [MAIN, 'decode', '--', '--version']).catch((e: { code: number; stderr: string }) => e);
  t.is((after as { code?: number }).code, 2);
});

test("'ersatz help COMMAND' prints what 'ersatz COMMAND --help' prints; 'ersatz help' the top-level usage", async (t) => {
  for (const c of COMMANDS) {
    const [help, flag] = await Promise.all([run('node', [MAIN, 'help', c]), run('node', [MAIN, c, '--help'])]);
    t.is(help.stdout, flag.stdout, c);
    t.regex(help.stdout, c === 'resolve' ? /^usage: ersatz \[--target IP\]/ : new RegExp(`^usage: ersatz ${c} `), c);
  }
  const [top, flag] = await Promise.all([run('node', [MAIN, 'help']), run('node', [MAIN, '--help'])]);
  t.is(top.stdout, flag.stdout);
  t.regex(top.stdout, /ersatz help <command>/);
  // Names an object has from its prototype are no commands either.
  for (const word of ['bogus', 'constructor', 'toString']) {
    const unknown = await run('node', [MAIN, 'help', word]).catch((e: { code: number; stderr: string }) => e);
    t.like(unknown, { code: 2, stderr: `ersatz: unknown command "${word}": run 'ersatz --help'\n` });
  }
});
