import { Exit, UsageError, type ExitCode } from './exit.js';
import { isParseArgsError } from './options.js';
import { VERSION } from './version.js';

export { Exit, UsageError, type ExitCode } from './exit.js';
export { parseOptions } from './options.js';
export { compileFormat, type HostFields } from './format.js';

/** A subcommand: gets its own argv (after the subcommand word) and returns the exit code. */
export type Command = (argv: string[]) => Promise<ExitCode>;

// Loaded lazily so `ersatz decode` never pays for the worker pipeline and vice versa (cold start is measured).
const resolveCommand = () => import('./commands/resolve.js');
const commands: Record<string, () => Promise<{ run: Command }>> = {
  resolve: resolveCommand,
  decode: () => import('./commands/decode.js'),
  neigh: () => import('./commands/neigh.js'),
  scan: () => import('./commands/scan.js'),
  arping: () => import('./commands/arping.js'),
  ping: () => import('./commands/ping.js'),
  claim: () => import('./commands/claim.js'),
};

/** Where the commands that touch the network run (the others stop with one line before loading anything native). */
const SUPPORTED: readonly NodeJS.Platform[] = ['linux', 'win32'];

const USAGE = `usage: ersatz [--target IP] [options]   resolve IP (default: the default gateway) to its MAC
       ersatz <command> [options]

commands:
  resolve [IP]        the default: who has IP? (same as --target IP)
  scan CIDR|RANGE     sweep a subnet or range like arp-scan: every host that answers, once, with its vendor
  arping TARGET       iputils arping: probes, RTTs, -D duplicate address detection, -U/-A gratuitous ARP
  ping TARGET         ICMP echo in raw frames to the next hop's ARP-resolved MAC
  claim ADDR -I IF    RFC 5227: probe for ADDR, announce it if no other host holds it (--defend keeps it)
  neigh show|add|del|flush|watch   the kernel's neighbour (ARP) cache through netlink or ioctl
  decode FILE...      print the frames of pcap/pcapng files like tcpdump, or as JSON Lines

Run 'ersatz help <command>' (or 'ersatz <command> --help') for a command's options; --version (-V) prints the version.
Exit codes: 0 done, 1 no reply (or: address taken, nothing found), 2 usage or environment error
(bad argument, unknown interface, missing CAP_NET_RAW/CAP_NET_ADMIN), 70 internal error, 130 interrupted
(SIGINT), 143 stopped by SIGTERM (arping and ping: the usual status after the summary, as iputils, for both).`;

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
    const load = bare ? resolveCommand : Object.hasOwn(commands, first) ? commands[first] : undefined; // not `ersatz constructor`
    if (!load) throw new UsageError(`unknown command ${JSON.stringify(first)}: run 'ersatz --help'`);
    const args = bare ? argv : rest;
    if (!SUPPORTED.includes(process.platform) && first !== 'decode' && !args.includes('--help') && !args.includes('-h')) {
      throw new UsageError(`this is ${process.platform}: ersatz sends and captures on Linux, and on Windows with Npcap; 'ersatz decode' reads capture files anywhere`);
    }
    return await (await load()).run(args);
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
  process.stderr.write(`ersatz: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return Exit.SOFTWARE;
}
