// Where `ersatz watch` tells its events: a line each (human or JSON), a command run per event (--exec), and the
// Prometheus text endpoint (--metrics).
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { Ipv4, printableValue } from '@ersatz/wire';
import { EVENT_KINDS, type BogonReason, type EventKind, type Station, type WatchEvent } from '@ersatz/watch';
import { UsageError } from '../exit.js';
import { warn } from '../warn.js';

/** One event as a human line: time, severity when not info, kind, interface, then the facts. */
export function eventLine(e: WatchEvent): string {
  const at = new Date(e.atMs).toISOString();
  const head = `${at} ${e.severity === 'info' ? '' : `${e.severity.toUpperCase()} `}${e.kind} ${e.ifname}`;
  const vendor = (v: string | null): string => (v === null ? '' : ` (${v})`);
  switch (e.kind) {
    case 'new':
      return `${head} ${Ipv4.format(e.ip)} is-at ${e.mac}${vendor(e.vendor)}, seen as ${e.seenAs}`;
    case 'new-ip':
      return `${head} ${e.mac}${vendor(e.vendor)} took ${Ipv4.format(e.ip)} (it also has ${e.previousIps.map(Ipv4.format).join(', ')})`;
    case 'moved':
    case 'gateway-moved': {
      const answered = e.answered.length === 0 ? 'neither answered' : `${e.answered.join(' and ')} ${e.verifiedBy === 'probe' ? 'answered' : 'spoke for it'}`;
      const verdict =
        e.verdict === 'replaced'
          ? `replaced: ${e.to} now holds it`
          : e.verdict === 'spoofing'
            ? `SPOOFING by ${e.forger}: ${e.mac} still holds it`
            : e.verdict === 'conflict'
              ? `conflict: ${e.from} and ${e.to} both hold it`
              : `unverified: ${e.to} taken as its holder`;
      return `${head} ${Ipv4.format(e.ip)} from ${e.from} to ${e.to}: ${verdict} (${answered}, ${e.verifiedBy === 'probe' ? 'asked both' : 'from the capture'})`;
    }
    case 'silent':
      return `${head} ${Ipv4.format(e.ip)} ${e.mac}: not seen since ${new Date(e.lastSeenMs).toISOString()}`;
    case 'back':
      return `${head} ${Ipv4.format(e.ip)} ${e.mac}: seen again after ${(e.silentForMs / 1000).toFixed(0)} s`;
    case 'bogon':
      return `${head} ${Ipv4.format(e.ip)} ${e.mac}: ${BOGON_WHY[e.reason](e.ifname)} (${e.seenAs})`;
    case 'mismatch':
      return `${head} ${Ipv4.format(e.ip)} ${e.mac}: sent from Ethernet source ${e.ethSrc}, not the MAC its ARP names (${e.seenAs})`;
    case 'flood':
      return `${head} ${e.mac}: ${e.frames} ARP frames in ${e.windowMs} ms`;
  }
}

const BOGON_WHY: Record<BogonReason, (ifname: string) => string> = {
  outside: (ifname) => `a sender outside every subnet of ${ifname}`,
  address: () => 'not a host address',
  'group-mac': () => 'a group (broadcast or multicast) MAC holds no address',
  'zero-mac': () => 'the all-zero MAC holds no address',
};

/** One event as a JSON Lines object. */
export function eventJson(e: WatchEvent): string {
  return JSON.stringify({ type: 'event', ...(printableValue(e) as object), at: new Date(e.atMs).toISOString() });
}

/** A station as its `ersatz stations` line. */
export function stationLine(s: Station): string {
  const seen = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
  return [s.ifname.padEnd(8), Ipv4.format(s.ip).padEnd(16), s.mac, ` ${seen(s.firstSeenMs)}  ${seen(s.lastSeenMs)}  `, `${s.seenAs.join(',')}${s.silent ? ' (silent)' : ''}`.padEnd(24), s.vendor ?? ''].join(' ').trimEnd();
}

export const STATION_HEADER = `${'IF'.padEnd(8)} ${'IP'.padEnd(16)} MAC                FIRST SEEN            LAST SEEN             ${'SEEN AS'.padEnd(24)} VENDOR`;

export function stationJson(s: Station): string {
  return JSON.stringify(printableValue({ type: 'station', ...s, firstSeen: new Date(s.firstSeenMs).toISOString(), lastSeen: new Date(s.lastSeenMs).toISOString() }));
}

const EXEC_CONCURRENCY = 4;
const EXEC_QUEUE = 1000;
const EXEC_TIMEOUT_MS = 10_000;

/**
 * --exec CMD: runs `sh -c CMD` per event, the event as JSON on its stdin and as ERSATZ_* variables, at most
 * EXEC_CONCURRENCY at once and each for at most EXEC_TIMEOUT_MS; a failure or timeout is a warning on stderr. Never
 * waits on the capture's path: events beyond a queue of EXEC_QUEUE are counted as dropped and said once.
 */
export class EventCommand {
  readonly #command: string;
  readonly #queue: WatchEvent[] = [];
  #running = 0;
  #idle: (() => void) | null = null;
  dropped = 0;
  failed = 0;

  constructor(command: string) {
    this.#command = command;
  }

  push(e: WatchEvent): void {
    if (this.#queue.length >= EXEC_QUEUE) {
      if (this.dropped++ === 0) warn(`watch: --exec is ${EXEC_QUEUE} events behind: dropping events for it (counted in the summary)`);
      return;
    }
    this.#queue.push(e);
    this.#next();
  }

  /** Resolves once every queued event's command has ended. */
  drain(): Promise<void> {
    if (this.#running === 0 && this.#queue.length === 0) return Promise.resolve();
    return new Promise((done) => (this.#idle = done));
  }

  #next(): void {
    while (this.#running < EXEC_CONCURRENCY && this.#queue.length > 0) {
      const e = this.#queue.shift()!;
      this.#running++;
      this.#run(e).finally(() => {
        this.#running--;
        this.#next();
        if (this.#running === 0 && this.#queue.length === 0) this.#idle?.();
      });
    }
  }

  #run(e: WatchEvent): Promise<void> {
    const facts = printableValue(e) as Record<string, unknown>;
    const env: NodeJS.ProcessEnv = { ...process.env, ERSATZ_EVENT: e.kind, ERSATZ_SEVERITY: e.severity, ERSATZ_INTERFACE: e.ifname, ERSATZ_AT: new Date(e.atMs).toISOString() };
    for (const [k, v] of Object.entries(facts)) {
      if (typeof v === 'string' || typeof v === 'number') env[`ERSATZ_${k.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`] = String(v);
    }
    return new Promise((done) => {
      const child = spawn('sh', ['-c', this.#command], { env, stdio: ['pipe', 'inherit', 'inherit'], timeout: EXEC_TIMEOUT_MS });
      child.stdin.on('error', () => {}); // a command that does not read its stdin
      child.stdin.end(`${eventJson(e)}\n`);
      child.on('error', (err) => {
        this.failed++;
        warn(`watch: --exec: ${err.message}`);
        done();
      });
      child.on('exit', (code, signal) => {
        if (code !== 0) {
          this.failed++;
          warn(`watch: --exec for a ${e.kind} event ${signal === null ? `exited with ${code}` : `was stopped by ${signal}${signal === 'SIGTERM' ? ` after ${EXEC_TIMEOUT_MS / 1000} s` : ''}`}`);
        }
        done();
      });
    });
  }
}

/** What the metrics endpoint reads on each request. */
export interface MetricsSource {
  stationsByInterface(): Map<string, number>;
  readonly eventsByKind: Map<EventKind, number>;
  readonly framesByInterface: Map<string, number>;
  dropsByInterface(): Promise<Map<string, number>>;
}

/** `HOST:PORT`, or `PORT` alone for loopback (127.0.0.1): the metrics stay on this host unless a HOST says otherwise. Throws UsageError. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:(.+):)?(\d{1,5})$/.exec(text);
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || port < 1 || port > 65535) throw new UsageError(`watch: --metrics ${JSON.stringify(text)}: expected PORT or HOST:PORT, like 9464 or 127.0.0.1:9464`);
  return { host: m[1] ?? '127.0.0.1', port };
}

/** Serves GET /metrics in Prometheus's text format. Resolves once listening; rejects with UsageError when it cannot. */
export async function serveMetrics(listen: { host: string; port: number }, source: MetricsSource): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url !== '/metrics' && req.url !== '/')) {
      res.writeHead(404).end('not found: GET /metrics\n');
      return;
    }
    void metricsText(source).then((text) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(text));
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', (err) => fail(new UsageError(`watch: --metrics ${listen.host}:${listen.port}: ${err.message}`)));
    server.listen(listen.port, listen.host, ok);
  });
  return server;
}

async function metricsText(s: MetricsSource): Promise<string> {
  const lines: string[] = [];
  const family = (name: string, type: 'gauge' | 'counter', help: string, rows: [string, number][]): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...rows.map(([labels, v]) => `${name}${labels} ${v}`));
  };
  const byIf = (m: Map<string, number>): [string, number][] => [...m].map(([ifname, v]) => [`{interface="${ifname}"}`, v]);
  family('ersatz_watch_stations', 'gauge', 'Stations known, by interface.', byIf(s.stationsByInterface()));
  family('ersatz_watch_events_total', 'counter', 'Events raised, by kind.', EVENT_KINDS.map((k) => [`{kind="${k}"}`, s.eventsByKind.get(k) ?? 0]));
  family('ersatz_watch_frames_total', 'counter', 'ARP frames seen, by interface.', byIf(s.framesByInterface));
  family('ersatz_watch_drops_total', 'counter', 'Frames the capture pipeline dropped, by interface.', byIf(await s.dropsByInterface()));
  return `${lines.join('\n')}\n`;
}
