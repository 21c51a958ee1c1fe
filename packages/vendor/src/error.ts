/** Base of every error this package throws: catch `VendorError` to catch them all. Facts live in fields. */
export class VendorError extends Error {
  override name = 'VendorError';
  /** Its message is written for the user (what went wrong, what to do): the CLI prints it as one line, exit 2. */
  get userFacing(): true {
    return true;
  }
}

/**
 * The IEEE registry data could not be loaded: the table file (`oui.bin`) is missing or damaged, or, when the build
 * makes it, oui-data's records do not look like `{ "00000C": "Cisco…\n<address>" }`:
 * `vendor data: /…/oui-data/index.json: key "00000Z" is not a 6, 7 or 9 digit hex prefix: reinstall …`.
 */
export class VendorDataError extends VendorError {
  override name = 'VendorDataError';
  constructor(
    /** The file that failed. */
    readonly source: string,
    readonly reason: string,
  ) {
    super(`vendor data: ${source}: ${reason}: reinstall ersatz (in a checkout: npm install, then npm run build)`);
  }
}

/** A vendor file of the user's (scan --ouifile, ERSATZ_OUI_FILE) cannot be read or has a line that is not an entry. */
export class VendorFileError extends VendorError {
  override name = 'VendorFileError';
  constructor(
    readonly file: string,
    /** 1-based; 0 when the file could not be read at all. */
    readonly line: number,
    readonly reason: string,
  ) {
    super(line > 0 ? `vendor file ${file}:${line}: ${reason}: each line is a MAC prefix (2 to 12 hex digits), a tab and a name` : `vendor file ${file}: ${reason}`);
  }
}
