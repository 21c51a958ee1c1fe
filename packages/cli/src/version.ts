import { createRequire } from 'node:module';

// Set by scripts/bundle.mjs from the root package.json; unbundled (tests of this package), read from that file.
declare const ERSATZ_VERSION: string | undefined;

/** The version of ersatz, as package.json says (one source). */
export const VERSION: string =
  typeof ERSATZ_VERSION === 'string' ? ERSATZ_VERSION : (createRequire(import.meta.url)('../../../package.json') as { version: string }).version;
