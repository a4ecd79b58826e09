/**
 * The ledger's connection type, and how a write transaction runs on it: it
 * begins IMMEDIATE, so a writer takes SQLite's write lock before it reads
 * anything and never fails halfway on a lock upgrade when several pycstore runs
 * share a store. A writer that has to wait for another is told so, and waits up
 * to the busy timeout.
 */
import type Database from 'better-sqlite3';
import { PycstoreError } from '../errors.js';

export type Db = Database.Database;

/** How long a writer waits for another one (SQLite's busy timeout). */
export const BUSY_TIMEOUT_MS = 30_000;

export function isBusy(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && /^SQLITE_(BUSY|LOCKED)/.test(String((err as { code: unknown }).code));
}

/**
 * Run `fn` in a transaction that begins IMMEDIATE. The first attempt doesn't wait; if another
 * connection holds the write lock, `onWait` is told (once per call) and the transaction is retried
 * within the busy timeout. `onRollback` runs whenever a try is rolled back (caches to forget).
 */
export function immediate<T>(db: Db, fn: () => T, hooks: { onWait?: (() => void) | undefined; onRollback?: () => void } = {}): T {
  const tx = db.transaction(fn);
  db.pragma('busy_timeout = 0');
  try {
    return tx.immediate();
  } catch (err) {
    hooks.onRollback?.();
    if (!isBusy(err)) throw err;
  } finally {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  }
  hooks.onWait?.();
  try {
    return tx.immediate();
  } catch (err) {
    hooks.onRollback?.();
    if (!isBusy(err)) throw err;
    throw new PycstoreError('ELOCKED', `the ledger stayed locked by another process for ${BUSY_TIMEOUT_MS / 1000} s`, {
      hint: 'another pycstore (or a tool holding the ledger open) is writing it; try again when it has finished',
      cause: err,
    });
  }
}

