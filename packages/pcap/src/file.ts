import { open } from 'node:fs/promises';
import { constants } from 'node:buffer';
import { PcapFileError } from './error.js';
import { readPcap, type PcapReader } from './reader.js';

export interface ReadFileOptions {
  /**
   * Load the file into a SharedArrayBuffer, so worker threads can read the records' bytes without a copy
   * (default false: an ordinary ArrayBuffer).
   */
  readonly shared?: boolean;
}

/**
 * Loads a whole capture file and returns its reader (records are views into one buffer, plain `Uint8Array`s).
 * Throws PcapFileError when the file cannot be read (missing, a directory, no permission, over the buffer limit),
 * and whatever `readPcap` throws for the header.
 */
export async function readPcapFile(path: string, opts: ReadFileOptions = {}): Promise<PcapReader> {
  return readPcap(await loadFile(path, opts.shared ?? false));
}

async function loadFile(path: string, shared: boolean): Promise<Uint8Array> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw fileError(path, err);
  }
  try {
    const { size } = await fh.stat();
    if (size > constants.MAX_LENGTH) throw new PcapFileError(path, 'EFBIG', `${size} bytes is over the ${constants.MAX_LENGTH} one buffer can hold`);
    const bytes = new Uint8Array(shared ? new SharedArrayBuffer(size) : new ArrayBuffer(size));
    // Read until the buffer is full or the file ends (it may shrink while we read: keep what was there).
    let got = 0;
    while (got < size) {
      const { bytesRead } = await fh.read(bytes, got, size - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got === size ? bytes : bytes.subarray(0, got);
  } catch (err) {
    throw err instanceof PcapFileError ? err : fileError(path, err);
  } finally {
    await fh.close();
  }
}

function fileError(path: string, err: unknown): PcapFileError {
  const e = err as NodeJS.ErrnoException;
  // Node's message is `ENOENT: no such file or directory, open 'x'`: keep the human part.
  const reason = /^[A-Z0-9]+: (.*?), \w+(?: '.*')?$/.exec(e.message ?? '')?.[1] ?? e.message ?? String(err);
  return new PcapFileError(path, e.code ?? 'EIO', reason);
}
