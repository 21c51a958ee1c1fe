// MAC → vendor name for the commands that print one (scan, watch).
import { loadVendorData, vendorOf, type VendorFile } from '@ersatz/vendor';
import type { Mac } from '@ersatz/wire';

/**
 * MAC → vendor name: the user's file first (`ours`), then the IEEE registry, loaded now so a run never stalls on it.
 * When the registry cannot be loaded, one line on stderr and only the user's names (nothing else needs them).
 */
export function vendorLookup(command: string, ours: VendorFile | null = null): (mac: Mac) => string | null {
  let registry: (mac: Mac) => string | null;
  try {
    loadVendorData();
    registry = vendorOf;
  } catch (err) {
    process.stderr.write(`ersatz: ${command}: vendor names unavailable: ${(err as Error).message}\n`);
    registry = () => null;
  }
  return ours === null ? registry : (mac) => ours.lookup(mac) ?? registry(mac);
}
