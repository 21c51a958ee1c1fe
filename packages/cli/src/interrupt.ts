// How a command that runs until stopped is stopped: the same for every command, kept small (resolve loads it on the
// cold path).
import { fromEvent, map, merge, ReplaySubject, share, take, tap, type Observable } from 'rxjs';
import { Exit, type ExitCode } from './exit.js';

/**
 * SIGINT and SIGTERM as an observable the coordinator's `stop$` takes: while it is subscribed, Ctrl-C (or systemd's
 * stop, `kill`, `timeout`) ends the run with its summary, its pcap file finished, instead of killing the process;
 * `fired` tells afterwards and `code` is the exit status for it (130 after SIGINT, 143 after SIGTERM).
 * `dispose()` restores the defaults.
 */
export function interruption(): { readonly stop$: Observable<unknown>; readonly fired: boolean; readonly code: ExitCode; dispose(): void } {
  let signal: 'SIGINT' | 'SIGTERM' | null = null;
  // Listening from now on and replayed, so a signal before the run subscribes (during discovery, say) still stops it
  // at once. After the first one the listeners are gone: a second signal kills the process as usual.
  const on = (name: 'SIGINT' | 'SIGTERM'): Observable<'SIGINT' | 'SIGTERM'> => fromEvent(process, name).pipe(map(() => name));
  const stop$ = merge(on('SIGINT'), on('SIGTERM')).pipe(
    take(1),
    tap((name) => (signal = name)),
    share({ connector: () => new ReplaySubject(1), resetOnComplete: false, resetOnRefCountZero: false }),
  );
  const keep = stop$.subscribe();
  return {
    stop$,
    get fired() {
      return signal !== null;
    },
    get code() {
      return signal === 'SIGTERM' ? Exit.TERMINATED : Exit.INTERRUPTED;
    },
    dispose: () => keep.unsubscribe(),
  };
}
