// scan --format: arp-scan's output template. `${field}` or `${field;width}` (right-aligned in `width` columns, left
// with a negative width; a longer value is never cut), `\n`, `\r`, `\t`, and `\` before any other character to take
// it as it is (`\$`, `\\`). Everything else is printed verbatim.
import { UsageError } from './exit.js';

/** What a host line can show. Empty strings where arp-scan prints nothing (no DUP, no proxy, no VLAN). */
export interface HostFields {
  readonly ip: string;
  readonly mac: string;
  /** The Ethernet source when it differs from `mac` (a proxy), else ''. */
  readonly hdrmac: string;
  readonly vendor: string;
  /** The 802.1Q VLAN ID of the reply, else ''. */
  readonly vlan: string;
  /** The how-many-th MAC for this IP when more than one answered, else ''. */
  readonly dup: string;
  /** Milliseconds, three decimals. */
  readonly rtt: string;
}

// arp-scan's field names (case-insensitive) that ersatz can fill. `framing` and `proto` are always empty here, as
// arp-scan leaves them for Ethernet II and IPv4, the only replies ersatz takes; `name` (its --resolve) and
// `padding` are not kept, and so refused rather than printed empty.
const FIELDS: Record<string, (h: HostFields) => string> = {
  ip: (h) => h.ip,
  mac: (h) => h.mac,
  hdrmac: (h) => h.hdrmac,
  vendor: (h) => h.vendor,
  vlan: (h) => h.vlan,
  dup: (h) => h.dup,
  rtt: (h) => h.rtt,
  framing: () => '',
  proto: () => '',
};

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t' };

/** Compiles `template` into a function that writes one host. Throws UsageError naming what is wrong with it. */
export function compileFormat(template: string): (h: HostFields) => string {
  const parts: ((h: HostFields) => string)[] = [];
  let text = '';
  const flush = (): void => {
    if (text === '') return;
    const verbatim = text;
    parts.push(() => verbatim);
    text = '';
  };
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c === '\\' && i + 1 < template.length) {
      const next = template[++i]!;
      text += ESCAPES[next] ?? next;
    } else if (c === '$' && template[i + 1] === '{') {
      const end = template.indexOf('}', i);
      if (end < 0) throw new UsageError(`scan: --format: "\${" at ${i + 1} has no closing "}"`);
      const [name = '', width, ...rest] = template.slice(i + 2, end).split(';');
      const key = name.toLowerCase();
      const field = Object.hasOwn(FIELDS, key) ? FIELDS[key] : undefined; // not `${constructor}` from the prototype
      if (field === undefined) throw new UsageError(`scan: --format: no field \${${name}}: choose ${Object.keys(FIELDS).join(', ')}`);
      if (rest.length > 0 || (width !== undefined && !/^-?\d+$/.test(width))) throw new UsageError(`scan: --format: \${${name};${[width, ...rest].join(';')}}: the width is a whole number, negative to align left`);
      flush();
      const w = width === undefined ? 0 : Number(width);
      parts.push(w === 0 ? field : w > 0 ? (h) => field(h).padStart(w) : (h) => field(h).padEnd(-w));
      i = end;
    } else text += c;
  }
  flush();
  return (h) => parts.map((p) => p(h)).join('');
}
