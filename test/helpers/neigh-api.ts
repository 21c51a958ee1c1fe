/**
 * Runs @ersatz/netlink calls in this process (which a test starts inside a lab namespace with `ip netns exec`:
 * netlink acts on the namespace of the calling process) and prints one JSON line per call:
 * `{ "ok": true, "value": ... }` or `{ "ok": false, "error": { name, message, ...fields } }`. IPv4 addresses travel
 * as dotted text both ways. Usage: node neigh-api.js '[{"op":"discoverInterface","args":{"target":"198.51.100.7"}}]'
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { Ipv4, Mac } from '@ersatz/wire';
import {
  addNeighbour,
  addresses,
  defaultRoute,
  deleteNeighbour,
  discoverInterface,
  link,
  links,
  neighbour,
  neighbourBatch,
  neighbours,
  neighbours$,
  route,
  type NeighbourChange,
  type NeighEvent,
} from '@ersatz/netlink';

export type ApiCall =
  | { op: 'links' }
  | { op: 'link'; id: string | number }
  | { op: 'addresses'; ifindex?: number }
  | { op: 'route'; ip: string; ifname?: string }
  | { op: 'defaultRoute'; ifname?: string }
  | { op: 'discoverInterface'; ifname?: string; target?: string }
  | { op: 'neighbours'; ifname?: string; proxy?: boolean }
  | { op: 'neighbour'; ip: string; ifname?: string; ifindex?: number; proxy?: boolean }
  | { op: 'add'; ip: string; mac?: string; ifname?: string; ifindex?: number; state?: string; replace?: boolean; proxy?: boolean }
  | { op: 'delete'; ip: string; ifname?: string; ifindex?: number; proxy?: boolean }
  /** `count` adds (or dels) from `first` upward, MACs 02:00:00:xx:xx:xx; `extra` changes appended as given. */
  | { op: 'batch'; kind: 'add' | 'del'; first: string; count: number; ifname: string; extra?: ApiChange[]; ack?: 'each' | 'errors'; chunk?: number }
  /** Subscribes to neighbours$, runs `during` (its results go into the value), collects `count` events, unsubscribes. */
  | { op: 'watch'; ifname?: string; count: number; timeoutMs: number; during: ApiCall[] };

export type ApiChange = { op: 'add'; ip: string; mac: string; ifname: string; replace?: boolean } | { op: 'del'; ip: string; ifname: string };

export type ApiResult = { ok: true; value: unknown } | { ok: false; error: { name: string; message: string; [field: string]: unknown } };

// Fields that hold an Ipv4 (a uint32), or a list of them, in the API's answers and errors.
const IP_FIELDS = new Set(['ip', 'address', 'gateway', 'prefsrc', 'broadcast', 'peer', 'target']);
const IP_LISTS = new Set(['addresses']);
function plain(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (key, v: unknown) =>
      IP_FIELDS.has(key) && typeof v === 'number' ? Ipv4.format(v as Ipv4) : IP_LISTS.has(key) && Array.isArray(v) ? v.map((x) => (typeof x === 'number' ? Ipv4.format(x as Ipv4) : x)) : v,
    ),
  );
}

const ip = (text: string) => Ipv4.parse(text);
const device = (c: { ifname?: string; ifindex?: number }) => (c.ifindex !== undefined ? { ifindex: c.ifindex } : { ifname: c.ifname! });

/** Sockets this process holds open (to see the watch close its own). */
function openSockets(): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:');
    } catch {
      return false; // the fd readdir itself used, gone by now
    }
  }).length;
}

function change(c: ApiChange): NeighbourChange {
  return c.op === 'add' ? { op: 'add', ip: ip(c.ip), mac: Mac.parse(c.mac), ifname: c.ifname, ...(c.replace && { replace: true }) } : { op: 'del', ip: ip(c.ip), ifname: c.ifname };
}

async function call(c: ApiCall): Promise<unknown> {
  switch (c.op) {
    case 'links':
      return links();
    case 'link':
      return link(c.id);
    case 'addresses':
      return addresses(c.ifindex);
    case 'route':
      return route(ip(c.ip), c.ifname === undefined ? {} : { ifname: c.ifname });
    case 'defaultRoute':
      return defaultRoute(c.ifname === undefined ? {} : { ifname: c.ifname });
    case 'discoverInterface':
      return await discoverInterface({ ...(c.ifname !== undefined && { ifname: c.ifname }), ...(c.target !== undefined && { target: ip(c.target) }) });
    case 'neighbours':
      return neighbours({ ...(c.ifname !== undefined && { ifname: c.ifname }), ...(c.proxy && { proxy: true }) });
    case 'neighbour':
      return neighbour({ ip: ip(c.ip), ...device(c), ...(c.proxy && { proxy: true }) });
    case 'add':
      return addNeighbour({
        ip: ip(c.ip),
        ...device(c),
        ...(c.mac !== undefined && { mac: Mac.parse(c.mac) }),
        ...(c.state !== undefined && { state: c.state as 'permanent' }),
        ...(c.replace && { replace: true }),
        ...(c.proxy && { proxy: true }),
      });
    case 'delete':
      return deleteNeighbour({ ip: ip(c.ip), ...device(c), ...(c.proxy && { proxy: true }) });
    case 'batch': {
      const first = ip(c.first);
      const changes: NeighbourChange[] = Array.from({ length: c.count }, (_, i) => {
        const at = (first + i) as Ipv4;
        if (c.kind === 'del') return { op: 'del', ip: at, ifname: c.ifname };
        const mac = Mac.fromBytes(Uint8Array.of(2, 0, 0, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff));
        return { op: 'add', ip: at, mac, ifname: c.ifname };
      });
      changes.push(...(c.extra ?? []).map(change));
      const r = neighbourBatch(changes, { ...(c.ack && { ack: c.ack }), ...(c.chunk && { chunk: c.chunk }) });
      return { done: r.done, failed: r.failed.map((f) => ({ index: f.index, code: f.error.code, message: f.error.message })) };
    }
    case 'watch': {
      const before = openSockets();
      const events: NeighEvent[] = [];
      let during = 0;
      const results: ApiResult[] = [];
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          sub.unsubscribe();
          resolve();
        }, c.timeoutMs);
        const sub = neighbours$(c.ifname === undefined ? {} : { ifname: c.ifname }).subscribe({
          next: (e) => {
            events.push(e);
            if (events.length >= c.count) {
              clearTimeout(timer);
              // Unsubscribing from inside the socket's own poll callback: the teardown must cope.
              sub.unsubscribe();
              resolve();
            }
          },
          error: (err: unknown) => {
            clearTimeout(timer);
            reject(err as Error);
          },
        });
        during = openSockets();
        void (async () => {
          for (const d of c.during) results.push(await settle(d));
        })();
      });
      return { events, sockets: { before, during, after: openSockets() }, results };
    }
  }
}

async function settle(c: ApiCall): Promise<ApiResult> {
  try {
    return { ok: true, value: plain((await call(c)) ?? null) };
  } catch (err) {
    // Errors lose their class across processes: send the name, message and fields.
    const e = err as Error;
    return { ok: false, error: plain({ ...e, name: e.name, message: e.message }) as { name: string; message: string } };
  }
}

const calls = JSON.parse(process.argv[2] ?? '[]') as ApiCall[];
for (const c of calls) process.stdout.write(`${JSON.stringify(await settle(c))}\n`);
