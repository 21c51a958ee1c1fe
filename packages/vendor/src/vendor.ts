import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { fileURLToPath } from 'node:url';
import { AddressParseError, type Mac } from '@ersatz/wire';
import { VendorDataError } from './error.js';

/** What a lookup answers for an address whose U/L bit is set: no registry names its maker. */
export const LOCALLY_ADMINISTERED = 'locally administered';

/** How many assignments of each IEEE registry a table holds. */
export interface VendorCounts {
  /** MA-L (24-bit OUI) assignments. */
  readonly mal: number;
  /** MA-M (28-bit) assignments. */
  readonly mam: number;
  /** MA-S (36-bit; formerly OUI-36 and IAB) assignments. */
  readonly mas: number;
}

/** The table vendorOf uses, where it came from, and what loading it cost. */
export interface VendorDataInfo extends VendorCounts {
  /** The table file read (`oui.bin`, built from oui-data by this package's build). */
  readonly file: string;
  /** Wall time of read and index, in milliseconds. */
  readonly loadMs: number;
}

const PREFIX = /^(?:[0-9A-F]{6}|[0-9A-F]{7}|[0-9A-F]{9})$/;
const MAC_TEXT = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;
// The table file beside this module (the bundle copies it beside its chunks): see VendorTable.encode.
const TABLE_FILE = new URL('./oui.bin', import.meta.url);
const MAGIC = 'ersatzOUI1';
const HEADER_BYTES = 32; // MAGIC (10) + 2 padding + 5 × u32 counts (20)
const LE = endianness() === 'LE';
// Shared by every call: names are decoded one at a time, each on its first lookup.
const UTF8_IN = new TextDecoder();
const UTF8_OUT = new TextEncoder();

/** One registry: its prefixes (as numbers, ascending) and, per prefix, the index of its organisation's name. */
interface Registry {
  readonly keys: Float64Array;
  readonly names: Uint32Array;
}

/**
 * The IEEE MA-L, MA-M and MA-S assignments, for longest-prefix lookup: per registry a sorted array of prefixes (24,
 * 28 and 36 bits, exact in a double) searched by bisection, and the organisation names (the first line of each
 * record, ~31k distinct for ~54k prefixes) in one UTF-8 block, decoded on first use. Built from records shaped like
 * oui-data's (`{ "00000C": "Cisco Systems, Inc\n<postal address>", "C85CE27": …, "70B3D5F2F": … }`) by the build
 * (fromRecords, encode), and read at run time from that encoding (fromBinary): a few ms and ~1.4 MB, where reading
 * and indexing oui-data's 5.6 MB of JSON took ~0.3 s of CPU on every `ersatz scan`.
 */
export class VendorTable {
  readonly #mal: Registry;
  readonly #mam: Registry;
  readonly #mas: Registry;
  readonly #nameEnds: Uint32Array;
  readonly #nameBytes: Uint8Array;
  readonly #decoded: (string | undefined)[];

  private constructor(mal: Registry, mam: Registry, mas: Registry, nameEnds: Uint32Array, nameBytes: Uint8Array) {
    this.#mal = mal;
    this.#mam = mam;
    this.#mas = mas;
    this.#nameEnds = nameEnds;
    this.#nameBytes = nameBytes;
    this.#decoded = new Array<string | undefined>(nameEnds.length);
  }

  /** Indexes parsed records. Returns the table; throws VendorDataError (naming `source`) on a malformed key or entry. */
  static fromRecords(records: unknown, source: string): VendorTable {
    if (typeof records !== 'object' || records === null || Array.isArray(records)) {
      throw new VendorDataError(source, 'expected a JSON object of prefix → organisation');
    }
    const entries: [number, number][][] = [[], [], []]; // MA-L, MA-M, MA-S: [prefix, name index]
    const nameIndex = new Map<string, number>();
    for (const [prefix, record] of Object.entries(records)) {
      if (!PREFIX.test(prefix)) throw new VendorDataError(source, `key ${JSON.stringify(prefix)} is not a 6, 7 or 9 digit upper-case hex prefix`);
      if (typeof record !== 'string') throw new VendorDataError(source, `the entry for ${prefix} is not a string`);
      const end = record.indexOf('\n');
      const name = (end < 0 ? record : record.slice(0, end)).trim();
      let index = nameIndex.get(name);
      if (index === undefined) nameIndex.set(name, (index = nameIndex.size));
      entries[prefix.length === 6 ? 0 : prefix.length === 7 ? 1 : 2]!.push([Number.parseInt(prefix, 16), index]);
    }
    const registry = (list: [number, number][]): Registry => {
      list.sort((x, y) => x[0] - y[0]);
      return { keys: Float64Array.from(list, (e) => e[0]), names: Uint32Array.from(list, (e) => e[1]) };
    };
    const encoded = [...nameIndex.keys()].map((n) => UTF8_OUT.encode(n));
    const nameEnds = new Uint32Array(encoded.length);
    const nameBytes = new Uint8Array(encoded.reduce((n, e) => n + e.length, 0));
    let at = 0;
    encoded.forEach((e, i) => {
      nameBytes.set(e, at);
      nameEnds[i] = at += e.length;
    });
    return new VendorTable(registry(entries[0]!), registry(entries[1]!), registry(entries[2]!), nameEnds, nameBytes);
  }

  /** Reads and indexes an oui-data JSON file. Throws VendorDataError when it cannot be read, parsed or indexed. */
  static fromFile(file: string): VendorTable {
    let records: unknown;
    try {
      records = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new VendorDataError(file, (err as Error).message);
    }
    return VendorTable.fromRecords(records, file);
  }

  /**
   * The table as bytes for fromBinary: a header (MAGIC, then the MA-L, MA-M and MA-S counts, the name count and the
   * name bytes, u32), the three registries' prefixes (float64), their name indexes (u32), each name's end offset (u32)
   * and the names (UTF-8); little-endian, every section 8-byte aligned.
   */
  encode(): Uint8Array {
    const regs = [this.#mal, this.#mam, this.#mas];
    const layout = sections(regs.map((r) => r.keys.length), this.#nameEnds.length, this.#nameBytes.length);
    const out = new Uint8Array(layout.total);
    const dv = new DataView(out.buffer);
    UTF8_OUT.encodeInto(MAGIC, out);
    [...regs.map((r) => r.keys.length), this.#nameEnds.length, this.#nameBytes.length].forEach((v, i) => dv.setUint32(12 + 4 * i, v, true));
    let k = 0;
    for (const r of regs) {
      for (let i = 0; i < r.keys.length; i++, k++) {
        dv.setFloat64(layout.keys + 8 * k, r.keys[i]!, true);
        dv.setUint32(layout.names + 4 * k, r.names[i]!, true);
      }
    }
    this.#nameEnds.forEach((e, i) => dv.setUint32(layout.ends + 4 * i, e, true));
    out.set(this.#nameBytes, layout.bytes);
    return out;
  }

  /** A table from encode's bytes. Throws VendorDataError (naming `source`) when they are not such a table. */
  static fromBinary(bytes: Uint8Array, source: string): VendorTable {
    const bad = (why: string): VendorDataError => new VendorDataError(source, why);
    if (bytes.length < HEADER_BYTES || UTF8_IN.decode(bytes.subarray(0, MAGIC.length)) !== MAGIC) throw bad('not an ersatz vendor table');
    // Typed arrays over the file's own bytes need 8-byte alignment (and the host's byte order): copy when not so.
    const own = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
    const dv = new DataView(own.buffer, own.byteOffset, own.byteLength);
    const [mal, mam, mas, names, nameBytes] = [0, 1, 2, 3, 4].map((i) => dv.getUint32(12 + 4 * i, true)) as [number, number, number, number, number];
    const layout = sections([mal, mam, mas], names, nameBytes);
    if (layout.total !== own.length) throw bad(`${own.length} bytes where the header says ${layout.total}`);
    const n = mal + mam + mas;
    const f64 = (at: number, count: number): Float64Array => (LE ? new Float64Array(own.buffer, own.byteOffset + at, count) : Float64Array.from({ length: count }, (_, i) => dv.getFloat64(at + 8 * i, true)));
    const u32 = (at: number, count: number): Uint32Array => (LE ? new Uint32Array(own.buffer, own.byteOffset + at, count) : Uint32Array.from({ length: count }, (_, i) => dv.getUint32(at + 4 * i, true)));
    const keys = f64(layout.keys, n);
    const nameIdx = u32(layout.names, n);
    const registry = (from: number, count: number): Registry => ({ keys: keys.subarray(from, from + count), names: nameIdx.subarray(from, from + count) });
    return new VendorTable(registry(0, mal), registry(mal, mam), registry(mal + mam, mas), u32(layout.ends, names), own.subarray(layout.bytes, layout.bytes + nameBytes));
  }

  /** The number of assignments per registry. */
  get counts(): VendorCounts {
    return { mal: this.#mal.keys.length, mam: this.#mam.keys.length, mas: this.#mas.keys.length };
  }

  /**
   * The organisation `mac`'s block is assigned to, with vendorOf's rules (see there). Returns the name,
   * LOCALLY_ADMINISTERED, or null. Throws AddressParseError for text that is not `aa:bb:cc:dd:ee:ff`.
   */
  lookup(mac: Mac): string | null {
    if (isLocallyAdministered(mac)) return LOCALLY_ADMINISTERED;
    // Clearing the I/G bit maps a group address onto the assignment it was derived from.
    const mal = ((octet0(mac) & 0xfe) << 16) | (nibble(mac, 3) << 12) | (nibble(mac, 4) << 8) | (nibble(mac, 6) << 4) | nibble(mac, 7);
    const mam = mal * 16 + nibble(mac, 9);
    const mas = mam * 256 + nibble(mac, 10) * 16 + nibble(mac, 12);
    const index = find(this.#mas, mas) ?? find(this.#mam, mam) ?? find(this.#mal, mal);
    return index === undefined ? null : this.#name(index);
  }

  #name(index: number): string {
    const start = index === 0 ? 0 : this.#nameEnds[index - 1]!;
    return (this.#decoded[index] ??= UTF8_IN.decode(this.#nameBytes.subarray(start, this.#nameEnds[index])));
  }
}

/** The name index for `key` in `r`, by bisection; undefined when the registry does not list it. */
function find(r: Registry, key: number): number | undefined {
  let lo = 0;
  let hi = r.keys.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const k = r.keys[mid]!;
    if (k === key) return r.names[mid];
    if (k < key) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/** Where encode's sections start, and the whole length, for the given counts. */
function sections(counts: readonly number[], names: number, nameBytes: number): { keys: number; names: number; ends: number; bytes: number; total: number } {
  const n = counts.reduce((a, b) => a + b, 0);
  const align = (x: number): number => Math.ceil(x / 8) * 8;
  const keys = HEADER_BYTES;
  const nameIdx = align(keys + 8 * n);
  const ends = align(nameIdx + 4 * n);
  const bytes = align(ends + 4 * names);
  return { keys, names: nameIdx, ends, bytes, total: bytes + nameBytes };
}

// The table, loaded on first need and kept; a failure is kept too, so a sweep printing 65534 rows fails
// once rather than re-reading the file 65534 times.
let loaded: { readonly table: VendorTable; readonly info: VendorDataInfo } | undefined;
let failure: VendorDataError | undefined;

/**
 * The name of the organisation the IEEE Registration Authority assigned `mac`'s block to, by longest prefix:
 * MA-S (36 bits), then MA-M (28 bits), then MA-L (24 bits); within a block IEEE sub-assigned, an unlisted sub-block
 * answers `IEEE Registration Authority`, the MA-L holder. Returns `'locally administered'` (LOCALLY_ADMINISTERED) when
 * the U/L bit is set, without loading any data: randomised and virtual MACs (`02:…`, `da:…`), but also the broadcast
 * address and IPv6 multicast `33:33:…`, whose U/L bit is set too (and the 18 pre-1990s MA-L entries with it set, such
 * as 3Com's `02:60:8c`, since today that bit means local). A group (multicast) address is looked up with its I/G bit
 * cleared, as IEEE 802 derives an assignee's group addresses from its OUI: `01:00:5e:…` is IANA's, `01:00:0c:cc:cc:cc`
 * Cisco's. Returns null when no registry lists the prefix.
 *
 * The first call that needs the registries loads them (see loadVendorData); later calls are three bisections.
 * Throws AddressParseError (from @ersatz/wire) when `mac` is not the `aa:bb:cc:dd:ee:ff` text a Mac is, and
 * VendorDataError when the registry data cannot be loaded.
 */
export function vendorOf(mac: Mac): string | null {
  if (isLocallyAdministered(mac)) return LOCALLY_ADMINISTERED;
  return (loaded ?? load()).table.lookup(mac);
}

/**
 * Loads the registries now (vendorOf does it on first need) from the table this package's build made of oui-data's
 * (`oui.bin`, beside this module) and returns their sizes and the load time. Synchronous: a few milliseconds.
 * Throws VendorDataError.
 */
export function loadVendorData(): VendorDataInfo {
  return (loaded ?? load()).info;
}

/** Whether the registries are in memory: false until vendorOf or loadVendorData needed them. */
export function isVendorDataLoaded(): boolean {
  return loaded !== undefined;
}

function load(): NonNullable<typeof loaded> {
  if (failure) throw failure;
  const started = performance.now();
  const file = fileURLToPath(TABLE_FILE);
  try {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch (err) {
      throw new VendorDataError(file, (err as Error).message);
    }
    const table = VendorTable.fromBinary(bytes, file);
    loaded = { table, info: { ...table.counts, file, loadMs: performance.now() - started } };
    return loaded;
  } catch (err) {
    failure = err instanceof VendorDataError ? err : new VendorDataError(file, String(err));
    throw failure;
  }
}

/** Validates the MAC text (a cast can bypass Mac.parse) and tests its U/L bit. Throws AddressParseError. */
function isLocallyAdministered(mac: Mac): boolean {
  if (!MAC_TEXT.test(mac)) throw new AddressParseError('MAC address', mac, 'expected six hex octets like 02:00:5e:10:00:01');
  return (octet0(mac) & 0x02) !== 0;
}

function octet0(mac: string): number {
  return (nibble(mac, 0) << 4) | nibble(mac, 1);
}

// The value of the hex digit at `index` of checked MAC text: '0'..'9' are 0x30..0x39, 'a'..'f' 0x61..0x66, and
// `| 0x20` folds 'A'..'F' onto them.
function nibble(mac: string, index: number): number {
  const c = mac.charCodeAt(index);
  return c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57;
}
