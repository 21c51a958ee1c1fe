import { parseArgs, type ParseArgsConfig } from 'node:util';
import { Ipv4, Mac } from '@ersatz/wire';
import { UsageError } from './exit.js';
import { beVerbose } from './verbose.js';
import { COMMON_OPTIONS, renderHelp, type CommandSpec, type Options } from './spec.js';

/** Whether `err` is one of node:util parseArgs's own errors (an unknown option, a missing value). */
export function isParseArgsError(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

/** parseArgs with strict checking; its errors become one-line usage errors naming the command. */
export function parseOptions<T extends Omit<ParseArgsConfig, 'args' | 'strict'>>(command: string, argv: string[], config: T): ReturnType<typeof parseArgs<T & { args: string[]; strict: true }>> {
  try {
    return parseArgs({ ...config, args: argv, strict: true as const });
  } catch (err) {
    if (isParseArgsError(err)) throw new UsageError(`${command}: ${parseArgsText((err as Error).message)}: run 'ersatz ${command} --help'`);
    throw err;
  }
}

/**
 * parseArgs's message on one line: its first, and for a value that starts with a dash (`-c -1`: "argument is
 * ambiguous") its own way to write one, which the first line alone leaves out.
 */
function parseArgsText(message: string): string {
  const [first = message, ...rest] = message.split('\n');
  const how = rest.find((line) => line.startsWith('To specify'));
  const bare = (line: string): string => line.replace(/\.$/, '');
  return how === undefined ? bare(first) : `${bare(first)} (${how[0]!.toLowerCase()}${bare(how.slice(1))})`;
}

/**
 * Every command's prologue: parseOptions with `-h/--help` and `-v/--verbose` (the trace on stderr, see verbose.ts)
 * added; with --help, prints `help` and returns null (the command returns Exit.OK). With `maxPositionals`, one more
 * is a usage error naming it.
 */
function parseCommand<T extends Omit<ParseArgsConfig, 'args' | 'strict'>>(
  command: string,
  argv: string[],
  help: string,
  config: T,
  maxPositionals?: number,
): ReturnType<typeof parseArgs<T & { args: string[]; strict: true }>> | null {
  const parsed = parseOptions(command, argv, { ...config, options: { ...config.options, ...COMMON_OPTIONS } });
  if ((parsed.values as { verbose?: boolean }).verbose === true) beVerbose();
  if ((parsed.values as { help?: boolean }).help === true) {
    process.stdout.write(`${help}\n`);
    return null;
  }
  const extra = maxPositionals === undefined ? undefined : parsed.positionals[maxPositionals];
  if (extra !== undefined) throw new UsageError(`${command}: unexpected argument ${JSON.stringify(extra)}: run 'ersatz ${command} --help'`);
  return parsed as ReturnType<typeof parseArgs<T & { args: string[]; strict: true }>>;
}

/** A whole number option within [min, max]; `fallback` when absent. Throws UsageError naming the option. */
export function intOption(command: string, name: string, text: string | undefined, min: number, max: number, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^[+-]?\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${command}: --${name} takes a whole number from ${min} to ${max}, not ${JSON.stringify(text)}`);
  }
  return n;
}

/** A decimal option within [min, max] (fractional seconds, rates); `fallback` when absent. */
export function numberOption(command: string, name: string, text: string | undefined, min: number, max: number, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`${command}: --${name} takes a number from ${min} to ${max}, not ${JSON.stringify(text)}`);
  }
  return n;
}

/** An IPv4 address argument; the parse error already says what is wrong, prefixed with the command. */
export function ipArgument(command: string, what: string, text: string | undefined): Ipv4 {
  if (text === undefined) throw new UsageError(`${command}: missing ${what}: run 'ersatz ${command} --help'`);
  try {
    return Ipv4.parse(text);
  } catch (err) {
    throw new UsageError(`${command}: ${what}: ${(err as Error).message}`);
  }
}

/**
 * A target given as an IPv4 address or a host name, as iputils arping and ping take it: a name goes to the system
 * resolver (getaddrinfo: /etc/hosts, then DNS), IPv4 only. Returns the address and the name as typed (null for an
 * address). Throws UsageError `arping: cannot look up host NAME (ENOTFOUND): …`.
 */
export async function hostArgument(command: string, what: string, text: string | undefined): Promise<{ readonly ip: Ipv4; readonly name: string | null }> {
  if (text === undefined) throw new UsageError(`${command}: missing ${what}: run 'ersatz ${command} --help'`);
  // Anything with only digits and dots is meant as an address: say what is wrong with it, do not look it up.
  if (/^[\d.]+$/.test(text)) return { ip: ipArgument(command, what, text), name: null };
  // RFC 1123 host names: letters, digits, hyphens, dots (and the underscores some LANs use).
  if (!/^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?\.?$/.test(text)) {
    throw new UsageError(`${command}: ${what}: ${JSON.stringify(text)} is neither an IPv4 address nor a host name`);
  }
  // Loaded here, not at start-up: a one-shot resolve of an address should not pay for the resolver module.
  const { lookup } = await import('node:dns/promises');
  try {
    const { address } = await lookup(text, { family: 4 });
    return { ip: Ipv4.parse(address), name: text };
  } catch (err) {
    const code = (err as { code?: string }).code ?? (err as Error).message;
    throw new UsageError(`${command}: cannot look up host ${text} (${code}): check the name, or give its IPv4 address`);
  }
}

/** A MAC address argument. */
export function macArgument(command: string, what: string, text: string | undefined): Mac {
  if (text === undefined) throw new UsageError(`${command}: missing ${what}: run 'ersatz ${command} --help'`);
  try {
    return Mac.parse(text);
  } catch (err) {
    throw new UsageError(`${command}: ${what}: ${(err as Error).message}`);
  }
}

/** parseCommand for a command described by a CommandSpec: its options, and --help rendered from them. */
export function parseSpec<O extends Options>(spec: CommandSpec<O>, argv: string[], maxPositionals?: number): ReturnType<typeof parseArgs<{ options: O; allowPositionals: boolean; args: string[]; strict: true }>> | null {
  return parseCommand(spec.name, argv, renderHelp(spec), { allowPositionals: spec.positionals, options: spec.options }, maxPositionals);
}

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration such as `500ms`, `30s`, `5m`, `2h`, `1d` (a bare number is seconds), in ms; `fallback` when absent. */
export function durationOption(command: string, name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  const ms = m === null ? NaN : Number(m[1]) * DURATION_UNITS[m[2] ?? 's']!;
  if (!(ms > 0) || !Number.isSafeInteger(Math.round(ms))) throw new UsageError(`${command}: --${name} takes a duration like 30s, 5m or 2h, not ${JSON.stringify(text)}`);
  return Math.round(ms);
}

/**
 * Whether `text` names an IPv6 address (with or without a zone) rather than an IPv4 address or a host name. A colon
 * after a dotted quad is arp-scan's `a.b.c.d:netmask`, not IPv6 (whose dotted quad can only come last: ::ffff:a.b.c.d).
 */
export const isIpv6Text = (text: string | undefined): text is string => {
  const colon = text?.indexOf(':') ?? -1;
  return colon >= 0 && !text!.slice(0, colon).includes('.');
};
