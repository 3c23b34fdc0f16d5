/**
 * One way to open the assistant's own SQLite files (tickets, staff accounts and audit,
 * analytics, knowledge history): created private (0600, folder 0700 when we create it),
 * WAL so the CLI and the running assistant can use a file at the same time, and a busy
 * timeout instead of an immediate "database is locked".
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/** Opens (creating when missing) a private SQLite database; `:memory:` works for tests. */
export function openPrivateDatabase(file: string): Database.Database {
  if (file !== ':memory:') {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    // Create the file ourselves so it never exists with the umask's wider permissions;
    // SQLite gives its -wal and -shm files the main file's permissions.
    if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
    chmodSync(file, 0o600);
  }
  const db = new Database(file, { timeout: 5000 });
  if (file !== ':memory:') db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  return db;
}
