// A module of its own that loads nothing: the CLI's entry exports it (for the tests) without loading the network
// code that the commands using it load.

/** Bytes a LineWriter gathers before it writes them out mid-batch. */
const CHUNK_BYTES = 64 * 1024;

/**
 * Lines for stdout, gathered while the event loop is busy and written together once it turns: a sweep answering
 * thousands of hosts a second makes one write per batch of replies instead of one per host, and every line still
 * appears as soon as the batch that produced it has been handled. Each line is encoded into the chunk as it comes:
 * joining the batch's strings and encoding the result cost a cold /16 sweep with --json twice as much (65 534 lines:
 * ~150 ms against ~80, measured).
 */
export class LineWriter {
  #chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  #used = 0;
  #scheduled: NodeJS.Immediate | undefined;

  /** `beforeWrite` runs right before each write: a progress line on the same terminal erases itself there. */
  constructor(private readonly beforeWrite?: () => void) {}

  line(text: string): void {
    const at = this.room(text.length * 3); // UTF-8 takes at most 3 bytes per UTF-16 unit
    this.end(at + this.#chunk.write(text, at));
  }

  /**
   * Makes room in `chunk` for a line of at most `most` bytes (its newline aside), written there in place by the
   * caller (HostJson), and returns where it starts; end() ends it.
   */
  room(most: number): number {
    if (this.#used + most + 1 > this.#chunk.length) {
      this.flush();
      if (most + 1 > this.#chunk.length) this.#chunk = Buffer.allocUnsafe(most + 1);
    }
    return this.#used;
  }

  /** Where room() made room: valid until the next room() or line(). */
  get chunk(): Buffer {
    return this.#chunk;
  }

  /** Ends the line written in `chunk` up to `at`. */
  end(at: number): void {
    this.#chunk[at] = 0x0a;
    this.#used = at + 1;
    this.#scheduled ??= setImmediate(() => this.flush());
  }

  /** Writes what is pending now (call before exiting). */
  flush(): void {
    clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    if (this.#used === 0) return;
    const out = this.#chunk.subarray(0, this.#used);
    this.#used = 0;
    this.beforeWrite?.();
    process.stdout.write(out);
    // Written through (a file, a terminal, a pipe with room): the chunk serves the next lines. A pipe that was full
    // still holds `out`, so the next lines go to a fresh chunk. Copying every write instead cost a cold /16 sweep
    // with --json 13–24 ms (interleaved runs).
    if (process.stdout.writableLength > 0) this.#chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  }
}
