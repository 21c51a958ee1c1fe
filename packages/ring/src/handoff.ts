/**
 * How a stage's thread starts and receives its rings: the thread is started first, with nothing, and its handles
 * (rings, slots, ports) follow as its first message. So a thread can be started early (`prestartThread`) and load
 * Node and its code while the caller still loads its own and discovers the interface (a thread's Node start-up alone
 * is ~25 ms of one CPU here, before its code and koffi load).
 *
 * ```ts
 * const capture = { script: new URL('./main.js', import.meta.url), name: 'ersatz-capture' };
 * prestartThread(capture);                                 // early, from the CLI, before it loads the command
 * const worker = startThread(capture, handles);            // later: takes that thread, or starts one
 * parentPort.once('message', (handles) => run(handles));   // in the thread: the first message
 * announceLoaded();                                        // and, at the end of its entry module, this
 * ```
 */
import { writeFileSync } from 'node:fs';
import { parentPort, Worker, workerData, type TransferListItem } from 'node:worker_threads';

/** A stage's thread: its script and its name (in stack traces, inspectors, and as the OS thread's name on Linux). */
export interface ThreadScript {
  readonly script: URL;
  readonly name: string;
}

/** Threads started early and not taken yet, by script URL, with their listener for the "loaded" message. */
const early = new Map<string, { worker: Worker; loaded: () => void }>();

/** What a stage's thread posts once its code is loaded (comlink ignores a message without an id). */
const THREAD_LOADED = 'loaded';

/**
 * In a stage's thread, at the end of its entry module: names the OS thread after its ThreadScript (what `top -H`,
 * `ps -L`, perf and the bench's CPU-by-thread figures show; Linux keeps 15 bytes; best effort) and tells the thread
 * that started it that its code is loaded: from then on it may be ended safely (see prestartThread).
 */
export function announceLoaded(): void {
  const name = (workerData as { threadName?: unknown } | null)?.threadName;
  if (process.platform === 'linux' && typeof name === 'string') {
    try {
      writeFileSync('/proc/thread-self/comm', osThreadName(name));
    } catch {
      // No /proc mounted: the name is for people only.
    }
  }
  parentPort?.postMessage(THREAD_LOADED);
}

/** `name` as the kernel keeps a thread's name (15 bytes; the names here are ASCII): what /proc and `top -H` show. */
export function osThreadName(name: string): string {
  return name.slice(0, 15);
}

/**
 * Starts the thread of `script` now, to be taken by the next `startThread` of the same script. Until then it holds
 * the process only while it loads its code: a thread ended while a native addon (koffi) initialises aborts the
 * whole process (measured: a usage error exiting early ended in SIGABRT), so a command that ends before taking it
 * waits for that, then exits. An error it dies of is dropped here (the thread started instead reports it).
 */
export function prestartThread(thread: ThreadScript): void {
  const key = thread.script.href;
  if (early.has(key)) return;
  const worker = spawn(thread);
  const loaded = (): void => void worker.unref();
  worker.once('message', loaded);
  worker.on('error', () => {});
  worker.once('exit', () => {
    if (early.get(key)?.worker === worker) early.delete(key);
  });
  early.set(key, { worker, loaded });
}

/** The thread of `script`, started early or now, given its handles as its first message. */
export function startThread(thread: ThreadScript, handles: object, transferList: readonly TransferListItem[] = []): Worker {
  const key = thread.script.href;
  const taken = early.get(key);
  early.delete(key);
  taken?.worker.off('message', taken.loaded);
  const worker = taken?.worker ?? spawn(thread);
  worker.ref();
  worker.postMessage(handles, transferList);
  return worker;
}

// `stdin: true` spares each thread building its process.stdin at start-up only to end it (Node does that for a
// thread without one: ~5 ms of one CPU per thread in a profile); nothing writes to it.
const spawn = ({ script, name }: ThreadScript): Worker => new Worker(script, { name, stdin: true, workerData: { threadName: name } });
