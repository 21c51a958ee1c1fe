import { finalize, Observable, type Subscription } from 'rxjs';
import { Ipv4, type Ipv6, type Mac } from '@ersatz/wire';
import { createResolver, OptionError, ResolveTimeoutError, type QueryOptions, type Resolver } from '@ersatz/resolve';
import { discoverInterface, type InterfaceInfo } from './host.js';
import { DiscoveryCache } from './discovery-cache.js';
import { openLink } from './open.js';
import { kernelResolve, type Tier } from './kernel-tier.js';
import type { Link } from './link.js';

export { discoverInterface, type InterfaceInfo } from './host.js';
export { openLink } from './open.js';
export { kernelResolve, type Tier, type NeighbourAnswer } from './kernel-tier.js';
export { kernelScan$, type KernelScanEvent, type KernelScanOptions } from './kernel-scan.js';
export type { Link, OpenLinkOptions } from './link.js';
export type { CapturedFrame, PipelineStats, Stage } from '@ersatz/pipeline';
// Every error a caller can catch, each with a stable `code` (docs/errors.md): ERSATZ_* for ersatz's own conditions,
// the errno name for a failed system call (CaptureError, TransmitError, NetlinkSystemError, InterfaceLostError).
export { PipelineError, PipelineOptionError, WorkerExitError, WorkerTimeoutError, WorkerCrashLoopError, InterfaceLostError, CaptureError, TransmitError } from '@ersatz/pipeline';
export { createResolver, ResolveError, ResolveTimeoutError, AddressConflictError, type QueryOptions, type ResolveResult, type IcmpObservation } from '@ersatz/resolve';
// The package's whole public surface is here (the published `ersatz-arp` is this module, bundled): the coordinators
// that run on an open link, the kernel's neighbour table, and the address types every signature uses.
export {
  scan$,
  arping$,
  ping$,
  claim$,
  OptionError,
  ForeignSenderError,
  type ArpLink,
  type ArpObservation,
  type ScanOptions,
  type ScanEvent,
  type ScanHostEvent,
  type ScanProgressEvent,
  type ScanSummary,
  type ArpingOptions,
  type ArpingEvent,
  type ArpingSummary,
  type PingOptions,
  type PingEvent,
  type PingSummary,
  type ClaimOptions,
  type ClaimEvent,
} from '@ersatz/resolve';
export { eachOf, scan, arping, ping, type Abortable } from './iterate.js';
export {
  NetlinkError,
  NetlinkTruncatedError,
  NetlinkMalformedError,
  NetlinkUnsupportedError,
  NetlinkSystemError,
  NetlinkPermissionError,
  NetlinkTimeoutError,
  NetlinkPlatformError,
  NetlinkOverrunError,
  DiscoveryError,
  NoDefaultRouteError,
  NoRouteError,
  UnknownInterfaceError,
  InterfaceDownError,
  NoIpv4AddressError,
  NoLinkLayerError,
  UnresolvableTargetError,
  InvalidNeighbourError,
} from '@ersatz/netlink';
export { neighbours$, neighbours, type NeighEvent, type NeighbourEntry, type NeighbourFilter } from '@ersatz/netlink';
export { Ipv4, Mac, Cidr, TargetSet, parseTargets, printableValue } from '@ersatz/wire';
export { WireError, AddressParseError, TruncatedError, UnsupportedError, MalformedError, InvalidFieldError, FieldMismatchError, ChecksumError } from '@ersatz/wire';

export interface ResolveOptions extends QueryOptions {
  /** Send on this interface (default: the one the route to the IP uses). */
  readonly interface?: string;
  /**
   * How to ask (see Tier): `raw` (default: our own frames, CAP_NET_RAW), `kernel` (the kernel resolves it, for any
   * user; Linux) or `cache` (the kernel's table as it is). The query options (tries, settleMs, …) shape the raw tier
   * only; the kernel's own retries bound the kernel tier. For the entry's state, call kernelResolve.
   */
  readonly tier?: Tier;
}

interface Session {
  readonly ifname: string;
  readonly link: Promise<Link>;
  readonly resolver: Promise<Resolver>;
  /** The resolver once the link is open: later calls start at once, without a promise hop. */
  ready: Resolver | null;
  users: number;
}

// One pipeline per interface, shared by every concurrent resolve on it so that concurrent queries for one IP also
// share one request; closed when its last user is done.
const sessions = new Map<string, Session>();
// Route lookups, remembered while any resolve$ call is live, and a tick longer for a loop of sequential calls
// (see DiscoveryCache for how changes are noticed).
const discovery = new DiscoveryCache();
let liveCalls = 0;

function callEnded(): void {
  if (--liveCalls === 0) setImmediate(() => liveCalls === 0 && discovery.stop());
}

function acquire(info: InterfaceInfo): Session {
  let s = sessions.get(info.ifname);
  if (!s) {
    // Without a ring: a session opens and closes with each burst of calls, and a ring's set-up and tear-down would
    // each wait out an RCU grace period in the kernel (see OpenLinkOptions.captureRing).
    const link = openLink(info, { captureRing: false });
    const session: Session = { ifname: info.ifname, link, resolver: link.then((l) => (session.ready = createResolver(l))), ready: null, users: 0 };
    sessions.set(info.ifname, (s = session));
  }
  s.users++;
  return s;
}

function release(s: Session): void {
  if (--s.users > 0) return;
  // Let a query that starts in the same tick (a loop of sequential resolves) reuse the open pipeline.
  setImmediate(() => {
    if (s.users > 0 || sessions.get(s.ifname) !== s) return;
    sessions.delete(s.ifname);
    // A link that failed to open has already reported why to its queries; a rejection left unhandled here would
    // end the process after the caller had caught it.
    void s.link.then(
      (l) => l.close(),
      () => undefined,
    );
  });
}

/**
 * Cold: on subscription, finds the interface for `ip` (or uses `options.interface`), opens the worker pipeline (shared
 * with concurrent calls), asks "who has ip?" and emits the MAC of the matching reply once, then completes.
 * An off-link `ip` resolves its next hop (the gateway), as the kernel would. Errors with ResolveTimeoutError after
 * the last try, AddressConflictError when `settleMs` > 0 and several MACs answered (it names them all), or with the
 * discovery/pipeline typed errors (unknown interface, no permission, no route).
 */
export function resolve$(ip: Ipv4 | string, options: ResolveOptions = {}): Observable<Mac> {
  if (options.tier === 'kernel' || options.tier === 'cache') return kernelTier$(ip, options.tier, options.interface);
  // Written out rather than composed (defer, from, switchMap, finalize): once the route is remembered and the link
  // open, a call goes straight to the resolver, with no promise hop and no operator chain (issue #12's note).
  return new Observable<Mac>((subscriber) => {
    let target: Ipv4;
    try {
      target = typeof ip === 'string' ? Ipv4.parse(ip) : ip;
    } catch (err) {
      subscriber.error(err);
      return undefined;
    }
    liveCalls++;
    let session: Session | null = null;
    let query: Subscription | null = null;
    let closed = false;
    const ask = (resolver: Resolver, info: InterfaceInfo): void => {
      if (!closed) query = resolver.resolve$(info.target, options).subscribe(subscriber);
    };
    const start = (info: InterfaceInfo): void => {
      if (closed) return;
      const s = (session = acquire(info));
      if (s.ready !== null) ask(s.ready, info);
      else s.resolver.then((r) => ask(r, info), (err: unknown) => subscriber.error(err));
    };
    const question = { ifname: options.interface, target };
    const known = discovery.known(question);
    if (known !== undefined) start(known);
    else discovery.lookup(question).then(start, (err: unknown) => subscriber.error(err));
    return () => {
      closed = true;
      query?.unsubscribe();
      if (session !== null) release(session);
      callEnded();
    };
  });
}

/** resolve$ in the kernel and cache tiers: the kernel's answer, or ResolveTimeoutError when it has none. */
function kernelTier$(ip: Ipv4 | string, tier: 'kernel' | 'cache', ifname: string | undefined): Observable<Mac> {
  return new Observable<Mac>((subscriber) => {
    const aborted = new AbortController();
    const startMs = performance.now();
    (async () => {
      const target = typeof ip === 'string' ? Ipv4.parse(ip) : ip;
      const info = await discoverInterface({ ifname, target });
      const answer = await kernelResolve(info, { tier, signal: aborted.signal });
      if (answer === null) throw new ResolveTimeoutError(info.target, tier === 'kernel' ? 1 : 0, Math.round(performance.now() - startMs));
      subscriber.next(answer.mac);
      subscriber.complete();
    })().catch((err: unknown) => {
      if (!aborted.signal.aborted) subscriber.error(err);
    });
    return () => aborted.abort();
  });
}

/**
 * `resolve$` as a promise. Rejects with ResolveTimeoutError, AddressConflictError, the typed errors above, or
 * `signal.reason` when `signal` aborts first (as `Resolver.resolve` and the `for await` forms do).
 */
export function resolve(ip: Ipv4 | string, options: ResolveOptions & { readonly signal?: AbortSignal } = {}): Promise<Mac> {
  const { signal, ...rest } = options;
  return new Promise<Mac>((resolvePromise, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      sub.unsubscribe();
      reject(signal?.reason);
    };
    // Settled either way, the listener goes: a long-lived signal shared by many calls must not collect one per call.
    const sub = resolve$(ip, rest)
      .pipe(finalize(() => signal?.removeEventListener('abort', onAbort)))
      .subscribe({ next: resolvePromise, error: reject });
    if (!sub.closed) signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Stores `ip → mac` (IPv4, or IPv6 on Linux) in the kernel's neighbour cache as a PERMANENT entry (rtnetlink
 * RTM_NEWNEIGH with replace), as `ersatz --target IP --inject` does. Throws NetlinkPermissionError without CAP_NET_ADMIN.
 */
export async function injectNeighbour(entry: { ip: Ipv4 | Ipv6; mac: Mac; ifname: string }): Promise<void> {
  if (process.platform === 'win32') {
    const { ip } = entry;
    if (typeof ip === 'string') throw new OptionError('injectNeighbour', 'ip', ip, 'an IPv4 address: IPv6 entries are stored on Linux only so far');
    return (await import('@ersatz/win32')).neighAdd({ ...entry, ip, permanent: true });
  }
  (await import('@ersatz/netlink')).addNeighbour({ ...entry, state: 'permanent', replace: true });
}
