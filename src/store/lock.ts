/**
 * The store lock: shared for dedup (many may run at once), exclusive for gc.
 *
 * It is a SQLite database in rollback-journal mode used only for its file
 * locks: a shared holder keeps a read transaction open (SQLite SHARED lock), an
 * exclusive holder a `BEGIN EXCLUSIVE` transaction. SQLite implements these
 * with POSIX advisory locks on Unix and LockFileEx on Windows, so they work on
 * every platform Node runs on, are released by the kernel when a process dies
 * (no stale lock files after a crash), and a waiting exclusive locker blocks
 * new shared lockers (PENDING) so gc isn't starved. Whoever has to wait says
 * so on stderr, naming the holder recorded in `lock-v1.sqlite.holder`.
 */
import Database from 'better-sqlite3';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { PycstoreError } from '../errors.js';
import { lockPath } from './location.js';

export type LockMode = 'shared' | 'exclusive';

export interface StoreLock {
  readonly mode: LockMode;
  release(): void;
}

export interface LockOptions {
  /** Called once if the lock isn't free right away. */
  readonly onWait?: (message: string) => void;
  /** Give up after this many ms (default: wait as long as it takes). */
  readonly timeoutMs?: number;
  /** Who we are, for the waiting message of others ("dedup", "gc"). */
  readonly command: string;
}

function holderFile(storeDir: string): string {
  return `${lockPath(storeDir)}.holder`;
}

function describeHolder(storeDir: string): string {
  try {
    const h = JSON.parse(readFileSync(holderFile(storeDir), 'utf8')) as { command?: string; pid?: number };
    return `pycstore ${h.command ?? '?'} (pid ${h.pid ?? '?'})`;
  } catch {
    return 'another pycstore';
  }
}

function isBusy(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && String((err as { code: unknown }).code).startsWith('SQLITE_BUSY');
}

export function acquireLock(storeDir: string, mode: LockMode, opts: LockOptions): StoreLock {
  // timeout 0: every statement that touches the file (even reading its schema) is subject to the
  // lock, so all of them happen inside begin(), which is retried with a busy timeout below.
  const db = new Database(lockPath(storeDir), { timeout: 0 });
  const begin = (): void => {
    db.pragma('journal_mode = DELETE');
    db.exec('CREATE TABLE IF NOT EXISTS lock (x INTEGER)');
    if (mode === 'exclusive') db.exec('BEGIN EXCLUSIVE');
    else {
      db.exec('BEGIN');
      db.prepare('SELECT count(*) FROM lock').get(); // takes the SHARED lock and keeps it
    }
  };
  try {
    begin();
  } catch (err) {
    if (!isBusy(err)) {
      db.close();
      throw err;
    }
    try {
      db.exec('ROLLBACK');
    } catch {
      // no transaction open
    }
    const other = describeHolder(storeDir);
    opts.onWait?.(
      mode === 'exclusive'
        ? `waiting for ${other} to finish with the store before ${opts.command} can start…`
        : `waiting for ${other} to finish with the store (${opts.command} needs it too)…`,
    );
    db.pragma(`busy_timeout = ${opts.timeoutMs ?? 2_147_483_647}`);
    try {
      begin();
    } catch (err2) {
      db.close();
      if (isBusy(err2)) {
        throw new PycstoreError('ELOCKED', `the store is locked by ${describeHolder(storeDir)}`, {
          hint: 'try again when it has finished',
        });
      }
      throw err2;
    }
  }
  // Informational only: the lock itself is the SQLite lock above.
  try {
    writeFileSync(holderFile(storeDir), JSON.stringify({ command: opts.command, pid: process.pid, mode, since: Date.now() }));
  } catch {
    // not essential
  }
  let released = false;
  return {
    mode,
    release() {
      if (released) return;
      released = true;
      try {
        if (mode === 'exclusive') rmSync(holderFile(storeDir), { force: true });
        db.exec('COMMIT');
      } finally {
        db.close();
      }
    },
  };
}
