// Capability numbers and what the process may hold, read without loading koffi: the CLI asks before it starts the
// pipeline's threads, ahead of everything native (see @ersatz/pipeline/prestart).
import { readFileSync } from 'node:fs';

/** Capability numbers (linux/capability.h). */
export const Cap = { NET_ADMIN: 12, NET_RAW: 13 } as const;

/**
 * Whether `cap` is in the permitted set (CapPrm) of `/proc/self/status` text: what the process holds or may raise.
 * `status` null, or without that line (not Linux): undefined, unknown.
 */
export function permits(cap: number, status: string | null = ownStatus()): boolean | undefined {
  const hex = status === null ? undefined : /^CapPrm:\s*([0-9a-f]+)$/im.exec(status)?.[1];
  return hex === undefined ? undefined : ((BigInt(`0x${hex}`) >> BigInt(cap)) & 1n) === 1n;
}

function ownStatus(): string | null {
  try {
    return readFileSync('/proc/self/status', 'utf8');
  } catch {
    return null;
  }
}
