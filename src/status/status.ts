/**
 * `status` as a library call: what the store holds and what it saves, from the
 * ledger alone (read-only, no lock, nothing checked on disk: that is audit).
 */
import { openStoreReadOnly } from '../session/open.js';

export interface StatusReport {
  store: string;
  exists: boolean;
  objects: number;
  objectBytes: number;
  objectAllocatedBytes: number;
  links: number;
  roots: number;
  rootPaths: string[];
  storeRoots: string[];
  bytesSaved: number;
  /** The run started last; exitCode null: still running, or killed before it finished. */
  lastRun: { command: string; startedAt: string; exitCode: number | null } | null;
}

export function storeStatus(storeDir: string): StatusReport {
  const store = openStoreReadOnly(storeDir);
  const empty: StatusReport = {
    store: storeDir,
    exists: false,
    objects: 0,
    objectBytes: 0,
    objectAllocatedBytes: 0,
    links: 0,
    roots: 0,
    rootPaths: [],
    storeRoots: [],
    bytesSaved: 0,
    lastRun: null,
  };
  if (!store) return empty;
  try {
    const s = store.ledger.summary();
    const roots = store.ledger.roots();
    const run = store.ledger.lastRun();
    return {
      store: storeDir,
      exists: true,
      objects: s.objects,
      objectBytes: s.objectBytes,
      objectAllocatedBytes: s.objectAllocatedBytes,
      links: s.links,
      roots: roots.length,
      rootPaths: roots.map((r) => r.path),
      storeRoots: store.ledger.storeRoots().map((r) => r.path),
      bytesSaved: s.bytesSaved,
      lastRun: run ? { command: run.command, startedAt: new Date(run.started_at).toISOString(), exitCode: run.exit_code } : null,
    };
  } finally {
    store.close();
  }
}
