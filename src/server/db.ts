import type BetterSqlite3 from 'better-sqlite3';
import { closeSync, openSync } from 'node:fs';
import { MIGRATIONS } from './migrations.js';
import { Database } from './sqlite.js';

export type Db = BetterSqlite3.Database;

/**
 * Opens (creating if needed) the platform database: WAL for concurrent readers and crash safety, foreign
 * keys on, and every pending migration applied in one transaction each. `:memory:` gives a private database.
 */
export function openDatabase(file: string): Db {
  if (file !== ':memory:') createPrivately(file);
  const db = new Database(file);
  if (file !== ':memory:') db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL'); // with WAL: durable across process crashes, fsync at checkpoints
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000'); // another process (a CLI beside the server) may hold the write lock briefly
  migrate(db);
  return db;
}

/**
 * Creates a new database file with mode 0600, as the key file is: it holds token hashes, sealed credentials
 * and everyone's addresses. SQLite would create it 0644 (less the umask), and gives its -wal and -shm files the
 * database file's mode, so they are 0600 too. An existing file is left as it is.
 */
function createPrivately(file: string): void {
  try {
    closeSync(openSync(file, 'wx', 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function migrate(db: Db): void {
  const current = schemaVersion(db);
  if (current > MIGRATIONS.length) {
    throw new Error(`database schema version ${current} is newer than this orgctl knows (${MIGRATIONS.length}); upgrade orgctl`);
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}

/**
 * Why the database cannot be written, or undefined when it can. SQLite opens a file it may not write
 * read-only without a word, and only the first write fails; this tries one (a write transaction that
 * changes nothing, rolled back). A database another process is writing to right now counts as writable.
 */
export function unwritableReason(db: Db): string | undefined {
  try {
    db.exec('BEGIN IMMEDIATE');
    try {
      db.pragma(`user_version = ${schemaVersion(db)}`);
    } finally {
      db.exec('ROLLBACK');
    }
    return undefined;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_READONLY')) return (err as Error).message;
    if (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) return undefined;
    throw err;
  }
}
