/** Base of every error this package throws: catch `PipelineError` to catch them all. Facts live in fields. */
export class PipelineError extends Error {
  override name = 'PipelineError';
  readonly code: string = 'ERSATZ_PIPELINE';
  /** Its message is written for the user (what went wrong, what to do): the CLI prints it as one line, exit 2. */
  get userFacing(): true {
    return true;
  }
}

export type Stage = 'capture' | 'decode' | 'transmit';

/** A worker thread ended while a call to it was outstanding: `capture worker exited (code 1) during open`. */
export class WorkerExitError extends PipelineError {
  override name = 'WorkerExitError';
  override readonly code = 'ERSATZ_WORKER_EXIT';
  constructor(
    readonly stage: Stage,
    readonly exitCode: number,
    readonly operation: string,
    /** The uncaught error that ended the thread, when one did. */
    readonly crash?: string,
  ) {
    super(`${stage} worker exited (code ${exitCode}${crash ? `: ${crash}` : ''}) during ${operation}`);
  }
}

/** A worker did not answer a control call in time (it is stuck: the pipeline terminates it). */
export class WorkerTimeoutError extends PipelineError {
  override name = 'WorkerTimeoutError';
  override readonly code = 'ERSATZ_WORKER_TIMEOUT';
  constructor(
    readonly stage: Stage,
    readonly operation: string,
    readonly timeoutMs: number,
  ) {
    super(`${stage} worker did not answer ${operation} within ${timeoutMs} ms`);
  }
}

/** A worker kept dying: the pipeline gave up restarting it and stopped. */
export class WorkerCrashLoopError extends PipelineError {
  override name = 'WorkerCrashLoopError';
  override readonly code = 'ERSATZ_WORKER_CRASH_LOOP';
  constructor(
    readonly stage: Stage,
    readonly restarts: number,
    readonly windowMs: number,
    readonly lastReason: string,
  ) {
    super(
      `${stage} worker died ${restarts} times within ${windowMs / 1000} s (last: ${lastReason}); the pipeline stopped: ` +
        'run again, and if it keeps happening report it with that last reason',
    );
  }
}

/** An option outside its range: `pipeline: rxRingBytes must be a power of two from 4096 to 1073741824, got 5000`. */
export class PipelineOptionError extends PipelineError {
  override name = 'PipelineOptionError';
  override readonly code = 'ERSATZ_INVALID_OPTION';
  constructor(
    readonly option: string,
    readonly expected: string,
    readonly value: unknown,
  ) {
    super(`pipeline: ${option} must be ${expected}, got ${String(value)}`);
  }
}

/**
 * The interface went down (`ENETDOWN`) or away (`ENODEV`: deleted, or moved to another namespace) under a pipeline
 * opened with `linkLoss: 'fail'`: `ez0 went down (The interface went down): bring it up (ip link set ez0 up) and
 * run again`. `detail` has the worker's own words.
 */
export class InterfaceLostError extends PipelineError {
  override name = 'InterfaceLostError';
  constructor(
    readonly ifname: string,
    override readonly code: 'ENETDOWN' | 'ENODEV',
    readonly detail: string,
  ) {
    super(
      code === 'ENETDOWN'
        ? `${ifname} went down (${detail}): bring it up (ip link set ${ifname} up) and run again`
        : `${ifname} disappeared (${detail}): it was deleted or moved; list the interfaces with 'ip link' and run again`,
    );
  }
}
