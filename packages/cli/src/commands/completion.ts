// `ersatz completion bash|zsh|fish` and `ersatz manpage`: rendered from every command's option table.
import { bashCompletion, fishCompletion, manPage, zshCompletion, type CommandEntry } from '../docs.js';
import { Exit, UsageError, type ExitCode } from '../exit.js';
import { parseSpec } from '../options.js';
import type { CommandSpec, Options } from '../spec.js';
import { VERSION } from '../version.js';

const SHELLS = { bash: bashCompletion, zsh: zshCompletion, fish: fishCompletion } as const;

const NONE = {} as const satisfies Options;

export const SPECS: readonly CommandSpec[] = [
  {
    name: 'completion',
    usage: 'ersatz completion bash|zsh|fish',
    about: `Prints a completion script for the shell: commands, options, and their values (interface names, files,
the words an option takes). Install it as the shell expects:
  bash  ersatz completion bash > /etc/bash_completion.d/ersatz   (or source it from ~/.bashrc)
  zsh   ersatz completion zsh > "\${fpath[1]}/_ersatz"
  fish  ersatz completion fish > ~/.config/fish/completions/ersatz.fish`,
    options: NONE,
    notes: 'Exit codes: 0 printed, 2 no such shell.',
    positionals: true,
  },
  {
    name: 'manpage',
    usage: 'ersatz manpage',
    about: 'Prints ersatz(1), every command with its options, in man(7) roff: ersatz manpage | man -l -',
    options: NONE,
    notes: 'Exit codes: 0 printed.',
    positionals: false,
  },
];

/** What the command table says of a command (commands/table.ts, which passes itself in: no import circle). */
interface Row {
  readonly name: string;
  readonly summary: string;
  readonly load: () => Promise<{ readonly SPEC?: CommandSpec; readonly SPECS?: readonly CommandSpec[] }>;
}

/** Every command with its option tables, loading each module. */
async function entries(commands: readonly Row[]): Promise<CommandEntry[]> {
  const out: CommandEntry[] = [];
  for (const c of commands) {
    const m = await c.load();
    const specs = m.SPECS ?? (m.SPEC === undefined ? [] : [m.SPEC]);
    // completion.ts holds both of its commands' tables: each row takes its own.
    out.push({ name: c.name, summary: c.summary, specs: specs.filter((s) => s.name.split(' ')[0] === c.name) });
  }
  return out;
}

/** `ersatz completion SHELL` (argv after the word). */
export async function completion(argv: string[], commands: readonly Row[]): Promise<ExitCode> {
  const args = parseSpec(SPECS[0]!, argv, 1);
  if (args === null) return Exit.OK;
  const shell = args.positionals[0];
  if (shell === undefined || !Object.hasOwn(SHELLS, shell)) throw new UsageError(`completion: name a shell: bash, zsh or fish`);
  process.stdout.write(SHELLS[shell as keyof typeof SHELLS](await entries(commands)));
  return Exit.OK;
}

/** `ersatz manpage`. */
export async function manpage(argv: string[], commands: readonly Row[], usage: string): Promise<ExitCode> {
  if (parseSpec(SPECS[1]!, argv, 0) === null) return Exit.OK;
  process.stdout.write(manPage(await entries(commands), VERSION, usage));
  return Exit.OK;
}
