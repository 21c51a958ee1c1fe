// The build's second step (after tsc): oui-data's registries, as installed, indexed and written to dist/oui.bin,
// which vendorOf reads at run time (VendorTable.encode/fromBinary). Prints what it wrote.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { VendorTable } from '../dist/vendor.js';

const source = createRequire(import.meta.url).resolve('oui-data');
const table = VendorTable.fromFile(source);
const bytes = table.encode();
const out = fileURLToPath(new URL('../dist/oui.bin', import.meta.url));
writeFileSync(out, bytes);
const { mal, mam, mas } = table.counts;
console.log(`vendor table: ${out}: MA-L ${mal}, MA-M ${mam}, MA-S ${mas}, ${bytes.length} bytes, from ${source}`);
