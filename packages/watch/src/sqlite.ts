// The SQLite binding: Node's own `node:sqlite` where the running Node has it without a flag (22.13 and later, 24),
// else better-sqlite3 12 (a native addon, the one that runs on Node 20). Both are synchronous, which a store written
// once per batch wants, and both take the same SQL with positional parameters: only the opening differs.
import { createRequire } from 'node:module';

export interface Statement {
  run(...params: readonly SqlValue[]): unknown;
  get(...params: readonly SqlValue[]): unknown;
  all(...params: readonly SqlValue[]): unknown[];
}

export interface Database {
  exec(sql: string): void;
  prepare(sql: string): Statement;
  close(): void;
}

export type SqlValue = string | number | null;
export type SqliteDriver = 'node:sqlite' | 'better-sqlite3';

/** Neither binding loads: the message says what to install. */
export class SqliteUnavailableError extends Error {
  override readonly name = 'SqliteUnavailableError';
  readonly code = 'ERSATZ_SQLITE_UNAVAILABLE';
}

/** Opens (creating) the database file at `path`. Throws SqliteUnavailableError, or the binding's error for the file. */
export async function openSqlite(path: string): Promise<{ db: Database; driver: SqliteDriver }> {
  const builtin = await importBuiltin();
  if (builtin !== null) return { db: new (builtin as { DatabaseSync: new (path: string) => Database }).DatabaseSync(path), driver: 'node:sqlite' };
  let Better: new (path: string) => Database;
  try {
    Better = createRequire(import.meta.url)('better-sqlite3') as typeof Better;
  } catch (err) {
    throw new SqliteUnavailableError(
      `no SQLite binding: Node ${process.versions.node} has no node:sqlite and better-sqlite3 did not load (${(err as Error).message.split('\n')[0]}): ` +
        "run on Node 22.13 or later, or 'npm install better-sqlite3'",
    );
  }
  return { db: new Better(path), driver: 'better-sqlite3' };
}

/**
 * `node:sqlite`, or null where the running Node has none. On Node 22 loading it prints "ExperimentalWarning: SQLite
 * is an experimental feature" on stderr, a line around a command's own output that its user did not ask for: that one
 * warning is held back while it loads; any other goes out as usual.
 */
async function importBuiltin(): Promise<unknown> {
  const emit = process.emitWarning;
  process.emitWarning = function (this: NodeJS.Process, warning: string | Error, ...rest: unknown[]): void {
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    const text = typeof warning === 'string' ? warning : warning.message;
    if (type === 'ExperimentalWarning' && text.startsWith('SQLite')) return;
    (emit as (...args: unknown[]) => void).call(this, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    return await import('node:sqlite' as string).catch(() => null);
  } finally {
    process.emitWarning = emit;
  }
}
