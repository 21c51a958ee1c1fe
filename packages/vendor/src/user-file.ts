// A vendor file of the user's, in arp-scan's format (its ieee-oui.txt and mac-vendor.txt): one `PREFIX<TAB>Name`
// per line, PREFIX 2 to 12 hex digits in which ":", "-" and "." are ignored (so a whole MAC may be written as
// usual), blank lines and lines starting with "#" skipped. The longest prefix that matches wins.
import { VendorFileError } from './error.js';
import type { Mac } from '@ersatz/wire';

const PREFIX = /^[0-9a-f]{2,12}$/;

/** Names by MAC prefix (lower-case hex digits, no separators), longest first at lookup. */
export class VendorFile {
  readonly #names: Map<string, string>;
  readonly #lengths: number[];

  private constructor(names: Map<string, string>) {
    this.#names = names;
    this.#lengths = [...new Set([...names.keys()].map((p) => p.length))].sort((a, b) => b - a);
  }

  /**
   * Reads `text` (the contents of `file`, named in errors). Throws VendorFileError naming the first line that is not
   * a prefix and a name: `/etc/vendors.txt:3: "52540" is not 2 to 12 hex digits`.
   */
  static parse(text: string, file: string): VendorFile {
    const names = new Map<string, string>();
    text.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() === '' || line.startsWith('#')) return;
      const m = /^(\S+)\s+(\S.*?)\s*$/.exec(line);
      if (m === null) throw new VendorFileError(file, i + 1, `${JSON.stringify(line)} is not a MAC prefix, a tab and a name`);
      const prefix = m[1]!.replace(/[:.-]/g, '').toLowerCase();
      if (!PREFIX.test(prefix)) throw new VendorFileError(file, i + 1, `${JSON.stringify(m[1])} is not 2 to 12 hex digits`);
      // The first entry for a prefix stands; a later one for the same prefix is ignored.
      if (!names.has(prefix)) names.set(prefix, m[2]!);
    });
    return new VendorFile(names);
  }

  /** The number of prefixes. */
  get size(): number {
    return this.#names.size;
  }

  /** The name of the longest prefix of `mac` the file lists, or null. */
  lookup(mac: Mac): string | null {
    const hex = mac.replaceAll(':', '').toLowerCase();
    for (const n of this.#lengths) {
      const name = this.#names.get(hex.slice(0, n));
      if (name !== undefined) return name;
    }
    return null;
  }
}
