/**
 * Opening a store for a command: directory checks, lock, ledger, the main
 * store root's row, and the command's `runs` row. Read-only openers (dry runs,
 * status, audit) never create or write anything.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { exitCodeOf, PycstoreError } from '../errors.js';
import { Ledger, type LedgerWriter, type LedgerWrites } from '../ledger/ledger.js';
import { openLedger } from '../ledger/open.js';
import type { StoreRootRow } from '../ledger/rows.js';
import { ledgerPath } from '../store/location.js';
import { acquireLock, type LockMode, type StoreLock } from '../store/lock.js';
import { checkPrivateDir, ensurePrivateDir } from '../store/permissions.js';

export interface OpenStore {
  readonly dir: string;
  readonly ledger: Ledger;
  readonly uid: number;
  readonly lock: StoreLock | undefined;
  close(): void;
}

/** A store opened for writing: the ledger's one writer comes with it. */
export interface WritableStore extends OpenStore {
  readonly writer: LedgerWriter<LedgerWrites>;
}

export interface OpenStoreOptions {
  readonly command: string;
  readonly lock: LockMode | 'none';
  /** Told when the command has to wait (for the store lock, for another writer of the ledger). */
  readonly onWait?: (message: string) => void;
}

/** Open (creating if needed) a store for writing. */
export function openStore(dir: string, opts: OpenStoreOptions): WritableStore {
  const owner = ensurePrivateDir(dir, 'store');
  const lock = opts.lock === 'none' ? undefined : acquireLock(dir, opts.lock, { command: opts.command, ...(opts.onWait ? { onWait: opts.onWait } : {}) });
  let ledger: Ledger | undefined;
  try {
    ledger = new Ledger(openLedger(dir, { onWait: opts.onWait }), { onWait: opts.onWait });
    const writer = ledger.writer();
    const dev = statSync(dir, { bigint: true }).dev.toString();
    if (ledger.storeRootAt(dir)?.dev !== dev) writer.now((w) => w.storeRoot(dir, dev));
    const l = ledger;
    return {
      dir,
      ledger: l,
      writer,
      uid: owner.uid,
      lock,
      close() {
        try {
          writer.flush();
        } finally {
          try {
            l.close();
          } finally {
            lock?.release();
          }
        }
      },
    };
  } catch (err) {
    ledger?.close();
    lock?.release();
    throw err;
  }
}

/** Open an existing store read-only, or undefined when there is none yet. Creates nothing. */
export function openStoreReadOnly(dir: string): OpenStore | undefined {
  if (!existsSync(dir)) return undefined;
  const owner = checkPrivateDir(dir, 'store');
  if (!existsSync(ledgerPath(dir))) return undefined;
  const ledger = new Ledger(openLedger(dir, { readonly: true }));
  return {
    dir,
    ledger,
    uid: owner.uid,
    lock: undefined,
    close() {
      ledger.close();
    },
  };
}

/** Register a store root on another filesystem (creating its directory, 0700); again: records its current device. */
export function addStoreRoot(store: WritableStore, rootDir: string): StoreRootRow {
  const abs = path.resolve(rootDir);
  ensurePrivateDir(abs, 'store root');
  const dev = statSync(abs, { bigint: true }).dev.toString();
  return store.writer.now((w) => w.storeRoot(abs, dev));
}

/** What a finished command leaves in its `runs` row. */
export interface RunOutcome {
  readonly exitCode: number;
  readonly figures: unknown;
}

/**
 * Run `body` as the command `command`, recorded honestly: its `runs` row is written before it starts
 * and finished in `finally` — with the exit code of its outcome, or of the error it threw. A run killed
 * on the way (SIGKILL, power loss) keeps a row with no exit code, which `status` shows as unfinished.
 */
export async function recordedRun<R>(
  store: WritableStore,
  command: string,
  now: () => number,
  body: () => Promise<R>,
  outcome: (r: R) => RunOutcome,
): Promise<R> {
  const id = store.writer.now((w) => w.startRun(command, now()));
  let r: R;
  try {
    r = await body();
  } catch (err) {
    const error = err instanceof PycstoreError ? { code: err.code, message: err.message } : { code: 'EINTERNAL', message: String(err) };
    try {
      store.writer.now((w) => w.finishRun(id, exitCodeOf(err), { error }, now()));
    } catch {
      // a full disk (or a broken ledger) can't take the run's end either: the run shows as unfinished; `err` says why
    }
    throw err;
  }
  const end = outcome(r);
  store.writer.now((w) => w.finishRun(id, end.exitCode, end.figures, now()));
  return r;
}
