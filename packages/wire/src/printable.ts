import { Ipv4 } from './address.js';
import { colonHex } from './format.js';

// Keys whose number values are IPv4 addresses in the results and events ersatz emits (ArpRepr, the observations,
// the scan/arping/ping/claim events, neighbour entries). An Ipv4 is a plain number at run time, so the key is the
// only thing that says how to print it.
const IPV4_KEYS = new Set(['ip', 'senderIp', 'targetIp', 'src', 'dst', 'from', 'gateway', 'nextHop', 'source', 'target', 'quotedSrc', 'quotedDst', 'previousIps']);

/**
 * A result or event as plain JSON values: IPv4 numbers as dotted text, `…Ns` times as `…Ms` numbers (fractional
 * ms; null stays null), other bigints as decimal text, bytes as colon-separated hex; nested objects and arrays the same way.
 */
export function printableValue(value: unknown, key = ''): unknown {
  switch (typeof value) {
    case 'number':
      return IPV4_KEYS.has(key) && Number.isInteger(value) ? Ipv4.format(value as Ipv4) : value;
    case 'bigint':
      return key.endsWith('Ns') ? Number(value) / 1e6 : String(value);
    case 'object': {
      if (value === null) return null;
      if (value instanceof Uint8Array) return colonHex(value);
      if (Array.isArray(value)) return value.map((v: unknown) => printableValue(v, key));
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        if (k.endsWith('Ns') && (typeof v === 'bigint' || typeof v === 'number' || v === null)) out[`${k.slice(0, -2)}Ms`] = v === null ? null : Number(v) / 1e6;
        else out[k] = printableValue(v, k);
      }
      return out;
    }
    default:
      return value;
  }
}

// Shared by every printable value: `JSON.stringify` and `console.log` show the text forms, while the properties keep
// the branded numbers and bigints that code compares and computes with. Inherited, so a printable value still has
// exactly its own fields (deep equality with a plain object holds) and costs one prototype link per value.
const PRINTABLE: object = Object.freeze({
  toJSON(this: object): unknown {
    return printableValue(this);
  },
  [Symbol.for('nodejs.util.inspect.custom')](this: object, _depth: number, options: object, inspect: (v: unknown, o: object) => string): string {
    return inspect(printableValue(this), options);
  },
});

/** Gives `value` the printable prototype (see printableValue) and returns it. For fresh plain objects only. */
export function printable<T extends object>(value: T): T {
  return Object.setPrototypeOf(value, PRINTABLE) as T;
}
