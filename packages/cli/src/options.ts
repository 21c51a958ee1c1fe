import { Ipv4, Mac } from '@ersatz/wire';
import { UsageError } from './exit.js';

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

/** A MAC address argument. */
export function macArgument(command: string, what: string, text: string | undefined): Mac {
  if (text === undefined) throw new UsageError(`${command}: missing ${what}: run 'ersatz ${command} --help'`);
  try {
    return Mac.parse(text);
  } catch (err) {
    throw new UsageError(`${command}: ${what}: ${(err as Error).message}`);
  }
}
