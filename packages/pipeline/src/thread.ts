import type { Worker } from 'node:worker_threads';
import type * as Comlink from 'comlink';
import { WorkerExitError, WorkerTimeoutError, type Stage } from './error.js';

/** How long a control call may take before the worker is deemed stuck. open() waits on libpcap: ~15 ms measured. */
export const CALL_TIMEOUT_MS = 10_000;

/**
 * One worker thread of the pipeline and its comlink proxy: calls that fail when the thread dies or hangs instead
 * of waiting forever (comlink alone never settles a call whose thread is gone), typed errors rebuilt.
 */
export class Thread<Api> {
  readonly exited: Promise<number>;
  /** The uncaught error that killed the thread, when that is how it ended. */
  crash: Error | undefined;
  #exitCode: number | undefined;
  /** The calls outstanding, each failing itself when the thread ends (see call). */
  readonly #onExit = new Set<(code: number) => void>();

  constructor(
    readonly stage: Stage,
    readonly worker: Worker,
    readonly api: Comlink.Remote<Api>,
    readonly rebuild: (err: unknown) => unknown,
  ) {
    worker.on('error', (err) => (this.crash = err));
    this.exited = new Promise((resolve) =>
      worker.once('exit', (code) => {
        this.#exitCode = code;
        for (const fail of this.#onExit) fail(code);
        resolve(code);
      }),
    );
  }

  get alive(): boolean {
    return this.#exitCode === undefined;
  }

  /**
   * Runs one control call. Returns its result; rejects with the worker's own typed error (rebuilt), WorkerExitError
   * when the thread ends first, WorkerTimeoutError after `timeoutMs`.
   */
  async call<T>(operation: string, fn: (api: Comlink.Remote<Api>) => Promise<T>, timeoutMs = CALL_TIMEOUT_MS): Promise<T> {
    if (!this.alive) throw new WorkerExitError(this.stage, this.#exitCode!, operation, this.#crashText());
    let timer: NodeJS.Timeout | undefined;
    let onExit: ((code: number) => void) | undefined;
    // Not `this.exited.then(...)` per call: every reaction on that pending promise stays until the thread exits
    // (~370 bytes a call, measured), so a long-lived pipeline polled for stats() would grow without bound.
    const ended = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new WorkerTimeoutError(this.stage, operation, timeoutMs)), timeoutMs);
      onExit = (code) => reject(new WorkerExitError(this.stage, code, operation, this.#crashText()));
      this.#onExit.add(onExit);
    });
    try {
      return await Promise.race([
        fn(this.api).catch((err: unknown) => {
          throw this.rebuild(err);
        }),
        ended,
      ]);
    } finally {
      // `ended` can no longer reject: nothing holds its reject functions once the timer and listener are gone.
      clearTimeout(timer);
      this.#onExit.delete(onExit!);
    }
  }

  #crashText(): string | undefined {
    return this.crash ? `${this.crash.name}: ${this.crash.message}` : undefined;
  }

  /** Ends the thread (at once if it is stuck) and waits until it is gone. */
  async terminate(): Promise<void> {
    await this.worker.terminate();
    await this.exited;
  }
}
