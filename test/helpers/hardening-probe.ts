// Runs inside a lab's host namespace (the process that opens a link must live there): opens an ersatz link through
// the public API, does one hardening scenario, prints one JSON line with what happened, closes everything and ends
// WITHOUT process.exit, then prints what still holds the event loop (the tests expect nothing but stdio).
//
//   node hardening-probe.js <mode> <json args>
//
// With `gate: true` it opens the link, prints `ready` and waits for SIGUSR2 before the scenario (so a test can make
// things happen on the wire first). Modes:
//   resolve  one query$ for `ip` with `query` options (after `waitMs` with the link open): the result (mac,
//            conflicts, tries) or the error, plus stats
//   queries  the `queries` ({ip, query, api}) all at once: query$ results, or with api 'resolve$' the MAC, or errors
//   crash-resolve  `count` queries (base+1 .. base+count) and the `silent` ones all at once, with the `stage` worker
//            killed right after they were asked: how each ended, stats, warnings
//   crash-scan  scan$ over `cidr` with the `stage` worker killed once `afterHosts` hosts answered: summary, stats
//   stall    blocks this thread (the events ring's consumer) `stallMs` at a time until the events ring has dropped
//            records (at most 20 times), then resolves `ip`: the result and stats
//   resources  (no link of its own) 10 sweeps of `cidr`, each on a link opened and closed for it, and `resolves`
//            top-level resolve() calls (`concurrency` at a time, base+1 ...): open descriptors, threads, timers,
//            listeners and handles after a warm-up and again at the end; the threads' names while a link was open
//   crash-loop  a long query for `ip` while the `stage` worker is killed `crashes` times in a row: how it ended,
//            each warning with its time since the first kill
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { catchError, firstValueFrom, forkJoin, lastValueFrom, map, merge, of, tap, toArray, type Observable } from 'rxjs';
import { Ipv4 } from '@ersatz/wire';
import { createResolver, discoverInterface, openLink, resolve, type Link, type QueryOptions, type Stage } from '@ersatz/api';
import { simulateCrash } from '@ersatz/api/testing';
import { scan$, type ScanOptions, type ScanSummary } from '@ersatz/resolve';
import { parseTargets } from '@ersatz/wire';
import { readThreadCpu } from '@ersatz/bench';

interface Query {
  readonly ip: string;
  readonly query?: QueryOptions;
  /** query$ (default): the whole result; resolve$: just the MAC (or AddressConflictError). */
  readonly api?: 'query$' | 'resolve$';
}

interface Args {
  readonly ip?: string;
  readonly ifname?: string;
  readonly query?: QueryOptions;
  readonly queries?: readonly Query[];
  readonly waitMs?: number;
  readonly gate?: boolean;
  readonly stage?: Stage;
  readonly base?: string;
  readonly count?: number;
  readonly silent?: readonly string[];
  /** crash-resolve: the options of the `silent` queries (default: `query`). */
  readonly silentQuery?: QueryOptions;
  readonly cidr?: string;
  readonly afterHosts?: number;
  readonly scan?: ScanOptions;
  readonly crashes?: number;
  readonly stallMs?: number;
  readonly sweeps?: number;
  readonly resolves?: number;
  readonly concurrency?: number;
}

const [mode, json] = process.argv.slice(2);
const args = JSON.parse(json ?? '{}') as Args;

function out(result: unknown): void {
  process.stdout.write(`${JSON.stringify(result, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
}

/** An error as plain fields: name, message and the numbers it carries. */
function describe(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { value: String(err) };
  return { ...(err as unknown as Record<string, unknown>), name: err.name, message: err.message };
}

/** What this process holds: descriptors, threads, and by type the handles and requests keeping the loop alive. */
function snapshot(): { fds: number; threads: number; listeners: number; resources: Record<string, number> } {
  const resources: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) resources[r] = (resources[r] ?? 0) + 1;
  const listeners = process.eventNames().reduce((n, e) => n + process.listenerCount(e), 0);
  return { fds: readdirSync('/proc/self/fd').length, threads: readdirSync('/proc/self/task').length, listeners, resources };
}

async function resources(): Promise<void> {
  const cidr = parseTargets(args.cidr!);
  const base = Ipv4.parse(args.base!);
  let answered = 0;
  let resolved = 0;
  // The names of this process's threads while a link is open (the pipeline's stages name theirs).
  let threadNames: string[] | undefined;
  const sweep = async (): Promise<void> => {
    const link = await openLink(await discoverInterface({ target: cidr.at(0) }));
    try {
      await lastValueFrom(scan$(link, cidr, args.scan ?? {}).pipe(tap((e) => e.type === 'host' && answered++)), { defaultValue: undefined });
      // Read after a sweep, not as the link opens: a stage's thread names itself once its code is loaded, and the
      // decode thread may still be loading when openLink returns; a thread that has handled frames has.
      threadNames ??= threadNamesNow();
    } finally {
      await link.close();
    }
  };
  const resolveMany = async (from: number, count: number): Promise<void> => {
    for (let i = from; i < from + count; i += args.concurrency ?? 1) {
      const batch = Array.from({ length: Math.min(args.concurrency ?? 1, from + count - i) }, (_, k) => resolve((base + 1 + ((i + k) % 65000)) as Ipv4, args.query ?? {}));
      resolved += (await Promise.all(batch)).length;
    }
  };
  // Warm-up: one of each, so lazily created things (libuv's thread pool, the vendor table, JIT) exist before the
  // first snapshot.
  await sweep();
  await resolveMany(0, 100);
  const warm = await settled();
  for (let i = 1; i < (args.sweeps ?? 1); i++) await sweep();
  await resolveMany(100, (args.resolves ?? 0) - 100);
  out({ warm, end: await settled(), sweeps: args.sweeps, answered, resolved, threadNames });
}

/** The names of this process's threads. */
const threadNamesNow = (): string[] => readThreadCpu().map((t) => t.name);

/**
 * A snapshot once the process is quiet: resolve()'s shared session closes its link on the turn after its last user,
 * asynchronously, and a closed link's threads take a while to end (longer on a loaded machine: the fresh-clone CI once
 * took its snapshot while three were still tearing down, ports gone). So wait until no pipeline thread is left (they
 * are named ersatz-*), no worker port either, and two snapshots 50 ms apart agree; at most 30 s. A leak never
 * settles: the last snapshot is returned anyway, and differs.
 */
async function settled(): Promise<ReturnType<typeof snapshot>> {
  let last = snapshot();
  for (let i = 0; i < 600; i++) {
    await sleep(50);
    const now = snapshot();
    const quiet = !('MessagePort' in now.resources) && !threadNamesNow().some((n) => n.startsWith('ersatz-'));
    if (quiet && JSON.stringify(now) === JSON.stringify(last)) return now;
    last = now;
  }
  return last;
}

async function main(): Promise<void> {
  if (mode === 'resources') return resources();
  const first = args.ip ?? args.queries?.[0]?.ip ?? args.base ?? args.cidr?.replace(/\/.*/, '');
  const link: Link = await openLink(await discoverInterface({ target: Ipv4.parse(first!), ...(args.ifname === undefined ? {} : { ifname: args.ifname }) }));
  const warnings: string[] = [];
  link.warnings$.subscribe((w) => warnings.push(w));
  try {
    if (args.gate) {
      const go = once(process, 'SIGUSR2');
      process.stdout.write('ready\n');
      await go;
    }
    if (args.waitMs !== undefined) await sleep(args.waitMs);
    const resolver = createResolver(link);
    if (mode === 'resolve') {
      let result: unknown = null;
      let error: unknown = null;
      try {
        const r = await firstValueFrom(resolver.query$(Ipv4.parse(args.ip!), args.query ?? {}));
        result = { mac: r.mac, conflicts: r.conflicts, tries: r.tries, ethSrc: r.reply?.ethSrc };
      } catch (err) {
        error = describe(err);
      }
      out({ result, error, stats: await link.stats(), warnings });
    } else if (mode === 'queries') {
      const one = (q: Query): Observable<unknown> => {
        const ip = Ipv4.parse(q.ip);
        const answer$: Observable<unknown> =
          q.api === 'resolve$'
            ? resolver.resolve$(ip, q.query ?? {}).pipe(map((mac) => ({ mac })))
            : resolver.query$(ip, q.query ?? {}).pipe(map((r) => ({ mac: r.mac, conflicts: r.conflicts, tries: r.tries })));
        return answer$.pipe(
          map((result) => ({ ip: q.ip, result, error: null })),
          catchError((err: unknown) => of({ ip: q.ip, result: null, error: describe(err) })),
        );
      };
      const results = await firstValueFrom(forkJoin((args.queries ?? []).map(one)));
      out({ results, stats: await link.stats(), warnings });
    } else if (mode === 'crash-resolve') {
      const base = Ipv4.parse(args.base!);
      const answering = Array.from({ length: args.count ?? 0 }, (_, i) => ({ ip: (base + i + 1) as Ipv4, query: args.query ?? {} }));
      const silent = (args.silent ?? []).map((t) => ({ ip: Ipv4.parse(t), query: args.silentQuery ?? args.query ?? {} }));
      const all$ = merge(
        ...[...answering, ...silent].map(({ ip, query }) =>
          resolver.query$(ip, query).pipe(
            map((r) => ({ ip: Ipv4.format(ip), mac: r.mac as string, tries: r.tries, error: null as string | null })),
            catchError((err: unknown) => of({ ip: Ipv4.format(ip), mac: null, tries: (err as { tries?: number }).tries ?? 0, error: (err as Error).name })),
          ),
        ),
      ).pipe(toArray());
      const done = lastValueFrom(all$);
      // Every query has queued its first request by now (subscription is synchronous): kill the worker mid-flight.
      const crashed = simulateCrash(link, args.stage!);
      const rows = await done;
      await crashed;
      const macs = [...new Set(rows.flatMap((r) => (r.mac === null ? [] : [r.mac])))];
      const errors: Record<string, number> = {};
      for (const r of rows) if (r.error !== null) errors[r.error] = (errors[r.error] ?? 0) + 1;
      const failed = rows.filter((r) => r.error !== null).map((r) => r.ip);
      out({
        queries: rows.length,
        answered: rows.filter((r) => r.mac !== null).length,
        macs,
        errors,
        failed: failed.slice(0, 20),
        resent: rows.filter((r) => r.tries > 1).length,
        stats: await link.stats(),
        warnings,
      });
    } else if (mode === 'crash-scan') {
      let answered = 0;
      let crashed: Promise<void> | undefined;
      let summary: ScanSummary | undefined;
      const seen = new Set<number>();
      let dups = 0;
      await lastValueFrom(
        scan$(link, parseTargets(args.cidr!), args.scan ?? {}).pipe(
          tap((e) => {
            if (e.type === 'host') {
              if (seen.has(e.ip)) dups++;
              seen.add(e.ip);
              if (!e.dup && ++answered === args.afterHosts) crashed = simulateCrash(link, args.stage!);
            } else if (e.type === 'done') summary = e.summary;
          }),
        ),
        { defaultValue: undefined },
      );
      await crashed;
      out({ summary, distinct: seen.size, dups, crashed: crashed !== undefined, stats: await link.stats(), warnings });
    } else if (mode === 'stall') {
      const before = await link.stats();
      // The main thread stops reading the events ring, as a busy caller would: Atomics.wait blocks it outright,
      // `stallMs` at a time until the ring has overflowed (a count: on a loaded machine the flood comes slower), at
      // most 20 times.
      const block = new Int32Array(new SharedArrayBuffer(4));
      let stalled = before;
      for (let i = 0; i < 20 && stalled.decode?.eventsDropped === before.decode?.eventsDropped; i++) {
        Atomics.wait(block, 0, 0, args.stallMs ?? 1000);
        stalled = await link.stats();
      }
      let result: unknown = null;
      let error: unknown = null;
      try {
        const r = await firstValueFrom(resolver.query$(Ipv4.parse(args.ip!), args.query ?? {}));
        result = { mac: r.mac, tries: r.tries };
      } catch (err) {
        error = describe(err);
      }
      out({ result, error, before, stalled, stats: await link.stats(), warnings });
    } else if (mode === 'crash-loop') {
      const t0 = performance.now();
      const timed: { ms: number; text: string }[] = [];
      link.warnings$.subscribe((w) => timed.push({ ms: Math.round(performance.now() - t0), text: w }));
      const ended = firstValueFrom(resolver.query$(Ipv4.parse(args.ip!), args.query ?? {})).then(
        () => ({ error: null }),
        (err: unknown) => ({ error: describe(err), ms: Math.round(performance.now() - t0) }),
      );
      for (let i = 0; i < (args.crashes ?? 0); i++) await simulateCrash(link, args.stage!);
      out({ ...(await ended), warnings: timed, stats: await link.stats() });
    } else {
      throw new Error(`unknown mode ${String(mode)}`);
    }
  } finally {
    await link.close();
  }
}

main().then(
  () => process.stdout.write(`${JSON.stringify({ activeAfterClose: process.getActiveResourcesInfo() })}\n`),
  (err: unknown) => {
    out({ fatal: describe(err), stack: err instanceof Error ? err.stack : undefined });
    process.exitCode = 1;
  },
);
