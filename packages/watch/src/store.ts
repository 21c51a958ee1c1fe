// The station database: one SQLite file in WAL mode, written one transaction per batch of observations, so a
// `kill -9` at any moment loses at most the batch in flight and never leaves a half-written one (SQLite's journal
// rolls it back at the next open). Addresses are stored as text, so `sqlite3 FILE 'select * from stations'` reads.
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { Ipv4, Mac, printableValue } from '@ersatz/wire';
import { openSqlite, type Database, type SqliteDriver, type Statement } from './sqlite.js';
import type { SeenAs, Station, WatchEvent } from './detector.js';

/** `$XDG_STATE_HOME/ersatz/stations.db`, else `~/.local/state/ersatz/stations.db` (the XDG default). */
export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string {
  const state = env.XDG_STATE_HOME !== undefined && env.XDG_STATE_HOME !== '' ? env.XDG_STATE_HOME : join(homedir(), '.local', 'state');
  return join(state, 'ersatz', 'stations.db');
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS stations (
  ifname TEXT NOT NULL, ip TEXT NOT NULL, mac TEXT NOT NULL, vendor TEXT,
  first_seen_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL,
  seen_as TEXT NOT NULL, -- comma-separated, in first-seen order: request,reply,gratuitous,sweep,kernel
  silent INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (ifname, ip)
);
-- The history: every event, with the facts that caused it as JSON.
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, ifname TEXT NOT NULL, kind TEXT NOT NULL, severity TEXT NOT NULL,
  ip TEXT, mac TEXT, facts TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_ip ON events (ifname, ip);
`;

interface StationRow {
  ifname: string;
  ip: string;
  mac: string;
  vendor: string | null;
  first_seen_ms: number;
  last_seen_ms: number;
  seen_as: string;
  silent: number;
}

export class StationStore {
  readonly path: string;
  readonly driver: SqliteDriver;
  readonly #db: Database;
  readonly #upsert: Statement;
  readonly #insertEvent: Statement;

  private constructor(path: string, db: Database, driver: SqliteDriver) {
    this.path = path;
    this.#db = db;
    this.driver = driver;
    this.#upsert = db.prepare(
      `INSERT INTO stations (ifname, ip, mac, vendor, first_seen_ms, last_seen_ms, seen_as, silent) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (ifname, ip) DO UPDATE SET mac = excluded.mac, vendor = excluded.vendor, last_seen_ms = excluded.last_seen_ms,
       seen_as = excluded.seen_as, silent = excluded.silent`,
    );
    this.#insertEvent = db.prepare('INSERT INTO events (at_ms, ifname, kind, severity, ip, mac, facts) VALUES (?, ?, ?, ?, ?, ?, ?)');
  }

  /**
   * Opens the database at `path`, creating it (mode 0600, its folder 0700) and its tables when missing.
   * Throws SqliteUnavailableError, or the binding's error when the file is not a database or cannot be opened.
   */
  static async open(path: string): Promise<StationStore> {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // Created here, before SQLite opens it, so it is never readable by others; SQLite gives its -wal and -shm files
    // the database file's mode.
    closeSync(openSync(path, 'a', 0o600));
    const { db, driver } = await openSqlite(path);
    try {
      db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;');
      db.exec(SCHEMA);
    } catch (err) {
      db.close();
      throw err;
    }
    return new StationStore(path, db, driver);
  }

  stations(): Station[] {
    // Sorted here, not by SQL: the addresses are text there, and 10.0.0.10 would come before 10.0.0.9.
    const rows = this.#db.prepare('SELECT * FROM stations').all() as StationRow[];
    return rows
      .map((r) => ({
        ifname: r.ifname,
        ip: Ipv4.parse(r.ip),
        mac: Mac.parse(r.mac),
        vendor: r.vendor,
        firstSeenMs: r.first_seen_ms,
        lastSeenMs: r.last_seen_ms,
        seenAs: r.seen_as.split(',') as SeenAs[],
        silent: r.silent !== 0,
      }))
      .sort((a, b) => (a.ifname < b.ifname ? -1 : a.ifname > b.ifname ? 1 : a.ip - b.ip));
  }

  /** The history, oldest first: each event as it was emitted (printable JSON values). */
  events(): Record<string, unknown>[] {
    const rows = this.#db.prepare('SELECT facts FROM events ORDER BY id').all() as { facts: string }[];
    return rows.map((r) => JSON.parse(r.facts) as Record<string, unknown>);
  }

  /** One batch, in one transaction: the stations that changed and the events raised. */
  write(batch: { readonly stations: readonly Station[]; readonly events: readonly WatchEvent[] }): void {
    if (batch.stations.length === 0 && batch.events.length === 0) return;
    this.#db.exec('BEGIN');
    try {
      for (const s of batch.stations) {
        this.#upsert.run(s.ifname, Ipv4.format(s.ip), s.mac, s.vendor, s.firstSeenMs, s.lastSeenMs, s.seenAs.join(','), s.silent ? 1 : 0);
      }
      for (const e of batch.events) {
        const ip = 'ip' in e ? Ipv4.format(e.ip) : null;
        this.#insertEvent.run(e.atMs, e.ifname, e.kind, e.severity, ip, e.mac, JSON.stringify(printableValue(e)));
      }
      this.#db.exec('COMMIT');
    } catch (err) {
      this.#db.exec('ROLLBACK');
      throw err;
    }
  }

  close(): void {
    this.#db.close();
  }
}
