// `for await` forms of the coordinators, for code that does not use RxJS: the observables stay the core, these only
// subscribe to them.
import type { Observable } from 'rxjs';
import type { Ipv4 } from '@ersatz/wire';
import { arping$, ping$, scan$, type ArpingEvent, type ArpingOptions, type ArpLink, type IcmpLink, type PingEvent, type PingOptions, type ScanEvent, type ScanOptions } from '@ersatz/resolve';

/** What the `for await` forms add to their observable's options. */
export interface Abortable {
  /**
   * Aborting it stops the operation at once (nothing more is sent) and the loop throws `signal.reason`, as Node's
   * own abortable APIs do. To end a sweep early and still get its summary, use the options' `stop$` instead.
   */
  readonly signal?: AbortSignal;
}

/**
 * The values of `events$` as an async iterable. Subscribes when the loop starts; leaving the loop (break, return,
 * throw) unsubscribes, which stops the operation. Values that arrive while the loop body runs wait in memory in
 * order: none is dropped, and a slow loop costs memory, not results. An error from `events$` is thrown after the
 * values that came before it.
 */
export async function* eachOf<T>(events$: Observable<T>, signal?: AbortSignal): AsyncGenerator<T, void, undefined> {
  signal?.throwIfAborted();
  let queue: T[] = [];
  let head = 0;
  let ended = false;
  let failure: { readonly err: unknown } | null = null;
  let wake: (() => void) | null = null;
  const poke = (): void => {
    wake?.();
    wake = null;
  };
  const sub = events$.subscribe({
    next: (v) => {
      queue.push(v);
      poke();
    },
    error: (err: unknown) => {
      failure = { err };
      poke();
    },
    complete: () => {
      ended = true;
      poke();
    },
  });
  const onAbort = (): void => {
    sub.unsubscribe();
    poke();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      signal?.throwIfAborted();
      if (head < queue.length) {
        const v = queue[head++]!;
        // Drop what was read once it is most of the array, so a long sweep does not keep every event.
        if (head > 1024 && head * 2 > queue.length) {
          queue = queue.slice(head);
          head = 0;
        }
        yield v;
        continue;
      }
      if (failure !== null) throw (failure as { readonly err: unknown }).err;
      if (ended) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    sub.unsubscribe();
  }
}

/** scan$ for `for await`: `for await (const e of scan(link, targets, { signal })) if (e.type === 'host') …`. */
export function scan(link: ArpLink, targets: Iterable<Ipv4>, options: ScanOptions & Abortable = {}): AsyncIterable<ScanEvent> {
  const { signal, ...scanOptions } = options;
  return eachOf(scan$(link, targets, scanOptions), signal);
}

/** arping$ for `for await` (see Abortable). */
export function arping(link: ArpLink, target: Ipv4, options: ArpingOptions & Abortable = {}): AsyncIterable<ArpingEvent> {
  const { signal, ...arpingOptions } = options;
  return eachOf(arping$(link, target, arpingOptions), signal);
}

/** ping$ for `for await` (see Abortable). */
export function ping(link: IcmpLink, target: Ipv4, options: PingOptions & Abortable = {}): AsyncIterable<PingEvent> {
  const { signal, ...pingOptions } = options;
  return eachOf(ping$(link, target, pingOptions), signal);
}
