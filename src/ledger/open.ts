/**
 * The one place the ledger is opened: WAL, busy timeout, foreign keys, then
 * migrations. A ledger written by a newer pycstore is refused. Several
 * processes may open a new or older ledger at once: each migration runs in an
 * IMMEDIATE transaction that re-reads `user_version` once it holds the write
 * lock, so exactly one of them migrates and the others wait (saying so) and
 * find it done.
 */
import Database from 'better-sqlite3';
import { existsSync, readFileSync } from 'node:fs';
import { errnoCode, PycstoreError } from '../errors.js';
import { ledgerWayOut } from './advice.js';
import { ledgerPath } from '../store/location.js';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';
import { BUSY_TIMEOUT_MS, immediate, type Db } from './db.js';

export type { Db } from './db.js';

export interface OpenOptions {
  readonly readonly?: boolean;
  /** Told once if migrating has to wait for another process. */
  readonly onWait?: (message: string) => void;
}

export function openLedger(storeDir: string, opts: OpenOptions = {}): Db {
  const file = ledgerPath(storeDir);
  let db: Db;
  let inMemory = false;
  try {
    if (opts.readonly && !existsSync(`${file}-wal`)) {
      inMemory = true;
      // Nobody has it open: read a private in-memory copy, so that reading leaves no trace on disk
      // (SQLite would create the -wal and -shm side files even for a read-only connection).
      const image = readFileSync(file);
      // A WAL database's header says so (bytes 18-19 = 2); an in-memory copy must read as rollback-journal.
      if (image.length >= 20 && image[18] === 2 && image[19] === 2) {
        image[18] = 1;
        image[19] = 1;
      }
      db = new Database(image);
    } else {
      db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
    }
  } catch (err) {
    throw unreadable(file, err, opts.readonly ?? false);
  }
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    if (!opts.readonly) {
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') {
        // WAL needs shared memory; some network filesystems refuse it. Rollback journal still works.
        db.pragma('journal_mode = DELETE');
      }
      db.pragma('synchronous = NORMAL');
    }
    db.pragma('foreign_keys = ON');
    // An in-memory copy of an older ledger is migrated in memory: reading needs no upgrade on disk.
    migrate(db, file, (opts.readonly ?? false) && !inMemory, opts.onWait);
  } catch (err) {
    if (db.open) db.close();
    throw err instanceof PycstoreError || !cannotRead(err) ? err : unreadable(file, err, opts.readonly ?? false);
  }
  return db;
}

/** SQLite's answer for a file it can't read as a ledger (as opposed to, say, waiting too long for a lock). */
function cannotRead(err: unknown): boolean {
  const code = errnoCode(err) ?? '';
  return ['SQLITE_NOTADB', 'SQLITE_CORRUPT', 'SQLITE_CANTOPEN', 'SQLITE_PERM', 'SQLITE_READONLY'].includes(code) || code.startsWith('SQLITE_IOERR');
}

/** A ledger SQLite can't open or read (not a database, damaged, no permission): a refusal naming the file and the way out. */
function unreadable(file: string, err: unknown, readonly: boolean): PycstoreError {
  const code = errnoCode(err) ?? '';
  const damaged = code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT';
  const why = damaged ? 'it is damaged or not a ledger' : (err as Error).message;
  const hint = damaged
    ? ledgerWayOut(file)
    : code === 'SQLITE_CANTOPEN' || code.startsWith('SQLITE_IOERR') || code === 'SQLITE_PERM' || code === 'SQLITE_READONLY'
      ? `check that you can read and write ${file} and its folder`
      : readonly
        ? 'nothing deduplicated yet? run: pycstore dedup PATH'
        : 'check the store directory';
  return new PycstoreError('ELEDGER', `cannot read the ledger ${file}: ${why} (${(err as Error).message})`, { hint, cause: err, data: { path: file } });
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function migrate(db: Db, file: string, readonly: boolean, onWait: ((message: string) => void) | undefined): void {
  const current = schemaVersion(db);
  refuseNewer(db, file, current);
  if (current === SCHEMA_VERSION) return;
  if (readonly) {
    db.close();
    throw new PycstoreError('ESTOREFORMAT', `the ledger ${file} needs an upgrade (schema ${current} → ${SCHEMA_VERSION})`, {
      hint: 'run any writing command once, e.g. pycstore dedup',
    });
  }
  let said = false;
  const wait = (): void => {
    if (!said) onWait?.(`waiting for another pycstore to finish upgrading the ledger ${file}…`);
    said = true;
  };
  // One step per transaction; each re-reads user_version under the write lock (another process may have done it).
  for (;;) {
    const v = immediate(db, () => {
      const found = schemaVersion(db);
      if (found >= SCHEMA_VERSION) return found;
      MIGRATIONS[found]!(db);
      db.pragma(`user_version = ${found + 1}`);
      return found;
    }, { onWait: wait });
    refuseNewer(db, file, v);
    if (v >= SCHEMA_VERSION) return;
  }
}

function refuseNewer(db: Db, file: string, current: number): void {
  if (current <= SCHEMA_VERSION) return;
  db.close();
  throw new PycstoreError(
    'ESTOREFORMAT',
    `the ledger ${file} has schema version ${current}, written by a newer pycstore (this one knows up to ${SCHEMA_VERSION})`,
    { hint: 'upgrade pycstore (npm install -g pycstore@latest), or use another store with --store DIR', data: { found: current, known: SCHEMA_VERSION } },
  );
}
