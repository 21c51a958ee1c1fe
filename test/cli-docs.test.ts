// --help, the man page and the shell completions come from one option table per command (packages/cli/src/spec.ts):
// each output lists every option the command's parser accepts, the man page renders without a groff warning, and
// each completion script loads in its shell and completes commands, options and their values.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAIN } from './helpers/cmd-run.js';

const work = mkdtempSync(join(tmpdir(), 'ez-docs-'));
test.after.always(() => rmSync(work, { recursive: true, force: true }));

function ersatz(...args: string[]): string {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`ersatz ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** Every command and subcommand with the flags its --help lists (`-I, --interface IF` rows). */
const COMMANDS = ['resolve', 'scan', 'arping', 'ping', 'claim', 'decode', 'neigh show', 'neigh add', 'neigh del', 'neigh flush', 'neigh watch', 'completion', 'manpage'];
function helpFlags(command: string): string[] {
  const text = ersatz(...command.split(' '), '--help');
  return [...text.matchAll(/^ {2}(?:-(\w), )? {0,4}--([\w-]+)/gm)].map((m) => `--${m[2]}`);
}

function script(shell: string): string {
  const file = join(work, `ersatz.${shell}`);
  writeFileSync(file, ersatz('completion', shell));
  return file;
}

function run(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000, env: { ...process.env, HOME: work } });
}

test('--help of every command lists its options, -v and -h included', (t) => {
  for (const c of COMMANDS) {
    const flags = helpFlags(c);
    t.true(flags.includes('--help') && flags.includes('--verbose'), c);
    t.true(flags.length >= 2, c);
  }
  t.true(helpFlags('scan').includes('--vlan'));
  t.true(helpFlags('neigh add').includes('--via'));
});

test('the man page has every option of every command and renders without a groff warning', (t) => {
  const file = join(work, 'ersatz.1');
  writeFileSync(file, ersatz('manpage'));
  const r = run('groff', ['-man', '-Tutf8', '-ww', '-z', file]);
  t.is(r.status, 0, r.stderr);
  t.is(r.stderr, '', 'no warnings');
  const text = run('groff', ['-man', '-Tascii', '-P', '-cbou', file]).stdout;
  for (const c of COMMANDS) {
    t.true(text.includes(`ersatz ${c}`), c);
    for (const flag of helpFlags(c)) t.true(text.includes(flag), `${c} ${flag}`);
  }
});

test('bash: the script loads and completes commands, subcommands, options and their values', (t) => {
  const file = script('bash');
  const complete = (...words: string[]): string[] => {
    const line = words.map((w) => `'${w}'`).join(' ');
    const r = run('bash', ['-c', `source '${file}'; COMP_WORDS=(${line}); COMP_CWORD=${words.length - 1}; _ersatz; printf '%s\\n' "\${COMPREPLY[@]}"`]);
    t.is(r.stderr, '', words.join(' '));
    return r.stdout.split('\n').filter(Boolean);
  };
  t.deepEqual(complete('ersatz', 'sc'), ['scan']);
  t.deepEqual(complete('ersatz', 'scan', '--inter'), ['--interface', '--interval']);
  t.true(complete('ersatz', 'scan', '-I', '').includes('lo'), 'interface names');
  t.deepEqual(complete('ersatz', 'neigh', 'a'), ['add']);
  t.deepEqual(complete('ersatz', 'neigh', 'add', '--via', ''), ['netlink', 'ioctl']);
  t.deepEqual(complete('ersatz', '--tar'), ['--target'], 'the bare form takes resolve\'s options');
  t.deepEqual(complete('ersatz', 'completion', '--h'), ['--help']);
});

test('zsh: the script parses and defines the completion function', (t) => {
  const file = script('zsh');
  const r = run('zsh', ['-n', file]);
  t.is(r.status, 0, r.stderr);
  const loaded = run('zsh', ['-c', `autoload -U compinit && compinit -u -d '${work}/zcompdump' && source '${file}' 2>/dev/null; whence -w _ersatz`]);
  t.regex(loaded.stdout, /_ersatz: function/, loaded.stderr);
});

test('fish: the script loads and completes commands, options and their values', (t) => {
  const file = script('fish');
  t.is(run('fish', ['-n', file]).status, 0);
  const complete = (line: string): string[] => {
    const r = run('fish', ['-c', `source '${file}'; complete -C '${line}'`]);
    t.is(r.stderr, '', line);
    return r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0]!);
  };
  t.true(complete('ersatz sc').includes('scan'));
  t.true(complete('ersatz scan --inter').includes('--interface'));
  t.true(complete('ersatz scan -I ').includes('lo'), 'interface names');
  t.deepEqual(complete('ersatz neigh add --via ').sort(), ['ioctl', 'netlink']);
});
