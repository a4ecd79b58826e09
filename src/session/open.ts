/**
 * Opening a store for a command: directory checks, lock, ledger, store roots.
 * Read-only openers (dry runs, status) never create anything.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { PycstoreError } from '../errors.js';
import { Ledger, type StoreRootRow } from '../ledger/ledger.js';
import { openLedger } from '../ledger/open.js';
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

export interface OpenStoreOptions {
  readonly command: string;
  readonly lock: LockMode | 'none';
  readonly onWait?: (message: string) => void;
}

/** Open (creating if needed) a store for writing. */
export function openStore(dir: string, opts: OpenStoreOptions): OpenStore {
  const owner = ensurePrivateDir(dir, 'store');
  const lock = opts.lock === 'none' ? undefined : acquireLock(dir, opts.lock, { command: opts.command, ...(opts.onWait ? { onWait: opts.onWait } : {}) });
  let ledger: Ledger;
  try {
    ledger = new Ledger(openLedger(dir));
    ledger.storeRoot(dir, statSync(dir, { bigint: true }).dev.toString());
  } catch (err) {
    lock?.release();
    throw err;
  }
  return {
    dir,
    ledger,
    uid: owner.uid,
    lock,
    close() {
      try {
        ledger.close();
      } finally {
        lock?.release();
      }
    },
  };
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

/** Register a store root on another filesystem (creating its directory, 0700). */
export function addStoreRoot(store: OpenStore, rootDir: string): StoreRootRow {
  const abs = path.resolve(rootDir);
  ensurePrivateDir(abs, 'store root');
  return store.ledger.storeRoot(abs, statSync(abs, { bigint: true }).dev.toString());
}

/** Store roots as the ledger knows them, with their current device (a root that vanished is left out, with a warning). */
export function currentStoreRoots(store: OpenStore, warn: (m: string) => void): StoreRootRow[] {
  const out: StoreRootRow[] = [];
  for (const r of store.ledger.storeRoots()) {
    try {
      const st = statSync(r.path, { bigint: true });
      if (r.path !== store.dir) checkPrivateDir(r.path, 'store root');
      out.push({ ...r, dev: st.dev.toString() });
    } catch (err) {
      if (err instanceof PycstoreError) throw err;
      warn(`store root ${r.path} is not reachable (${(err as Error).message}); files on its filesystem are skipped`);
    }
  }
  return out;
}
