import { WinError } from './layout.js';
import { BufferTooSmallError, ipHelperError } from './error.js';

/** What one try of a size-probing call answered: its return code, the size it asks for, and its result on success. */
export interface SizedAnswer<T> {
  readonly code: number;
  /** The size the call wrote back through its size pointer (the size needed, on overflow). */
  readonly size: number;
  /** Present when code is NO_ERROR. */
  readonly value?: T;
}

export interface GrowOptions {
  /** First buffer size; Microsoft suggests 15 KB for GetAdaptersAddresses so one call usually suffices. */
  readonly initialSize?: number;
  /** Calls before giving up: the list may grow between two calls, so one retry is not always enough. */
  readonly attempts?: number;
}

/**
 * Runs a call that reports ERROR_BUFFER_OVERFLOW or ERROR_INSUFFICIENT_BUFFER with the size it needs:
 * tries `initialSize` (default 15000), then the size asked for (or double the last when the answer is no bigger,
 * so a stale answer cannot spin), at most `attempts` (default 4) times. `call` allocates `size` bytes, calls, and frees on failure.
 * Returns the value of the successful call, or null when the call answers ERROR_NO_DATA (nothing to list).
 * Throws BufferTooSmallError when every try overflowed, the mapped IpHelperError for any other code.
 */
export function callGrowing<T>(subject: string, api: string, call: (size: number) => SizedAnswer<T>, opts: GrowOptions = {}): T | null {
  const attempts = opts.attempts ?? 4;
  let size = opts.initialSize ?? 15_000;
  let asked = 0;
  for (let i = 0; i < attempts; i++) {
    const answer = call(size);
    if (answer.code === WinError.NO_ERROR) {
      if (answer.value === undefined) throw new Error(`${api} answered NO_ERROR without a value`); // a bug in the caller's `call`
      return answer.value;
    }
    if (answer.code === WinError.ERROR_NO_DATA) return null;
    if (answer.code !== WinError.ERROR_BUFFER_OVERFLOW && answer.code !== WinError.ERROR_INSUFFICIENT_BUFFER) throw ipHelperError(subject, api, answer.code);
    asked = answer.size;
    size = asked > size ? asked : size * 2;
  }
  throw new BufferTooSmallError(subject, api, WinError.ERROR_BUFFER_OVERFLOW, `buffer still too small after ${attempts} tries (the last asked for ${asked} bytes): the list kept changing while ersatz read it, try again`);
}
