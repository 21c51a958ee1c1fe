// The kernel's neighbour tables over rtnetlink, IPv4's (ARP) and IPv6's (Neighbor Discovery): read, add, replace,
// delete, flush, and (IPv4) batch. Their change events are in neighbour-events.ts.
import { Cidr, Ipv4, Ipv6, Mac } from '@ersatz/wire';
import { AF_INET, AF_INET6, NlmF, Ntf, Rtm } from './constants.js';
import { InvalidNeighbourError, NetlinkSystemError, UnknownInterfaceError } from './error.js';
import { Hdr, NetlinkMessage, type BatchAnswer } from './message.js';
import { NeighMessage, type NeighRepr } from './rtnl.js';
import { NetlinkSocket, systemError, withSocket } from './socket.js';
import { FLUSH_STATES, stateBit, type NeighState, type SettableNeighState } from './neigh-state.js';
import { getLink } from './discovery.js';
import { inStates, linkNames, toEntry, toEntry6, type NeighbourEntry, type Neighbour6Entry } from './neighbour-entry.js';

export type { NeighbourEntry, Neighbour6Entry } from './neighbour-entry.js';
import { constants } from 'node:os';

const { ENOENT, ENODEV } = constants.errno;

/** Which entries `neighbours` lists and `flushNeighbours` deletes, as `ip neigh show|flush [to PREFIX] [dev IF] [nud STATE]`. */
export interface NeighbourFilter {
  readonly ifname?: string;
  /** Proxy ARP entries instead of the table (`ip neigh show proxy`). */
  readonly proxy?: boolean;
  /** Only entries inside this prefix (an address is its /32). */
  readonly to?: Cidr;
  /** Only entries in these states (default: every state for `neighbours`, FLUSH_STATES for `flushNeighbours`). */
  readonly states?: readonly NeighState[];
}

/**
 * Whether `e` passes the filter's prefix and states. As iproute2 does, proxy and externally learned entries pass
 * any state filter (their state is not a cache state).
 */
export function neighbourMatches(e: NeighbourEntry, f: Pick<NeighbourFilter, 'to' | 'states'>): boolean {
  return (f.to === undefined || f.to.contains(e.ip)) && inStates(e, f.states);
}

/** Where an entry lives: an interface by name or by index. */
export type NeighbourDevice = { readonly ifname: string; readonly ifindex?: never } | { readonly ifindex: number; readonly ifname?: never };

/** An entry to add: IPv4 (the ARP table) or IPv6 (Neighbor Discovery's). */
export type NeighbourSpec = NeighbourDevice & {
  readonly ip: Ipv4 | Ipv6;
  /** Required except for proxy entries. Must be unicast and not all-zero. */
  readonly mac?: Mac;
  /** Default `permanent`. */
  readonly state?: SettableNeighState;
  /** Replace an existing entry (NLM_F_REPLACE); without it an existing entry makes the add fail with EEXIST. */
  readonly replace?: boolean;
  /** A proxy ARP entry (no MAC). */
  readonly proxy?: boolean;
  readonly router?: boolean;
};

/** An entry to delete: IPv4 or IPv6 (`neighbour()` reads IPv4 entries only). */
export type NeighbourKey = NeighbourDevice & { readonly ip: Ipv4 | Ipv6; readonly proxy?: boolean };

/** One change of a batch. */
export type NeighbourChange = ({ readonly op: 'add' } & NeighbourSpec) | ({ readonly op: 'del' } & NeighbourKey);

/** What a batch did: how many changes the kernel accepted and which it refused. */
export interface NeighbourBatchResult {
  readonly done: number;
  readonly failed: ReadonlyArray<{ readonly index: number; readonly error: NetlinkSystemError }>;
}

// ---------------------------------------------------------------------------------------------------------------

/**
 * The IPv4 neighbour table (like `ip -4 neigh show`), of every interface or of one, optionally only a prefix and
 * some states; `proxy: true` lists the proxy ARP entries instead (like `ip neigh show proxy`). Throws
 * UnknownInterfaceError, NetlinkError.
 */
export function neighbours(opts: NeighbourFilter = {}): NeighbourEntry[] {
  return withSocket((sock) => dump(sock, AF_INET, opts, toEntry, (e) => neighbourMatches(e, opts)));
}

/** Which IPv6 entries `neighbours6` lists, as `ip -6 neigh show [dev IF] [nud STATE] [proxy]`. */
export interface Neighbour6Filter {
  readonly ifname?: string;
  readonly proxy?: boolean;
  readonly states?: readonly NeighState[];
  /** Only addresses in this prefix. */
  readonly to?: { readonly prefix: Ipv6; readonly prefixLen: number };
}

/** The IPv6 neighbour table (like `ip -6 neigh show`). Throws UnknownInterfaceError, NetlinkError. */
export function neighbours6(f: Neighbour6Filter = {}): Neighbour6Entry[] {
  const { to } = f;
  return withSocket((sock) => dump(sock, AF_INET6, f, toEntry6, (e) => (to === undefined || Ipv6.samePrefix(e.ip, to.prefix, to.prefixLen)) && inStates(e, f.states)));
}

/** What a flush did: the entries it deleted, and whether the table held no more matches at the end. */
export interface NeighbourFlushResult<E = NeighbourEntry> {
  readonly deleted: readonly E[];
  /** False when matches were still there after FLUSH_ROUNDS rounds (`ip neigh flush` then exits 1). */
  readonly complete: boolean;
}

/** As iproute2's MAX_ROUNDS: entries the kernel keeps re-creating must not make a flush loop for ever. */
export const FLUSH_ROUNDS = 10;

/**
 * Deletes the entries that match, like `ip neigh flush`: by default every state but permanent and noarp
 * (FLUSH_STATES). It dumps and deletes in rounds until a dump finds nothing more, at most FLUSH_ROUNDS; from the
 * second round on it leaves FAILED entries alone (a deleted entry still in use turns FAILED rather than going).
 * Throws UnknownInterfaceError, NetlinkPermissionError (no CAP_NET_ADMIN), NetlinkError.
 */
export function flushNeighbours(filter: NeighbourFilter = {}): NeighbourFlushResult {
  return flushRounds((states) => neighbours({ ...filter, states }), filter.states ?? FLUSH_STATES);
}

/** flushNeighbours for the IPv6 table (`ip -6 neigh flush`). */
export function flushNeighbours6(filter: Neighbour6Filter = {}): NeighbourFlushResult<Neighbour6Entry> {
  return flushRounds((states) => neighbours6({ ...filter, states }), filter.states ?? FLUSH_STATES);
}

function flushRounds<E extends Pick<NeighbourEntry, 'ifindex' | 'proxy'> & { readonly ip: Ipv4 | Ipv6 }>(list: (states: readonly NeighState[]) => E[], first: readonly NeighState[]): NeighbourFlushResult<E> {
  let states = first;
  const deleted: E[] = [];
  for (let round = 0; round < FLUSH_ROUNDS; round++) {
    const found = list(states);
    if (found.length === 0) return { deleted, complete: true };
    const { failed } = applyBatch(found.map((e) => ({ op: 'del', ifindex: e.ifindex, ip: e.ip, proxy: e.proxy })), {});
    // ENOENT: the kernel dropped it between the dump and the delete, which is what we wanted.
    const refused = failed.filter((f) => f.error.errno !== ENOENT);
    if (refused.length > 0) throw refused[0]!.error;
    const gone = new Set(failed.map((f) => f.index));
    deleted.push(...found.filter((_, i) => !gone.has(i)));
    states = states.filter((s) => s !== 'failed');
  }
  return { deleted, complete: list(states).length === 0 };
}

/** One entry (RTM_GETNEIGH), or null when the table has none for `ip` on that interface. Throws UnknownInterfaceError, NetlinkError. */
export function neighbour(key: NeighbourKey & { readonly ip: Ipv4 }): NeighbourEntry | null {
  checkIp(key.ip);
  return withSocket((sock) => {
    const ifindex = deviceIndex(sock, key);
    const req: NeighRepr = { family: AF_INET, ifindex, state: 0, flags: key.proxy ? Ntf.PROXY : 0, type: 0, dst: key.ip };
    try {
      const [m] = sock.request(Rtm.GETNEIGH, 0, NeighMessage, req, `get neighbour ${formatIp(key.ip)}`).filter((m) => m.type === Rtm.NEWNEIGH);
      return m === undefined ? null : toEntry(NeighMessage.parse(m.payload), linkNames(sock));
    } catch (err) {
      if (err instanceof NetlinkSystemError && err.errno === ENOENT) return null;
      throw deviceError(err, key);
    }
  });
}

/**
 * Adds (or with `replace`, adds or replaces) one entry. Throws InvalidNeighbourError (bad MAC, IP or state),
 * UnknownInterfaceError, NetlinkPermissionError (no CAP_NET_ADMIN), NetlinkSystemError (EEXIST without `replace`, ...).
 */
export function addNeighbour(spec: NeighbourSpec): void {
  checkSpec(spec);
  withSocket((sock) => {
    const ifindex = deviceIndex(sock, spec);
    try {
      sock.request(Rtm.NEWNEIGH, addFlags(spec), NeighMessage, addRepr(spec, ifindex), describe('add', spec, ifindex));
    } catch (err) {
      throw deviceError(err, spec);
    }
  });
}

/** Deletes one entry (a proxy entry with `proxy`). Throws NetlinkSystemError ENOENT when there is none, NetlinkPermissionError, UnknownInterfaceError. */
export function deleteNeighbour(key: NeighbourKey): void {
  checkIp(key.ip);
  withSocket((sock) => {
    const ifindex = deviceIndex(sock, key);
    try {
      sock.request(Rtm.DELNEIGH, 0, NeighMessage, delRepr(key, ifindex), describe('delete', key, ifindex));
    } catch (err) {
      throw deviceError(err, key);
    }
  });
}

export interface NeighbourBatchOptions {
  /** Requests per sendto (default 1024, at most 4096). */
  readonly chunk?: number;
  /**
   * `each` (default): every request asks for an ACK (NLM_F_ACK) and each one is read back. `errors`: only the last
   * request of a chunk asks; the kernel still answers every refusal, and it handles requests in order, so the last
   * ACK proves the others succeeded. Same result, about twice as fast (bench scenario `neigh`: 430k vs 200k adds/s).
   */
  readonly ack?: 'each' | 'errors';
}

// Every ACK is its own skb, charged to the receive buffer at its truesize: 832 bytes measured on Linux 6.18 x86-64
// (the most NLMSG_NOOP ACKs one sendto can get without an overrun, for three buffer sizes). Rounded up for other
// kernels and allocators; the kernel doubles the size asked for, which leaves room for extended-ACK refusals.
const ACK_TRUESIZE = 1024;

/**
 * Applies many adds and deletes, many requests per sendto, and collects the kernel's answers. Changes apply in
 * order. Invalid changes throw InvalidNeighbourError before anything is sent; kernel refusals are returned per
 * change, not thrown. Throws NetlinkOverrunError if answers were lost, NetlinkError when the socket itself fails.
 */
export function neighbourBatch(changes: readonly NeighbourChange[], opts: NeighbourBatchOptions = {}): NeighbourBatchResult {
  for (const c of changes) (c.op === 'add' ? checkSpec : checkKey)(c as NeighbourSpec & NeighbourKey);
  return applyBatch(changes, opts);
}

/** neighbourBatch without the checks: a flush deletes what the kernel listed, multicast NOARP entries included. */
function applyBatch(changes: readonly NeighbourChange[], opts: NeighbourBatchOptions): NeighbourBatchResult {
  let chunk = Math.max(1, Math.min(opts.chunk ?? 1024, 4096));
  const ackEach = (opts.ack ?? 'each') === 'each';
  const sock = NetlinkSocket.open({ receiveBufferBytes: chunk * ACK_TRUESIZE, sendBufferBytes: chunk * 128 + 65536 });
  try {
    // Without CAP_NET_ADMIN in the initial namespace the kernel caps the buffer at net.core.rmem_max: then send
    // fewer requests at a time rather than lose ACKs (an overrun leaves the outcome unknown).
    if (ackEach) chunk = Math.max(1, Math.min(chunk, Math.floor(sock.receiveBufferBytes / ACK_TRUESIZE)));
    const names = new Map<string, number>();
    const indexOf = (d: NeighbourDevice): number => {
      if (d.ifindex !== undefined) return d.ifindex;
      let i = names.get(d.ifname);
      if (i === undefined) names.set(d.ifname, (i = getLink(sock, d.ifname).index));
      return i;
    };
    let done = 0;
    const failed: { index: number; error: NetlinkSystemError }[] = [];
    for (let start = 0; start < changes.length; start += chunk) {
      const part = changes.slice(start, start + chunk);
      const reprs = part.map((c) => (c.op === 'add' ? addRepr(c, indexOf(c)) : delRepr(c, indexOf(c))));
      const lens = reprs.map((r) => Hdr.SIZE + NeighMessage.bufferLen(r));
      const bytes = new Uint8Array(lens.reduce((a, b) => a + b, 0)); // every length is a multiple of 4: no padding between
      const firstSeq = sock.nextSeq();
      let offset = 0;
      part.forEach((c, i) => {
        const seq = i === 0 ? firstSeq : sock.nextSeq();
        const type = c.op === 'add' ? Rtm.NEWNEIGH : Rtm.DELNEIGH;
        const ack = ackEach || i === part.length - 1 ? NlmF.ACK : 0;
        const flags = NlmF.REQUEST | ack | (c.op === 'add' ? addFlags(c) : 0);
        NetlinkMessage.emitHeader({ type, flags, seq, pid: 0 }, lens[i]! - Hdr.SIZE, bytes, offset);
        NeighMessage.emit(reprs[i]!, bytes, offset + Hdr.SIZE);
        offset += lens[i]!;
      });
      const refused: BatchAnswer[] = sock.batch(bytes, firstSeq, part.length, `apply ${part.length} neighbour changes`);
      done += part.length - refused.length;
      for (const a of refused) {
        const c = part[a.index]!;
        failed.push({ index: start + a.index, error: systemError(describe(c.op === 'add' ? 'add' : 'delete', c, indexOf(c)), a.errno, a.extack) });
      }
    }
    return { done, failed };
  } finally {
    sock.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------

/** One family's table (of `f.ifname` only, or its proxy entries), the entries `keep` keeps. */
function dump<E extends { readonly ifindex: number }>(
  sock: NetlinkSocket,
  family: typeof AF_INET | typeof AF_INET6,
  f: { readonly ifname?: string; readonly proxy?: boolean },
  entry: (r: NeighRepr, names: Map<number, string>) => E | null,
  keep: (e: E) => boolean,
): E[] {
  const only = f.ifname === undefined ? undefined : getLink(sock, f.ifname).index;
  const names = linkNames(sock);
  const req: NeighRepr = { family, ifindex: 0, state: 0, flags: f.proxy ? Ntf.PROXY : 0, type: 0 };
  const out: E[] = [];
  for (const m of sock.request(Rtm.GETNEIGH, NlmF.DUMP, NeighMessage, req, family === AF_INET ? 'list neighbours' : 'list IPv6 neighbours')) {
    if (m.type !== Rtm.NEWNEIGH || m.payload[0] !== family) continue;
    const e = entry(NeighMessage.parse(m.payload), names);
    if (e !== null && (only === undefined || e.ifindex === only) && keep(e)) out.push(e);
  }
  return out;
}

function deviceIndex(sock: NetlinkSocket, d: NeighbourDevice): number {
  if (d.ifindex !== undefined) return d.ifindex;
  if (d.ifname === undefined) throw new InvalidNeighbourError('interface', '(none)', 'given: name the interface (ifname) or give its index (ifindex)');
  return getLink(sock, d.ifname).index;
}

/** ENODEV: the interface went away, or an `ifindex` named none. */
function deviceError(err: unknown, d: NeighbourDevice): unknown {
  return err instanceof NetlinkSystemError && err.errno === ENODEV ? new UnknownInterfaceError(d.ifname ?? d.ifindex!) : err;
}

const formatIp = (ip: Ipv4 | Ipv6): string => (typeof ip === 'string' ? ip : Ipv4.format(ip));

/** The address attribute of a request: IPv4's or IPv6's. */
const destination = (ip: Ipv4 | Ipv6): Pick<NeighRepr, 'family' | 'dst' | 'dst6'> => (typeof ip === 'string' ? { family: AF_INET6, dst6: ip } : { family: AF_INET, dst: ip });

function addFlags(spec: NeighbourSpec): number {
  // Like `ip neigh add` / `ip neigh replace`: create, and either refuse an existing entry or replace it.
  return NlmF.CREATE | (spec.replace ? NlmF.REPLACE : NlmF.EXCL);
}

function addRepr(spec: NeighbourSpec, ifindex: number): NeighRepr {
  const flags = (spec.proxy ? Ntf.PROXY : 0) | (spec.router ? Ntf.ROUTER : 0);
  return {
    ...destination(spec.ip),
    ifindex,
    state: stateBit(spec.state ?? 'permanent'),
    flags,
    type: 0,
    ...(spec.mac !== undefined && !spec.proxy && { lladdr: Mac.toBytes(spec.mac) }),
  };
}

function delRepr(key: NeighbourKey, ifindex: number): NeighRepr {
  return { ...destination(key.ip), ifindex, state: 0, flags: key.proxy ? Ntf.PROXY : 0, type: 0 };
}

function describe(op: 'add' | 'delete', k: NeighbourKey, ifindex: number): string {
  return `${op} ${k.proxy ? 'proxy ' : ''}neighbour ${formatIp(k.ip)} dev ${k.ifname ?? `#${ifindex}`}`;
}

const MAC_TEXT = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** Refuses addresses ARP (or, for IPv6, Neighbor Discovery) never resolves. Throws InvalidNeighbourError. */
export function checkIp(ip: Ipv4 | Ipv6): void {
  if (typeof ip === 'string') {
    let canonical: Ipv6 | null = null;
    try {
      canonical = Ipv6.parse(ip);
    } catch {
      // reported below
    }
    if (canonical !== ip) throw new InvalidNeighbourError('ip', ip, 'is not an IPv6 address in canonical form: parse it with Ipv6.parse');
    const kind = Ipv6.isUnspecified(ip) ? 'the unspecified address' : Ipv6.isMulticast(ip) ? 'a multicast address' : ip === '::1' ? 'the loopback address' : undefined;
    if (kind) throw new InvalidNeighbourError('ip', ip, `is ${kind}, not a unicast neighbour: give the neighbour's IPv6 address`);
    return;
  }
  if (!Number.isInteger(ip) || ip < 0 || ip > 0xffffffff) throw new InvalidNeighbourError('ip', String(ip), 'is not an IPv4 address: parse it with Ipv4.parse');
  // The kernel would file these under NOARP or reject them late; none is a neighbour ARP resolves.
  const kind = Ipv4.isUnspecified(ip) ? 'the unspecified address' : Ipv4.isBroadcast(ip) ? 'the broadcast address' : Ipv4.isMulticast(ip) ? 'a multicast address' : Ipv4.isLoopback(ip) ? 'a loopback address' : undefined;
  if (kind) throw new InvalidNeighbourError('ip', Ipv4.format(ip), `is ${kind}, not a unicast neighbour: give the neighbour's IPv4 address`);
}

/** Refuses MACs that cannot name one station. Throws InvalidNeighbourError. */
export function checkMac(mac: Mac): void {
  if (typeof mac !== 'string' || !MAC_TEXT.test(mac)) throw new InvalidNeighbourError('mac', String(mac), 'is not a MAC address: parse it with Mac.parse');
  if (Mac.isBroadcast(mac)) throw new InvalidNeighbourError('mac', mac, 'is the broadcast address, not one station: give the neighbour\'s own MAC');
  if (Mac.isMulticast(mac)) throw new InvalidNeighbourError('mac', mac, 'is a multicast (group) address, not one station: give the neighbour\'s own MAC');
  if (Mac.isZero(mac)) throw new InvalidNeighbourError('mac', mac, 'is all zeros, not a station: give the neighbour\'s own MAC');
}

function checkSpec(spec: NeighbourSpec): void {
  checkKey(spec);
  const state = spec.state ?? 'permanent';
  if (!['permanent', 'reachable', 'stale', 'noarp'].includes(state)) throw new InvalidNeighbourError('state', String(state), 'is not one an entry can be created in: choose permanent, reachable, stale or noarp');
  if (spec.proxy) return;
  if (spec.mac === undefined) throw new InvalidNeighbourError('mac', '(none)', 'given: an entry needs the MAC the IP maps to (only proxy entries have none)');
  checkMac(spec.mac);
}

function checkKey(key: NeighbourKey): void {
  checkIp(key.ip);
  if (key.ifindex === undefined && (typeof key.ifname !== 'string' || key.ifname === '')) throw new InvalidNeighbourError('interface', JSON.stringify(key.ifname ?? null), 'names no interface: name it (ifname) or give its index (ifindex)');
  if (key.ifindex !== undefined && (!Number.isInteger(key.ifindex) || key.ifindex <= 0)) throw new InvalidNeighbourError('interface', String(key.ifindex), 'is not an interface index (a positive integer)');
}
