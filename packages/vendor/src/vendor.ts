import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
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
  /** The oui-data file read. */
  readonly file: string;
  /** Wall time of read, parse and index, in milliseconds. */
  readonly loadMs: number;
}

const DATA_PACKAGE = 'oui-data';
const PREFIX = /^(?:[0-9A-F]{6}|[0-9A-F]{7}|[0-9A-F]{9})$/;
const MAC_TEXT = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;

/**
 * The IEEE MA-L, MA-M and MA-S assignments, indexed for longest-prefix lookup. Built from records shaped like
 * oui-data's (`{ "00000C": "Cisco Systems, Inc\n<postal address>", "C85CE27": …, "70B3D5F2F": … }`); only each
 * organisation's name (the first line) is kept.
 */
export class VendorTable {
  private constructor(
    // One map per registry, keyed by the prefix as a number (24, 28 and 36 bits: all exact in a double).
    private readonly mal: ReadonlyMap<number, string>,
    private readonly mam: ReadonlyMap<number, string>,
    private readonly mas: ReadonlyMap<number, string>,
  ) {}

  /** Indexes parsed records. Returns the table; throws VendorDataError (naming `source`) on a malformed key or entry. */
  static fromRecords(records: unknown, source: string): VendorTable {
    if (typeof records !== 'object' || records === null || Array.isArray(records)) {
      throw new VendorDataError(source, 'expected a JSON object of prefix → organisation');
    }
    const mal = new Map<number, string>();
    const mam = new Map<number, string>();
    const mas = new Map<number, string>();
    // ~54k entries share ~31k names. Interning matters for memory: a name sliced out of its record keeps the whole
    // record (postal address included) alive in V8, so one slice per distinct name holds ~5.5 MiB of heap where one
    // per entry held ~13 MiB (copying each name out would save ~2 MiB more, at a slower load).
    const names = new Map<string, string>();
    for (const [prefix, record] of Object.entries(records)) {
      if (!PREFIX.test(prefix)) throw new VendorDataError(source, `key ${JSON.stringify(prefix)} is not a 6, 7 or 9 digit upper-case hex prefix`);
      if (typeof record !== 'string') throw new VendorDataError(source, `the entry for ${prefix} is not a string`);
      const end = record.indexOf('\n');
      const line = (end < 0 ? record : record.slice(0, end)).trim();
      let name = names.get(line);
      if (name === undefined) names.set(line, (name = line));
      const value = Number.parseInt(prefix, 16);
      (prefix.length === 6 ? mal : prefix.length === 7 ? mam : mas).set(value, name);
    }
    return new VendorTable(mal, mam, mas);
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

  /** The number of assignments per registry. */
  get counts(): VendorCounts {
    return { mal: this.mal.size, mam: this.mam.size, mas: this.mas.size };
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
    return this.mas.get(mas) ?? this.mam.get(mam) ?? this.mal.get(mal) ?? null;
  }
}

// The oui-data table, loaded on first need and kept; a failure is kept too, so a sweep printing 65534 rows fails
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
 * The first call that needs the registries loads them (see loadVendorData); later calls are a few map lookups.
 * Throws AddressParseError (from @ersatz/wire) when `mac` is not the `aa:bb:cc:dd:ee:ff` text a Mac is, and
 * VendorDataError when the registry data cannot be loaded.
 */
export function vendorOf(mac: Mac): string | null {
  if (isLocallyAdministered(mac)) return LOCALLY_ADMINISTERED;
  return (loaded ?? load()).table.lookup(mac);
}

/**
 * Loads the registries from the oui-data package now (vendorOf does it on first need) and returns their sizes and
 * the load time. Synchronous: it blocks the thread for the read and parse (a few hundred ms on a busy machine), so
 * call it before timing-sensitive work if vendor names will be wanted. Throws VendorDataError.
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
  let file = DATA_PACKAGE;
  try {
    try {
      file = createRequire(import.meta.url).resolve(DATA_PACKAGE);
    } catch {
      throw new VendorDataError(DATA_PACKAGE, 'the package is not installed');
    }
    // Read and parse the file rather than require() it: require's cache would keep the whole parsed registry, every
    // postal address included (~10 MiB of heap), alive for the life of the process.
    const table = VendorTable.fromFile(file);
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
