// Capabilities of the calling thread, for a process that gives up root but must keep one capability (resolve
// --inject keeps CAP_NET_ADMIN for its store). Linux only; both calls act on the calling thread alone.
import koffi from 'koffi';
import { libc } from './libc.js';
import { errnoText } from './index.js';

export { Cap } from './cap-set.js';

const PR_SET_KEEPCAPS = 8;
const LINUX_CAPABILITY_VERSION_3 = 0x20080522;

/** Keeps this thread's permitted capabilities across its next setuid from root (prctl PR_SET_KEEPCAPS). */
export function keepCapabilitiesAcrossSetuid(): void {
  if (libc().prctl(PR_SET_KEEPCAPS, 'unsigned long', 1, 'unsigned long', 0, 'unsigned long', 0, 'unsigned long', 0) !== 0) {
    throw new Error(`prctl(PR_SET_KEEPCAPS): ${errnoText(koffi.errno())}`);
  }
}

/** Makes `caps` this thread's whole effective and permitted sets (capset(2)); the inheritable set empty. */
export function limitCapabilities(caps: readonly number[]): void {
  const header = new Uint8Array(8);
  new DataView(header.buffer).setUint32(0, LINUX_CAPABILITY_VERSION_3, true); // pid 0: this thread
  // Two { effective, permitted, inheritable } records: capabilities 0–31, then 32–63.
  const data = new Uint8Array(24);
  const dv = new DataView(data.buffer);
  for (const cap of caps) {
    const at = cap < 32 ? 0 : 12;
    const bit = 1 << cap % 32;
    dv.setUint32(at, dv.getUint32(at, true) | bit, true);
    dv.setUint32(at + 4, dv.getUint32(at + 4, true) | bit, true);
  }
  if (libc().capset(header, data) !== 0) throw new Error(`capset: ${errnoText(koffi.errno())}`);
}
