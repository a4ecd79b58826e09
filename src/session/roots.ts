/**
 * Which store roots a command can use: one answer, with one meaning, for
 * every command. The main store (where the ledger is) always is. Another root
 * (`dedup --store-root DIR`) is usable while its directory is there, on the
 * filesystem it was registered on (the st_dev the ledger recorded), and
 * private to the store's owner. An unmounted root — an empty mount point, or
 * another filesystem mounted there — is not: dedup skips the files of its
 * filesystem, gc keeps its objects unchecked, audit and verify don't check
 * them, and each says so. Registering it again (`dedup --store-root DIR`)
 * records a filesystem that came back under a new device number.
 */
import { statSync } from 'node:fs';
import { errnoCode } from '../errors.js';
import type { Ledger } from '../ledger/ledger.js';
import type { StoreRootRow } from '../ledger/rows.js';
import { checkPrivateDir } from '../store/permissions.js';

export interface StoreRootState {
  /** The ledger's row (for the main store, with its current device). */
  readonly row: StoreRootRow;
  readonly usable: boolean;
  /** Why not, for the warning. */
  readonly why?: string;
}

function stateOf(row: StoreRootRow, mainStore: string): StoreRootState {
  let dev: string;
  try {
    dev = statSync(row.path, { bigint: true }).dev.toString();
  } catch (err) {
    if (row.path === mainStore) throw err;
    return { row, usable: false, why: `not reachable (${errnoCode(err) ?? String(err)})` };
  }
  if (row.path === mainStore) return { row: { ...row, dev }, usable: true };
  if (dev !== row.dev) {
    return {
      row,
      usable: false,
      why: `not the filesystem it was registered on (device ${dev}, registered on ${row.dev}): not mounted? If it is the same filesystem under a new device number, register it again with --store-root`,
    };
  }
  checkPrivateDir(row.path, 'store root'); // a root others can write is refused, as the store itself is
  return { row, usable: true };
}

/** Every store root the ledger knows, and whether it is usable now. */
export function storeRootStates(ledger: Ledger, mainStore: string): StoreRootState[] {
  return ledger.storeRoots().map((row) => stateOf(row, mainStore));
}

/** The usable store roots; each unusable one is told to `warn` with why. */
export function usableStoreRoots(ledger: Ledger, mainStore: string, warn: (root: string, why: string) => void): StoreRootRow[] {
  const out: StoreRootRow[] = [];
  for (const s of storeRootStates(ledger, mainStore)) {
    if (s.usable) out.push(s.row);
    else warn(s.row.path, s.why ?? 'not usable');
  }
  return out;
}
