// The commands: their words, one line each for `ersatz --help`, the completions and the man page, and how to load
// them. Loaded lazily so `ersatz decode` never pays for the worker pipeline and vice versa (cold start is measured).
import type { ExitCode } from '../exit.js';
import type { CommandSpec } from '../spec.js';

/** A subcommand: gets its own argv (after the subcommand word) and returns the exit code. */
export type Command = (argv: string[]) => Promise<ExitCode>;

/** What a command module exports: `run`, and its option table (`SPECS` for one with subcommands). */
export interface CommandModule {
  readonly run: Command;
  readonly SPEC?: CommandSpec;
  readonly SPECS?: readonly CommandSpec[];
}

export interface CommandRow {
  readonly name: string;
  /** What follows the word in the --help list (`CIDR|RANGE`). */
  readonly args: string;
  readonly summary: string;
  /** Touches no network (files and text only): runs on any platform. */
  readonly anywhere?: boolean;
  /**
   * Whether a run with these arguments opens a link (most do; `resolve --tier cache` reads the kernel's table): its
   * threads then start before the command loads (cold start). A guess from the words, before the command parses
   * them: a wrong one costs time only.
   */
  readonly opensLink?: (args: readonly string[]) => boolean;
  readonly load: () => Promise<CommandModule>;
}

const always = (): boolean => true;

/** Every value given to `--NAME` in `args` (`--NAME V` or `--NAME=V`), in order; undefined for one with none after it. */
function optionValues(args: readonly string[], name: string): (string | undefined)[] {
  const flag = `--${name}`;
  return args.flatMap((a, i) => (a === flag ? [args[i + 1]] : a.startsWith(`${flag}=`) ? [a.slice(flag.length + 1)] : []));
}

/** `--tier kernel` or `--tier cache` (the last one given wins, as in parseArgs): the kernel answers. */
function kernelTier(args: readonly string[]): boolean {
  const tier = optionValues(args, 'tier').at(-1);
  return tier === 'kernel' || tier === 'cache';
}

export const COMMANDS: readonly CommandRow[] = [
  { name: 'resolve', args: '[IP]', summary: 'the default: who has IP? (same as --target IP)', opensLink: (args) => !kernelTier(args), load: () => import('./resolve.js') },
  { name: 'scan', args: 'CIDR|RANGE', summary: 'sweep a subnet or range like arp-scan: every host that answers, once, with its vendor', opensLink: (args) => !kernelTier(args), load: () => import('./scan.js') },
  { name: 'arping', args: 'TARGET', summary: 'iputils arping: probes, RTTs, -D duplicate address detection, -U/-A gratuitous ARP', opensLink: always, load: () => import('./arping.js') },
  { name: 'ping', args: 'TARGET', summary: "ICMP echo in raw frames to the next hop's ARP-resolved MAC", opensLink: always, load: () => import('./ping.js') },
  { name: 'claim', args: 'ADDR -I IF', summary: 'RFC 5227: probe for ADDR, announce it if no other host holds it (--defend keeps it)', opensLink: always, load: () => import('./claim.js') },
  { name: 'neigh', args: 'show|add|del|flush|watch', summary: "the kernel's neighbour (ARP) cache through netlink or ioctl", load: () => import('./neigh.js') },
  { name: 'watch', args: '[-I IF]...', summary: 'arpwatch with verdicts: a station table in SQLite and one line per new, moved or spoofed station', opensLink: (args) => optionValues(args, 'replay').length === 0, load: () => import('./watch.js') },
  { name: 'stations', args: '', summary: 'the station table ersatz watch keeps', anywhere: true, load: () => import('./stations.js') },
  { name: 'decode', args: 'FILE...', summary: 'print the frames of pcap/pcapng files like tcpdump, or as JSON Lines', anywhere: true, load: () => import('./decode.js') },
  {
    name: 'completion',
    args: 'bash|zsh|fish',
    summary: 'a shell completion script for ersatz, on stdout',
    anywhere: true,
    load: async () => {
      const m = await import('./completion.js');
      return { run: (argv) => m.completion(argv, COMMANDS), SPECS: m.SPECS };
    },
  },
  {
    name: 'manpage',
    args: '',
    summary: 'the ersatz(1) man page, on stdout (roff)',
    anywhere: true,
    load: async () => {
      const m = await import('./completion.js');
      return { run: (argv) => m.manpage(argv, COMMANDS, USAGE), SPECS: m.SPECS };
    },
  },
];

/** The command column of `ersatz --help`: 20 wide, or the words and three spaces. */
const column = (words: string): string => (words.length < 20 ? words.padEnd(20) : `${words}   `);

/** `ersatz --help`. */
export const USAGE = `usage: ersatz [--target IP] [options]   resolve IP (default: the default gateway) to its MAC
       ersatz <command> [options]

commands:
${COMMANDS.map((c) => `  ${column(`${c.name} ${c.args}`.trimEnd())}${c.summary}`).join('\n')}

Run 'ersatz help <command>' (or 'ersatz <command> --help') for a command's options; --version (-V) prints the version.
Exit codes: 0 done, 1 no reply (or: address taken, nothing found), 2 usage or environment error
(bad argument, unknown interface, missing CAP_NET_RAW/CAP_NET_ADMIN), 70 internal error, 130 interrupted
(SIGINT), 143 stopped by SIGTERM (arping and ping: the usual status after the summary, as iputils, for both).`;
