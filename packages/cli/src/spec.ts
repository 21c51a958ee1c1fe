// One table per command: node:util parseArgs reads its options from it, and --help, the man page and the bash, zsh
// and fish completions are all rendered from it, so none of them can drift from what the command accepts.

/** One option: parseArgs's own fields, and what the help, the man page and the completions say of it. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  readonly default?: string | boolean;
  /** The value's name in the help (`IF`, `MS`); string options only. */
  readonly arg?: string;
  /** What it does, one paragraph (the renderers wrap it; `\n` starts a new line). None: not listed (an alias). */
  readonly help?: string;
  /** What a shell offers for the value: file names, interface names, or these words. */
  readonly complete?: 'file' | 'interface' | readonly string[];
}

export type Options = Readonly<Record<string, OptionSpec>>;

export interface CommandSpec<O extends Options = Options> {
  /** The words after `ersatz`: `scan`, `neigh show`. */
  readonly name: string;
  /** The usage lines after "usage: " (later lines indented as the first). */
  readonly usage: string;
  /** What the command does: the text between the usage and the options (already wrapped). */
  readonly about: string;
  readonly options: O;
  /** After the options: notes and exit codes (already wrapped). */
  readonly notes: string;
  /** Whether the command takes words besides its options (targets, files). */
  readonly positionals: boolean;
}

/** Every command takes these two (parseCommand adds them). */
export const COMMON_OPTIONS = {
  verbose: { type: 'boolean', short: 'v', help: 'what ersatz found and how its pipeline fared, on stderr (also NODE_DEBUG=ersatz)' },
  help: { type: 'boolean', short: 'h', help: 'this text' },
} as const satisfies Options;

const WIDTH = 118;
/** The widest flag column; longer flags put their text two spaces after them. */
const MAX_FLAG_COLUMN = 24;

/** `  -I, --interface IF` */
function flagText(name: string, o: OptionSpec): string {
  return `  ${o.short === undefined ? '    ' : `-${o.short}, `}--${name}${o.arg === undefined ? '' : ` ${o.arg}`}`;
}

/** `text` wrapped to WIDTH, the first line starting at column `first`, the others at `indent`. */
function wrap(text: string, first: number, indent: number): string {
  const out: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    let room = out.length === 0 ? WIDTH - first : WIDTH - indent;
    for (const word of paragraph.split(' ')) {
      if (line !== '' && line.length + 1 + word.length > room) {
        out.push(line);
        line = word;
        room = WIDTH - indent;
      } else line = line === '' ? word : `${line} ${word}`;
    }
    out.push(line);
  }
  return out.join(`\n${' '.repeat(indent)}`);
}

/** The options listed by --help and the man page: the command's own, then -v and -h. */
export function listedOptions(spec: CommandSpec): [string, OptionSpec][] {
  return Object.entries({ ...spec.options, ...COMMON_OPTIONS }).filter(([, o]) => o.help !== undefined);
}

/** The --help text. */
export function renderHelp(spec: CommandSpec): string {
  const rows = listedOptions(spec).map(([name, o]) => [flagText(name, o), o.help!] as const);
  const column = Math.min(Math.max(...rows.map(([flags]) => flags.length)) + 2, MAX_FLAG_COLUMN);
  const options = rows.map(([flags, help]) => {
    const start = flags.length + 2 > column ? flags.length + 2 : column;
    return `${flags.padEnd(start)}${wrap(help, start, column)}`;
  });
  return `usage: ${spec.usage}\n\n${spec.about}\n\n${options.join('\n')}\n\n${spec.notes}`;
}
