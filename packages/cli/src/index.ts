import { prestartPipeline } from '@ersatz/pipeline/prestart';
import { Exit, UsageError, type ExitCode } from './exit.js';
import { isParseArgsError } from './options.js';
import { rawFramesDenied } from './privileges.js';
import { mapStack } from './stack.js';
import { mark } from './verbose.js';
import { VERSION } from './version.js';
import { COMMANDS, USAGE } from './commands/table.js';

export { Exit, UsageError, type ExitCode } from './exit.js';
export { parseOptions } from './options.js';
export { compileFormat, type HostFields } from './format.js';
export { HostJson, writeMs } from './host-json.js';
export { LineWriter } from './line-writer.js';

export type { Command } from './commands/table.js';

/** Where the commands that touch the network run (the others stop with one line before loading anything native). */
const SUPPORTED: readonly NodeJS.Platform[] = ['linux', 'win32'];

/** Runs the CLI with `argv` (no node/script prefix) and returns the exit code; never throws. */
export async function main(argv: string[]): Promise<ExitCode> {
  // `ersatz scan ... | head`: the reader left, so there is no one to report to; stop quietly, as SIGPIPE would.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(Exit.OK);
    throw err;
  });
  try {
    // As iputils arping and ping: --version (-V) anywhere before '--', with any command, prints the version.
    const options = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
    if (options.includes('--version') || options.includes('-V')) {
      process.stdout.write(`ersatz ${VERSION}\n`);
      return Exit.OK;
    }
    const [word, ...more] = argv;
    // `ersatz help [COMMAND]` is `ersatz [COMMAND] --help`.
    const [first, ...rest] = word === 'help' && more.length > 0 ? [more[0]!, '--help'] : [word, ...more];
    if (first === '--help' || first === '-h' || first === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return Exit.OK;
    }
    // No subcommand word: the seed's behaviour, resolve --target (or the default gateway).
    const bare = first === undefined || first.startsWith('-');
    const command = COMMANDS.find((c) => c.name === (bare ? 'resolve' : first));
    if (!command) throw new UsageError(`unknown command ${JSON.stringify(first)}: run 'ersatz --help'`);
    const args = bare ? argv : rest;
    const help = args.includes('--help') || args.includes('-h');
    if (!SUPPORTED.includes(process.platform) && !command.anywhere && !help) {
      throw new UsageError(`this is ${process.platform}: ersatz sends and captures on Linux, and on Windows with Npcap; 'ersatz decode' reads capture files anywhere`);
    }
    // Node starting the three threads is much of a one-shot command's time: they start while the command loads
    // (not when the process cannot open raw frames: the command then asks the kernel, or stops).
    if (!help && command.opensLink?.(args) && !rawFramesDenied()) {
      prestartPipeline();
      mark('threads started');
    }
    const loaded = await command.load();
    mark('command loaded');
    return await loaded.run(args);
  } catch (err) {
    return report(err);
  }
}

// The libraries mark errors whose message is written for the user (what went wrong and what to do): they print as
// one line; anything else reaching the top is a bug and prints its stack. A getter on the class, so the mark needs
// no import of any library here and travels with every subclass.
const marked = (err: Error, mark: 'userFacing' | 'noReply'): boolean => (err as Error & Partial<Record<typeof mark, unknown>>)[mark] === true;

/** Prints an error the way the user should see it and returns its exit code. */
export function report(err: unknown): ExitCode {
  if (err instanceof UsageError) {
    process.stderr.write(`ersatz: ${err.message}\n`);
    return err.code;
  }
  if (err instanceof Error) {
    // "The network said no" rather than "you asked wrong" (a contested answer is no answer either).
    if (marked(err, 'noReply')) {
      process.stderr.write(`ersatz: ${err.message}\n`);
      return Exit.NO_REPLY;
    }
    if (isParseArgsError(err) || marked(err, 'userFacing')) {
      process.stderr.write(`ersatz: ${err.message}\n`);
      return Exit.USAGE;
    }
  }
  process.stderr.write(`ersatz: internal error: ${err instanceof Error ? mapStack(err.stack ?? err.message) : String(err)}\n`);
  return Exit.SOFTWARE;
}
