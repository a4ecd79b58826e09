/**
 * Step 1, collect: which trees to scan (the PATHs given, else the roots earlier
 * runs registered), and the candidate pycs in them (python/scan.ts). Swap temps
 * left by a crashed run are removed here (unless nothing may change).
 */
import { existsSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { usageError } from '../errors.js';
import type { RootRow } from '../ledger/rows.js';
import { scanRoots, type ScanResult, type ScanRoot } from '../python/scan.js';

export interface Collected extends ScanResult {
  readonly roots: readonly ScanRoot[];
}

export interface CollectInput {
  readonly paths: readonly string[];
  /** The roots earlier runs registered (the ledger's), used when no PATH is given. */
  readonly registered: readonly RootRow[];
  readonly pycachePrefix: string | undefined;
  /** Remove swap temps of crashed runs (false for a dry run). */
  readonly removeLeftovers: boolean;
  readonly onProgress?: (files: number, dirs: number) => void;
}

export function resolveRoots(paths: readonly string[], registered: readonly RootRow[], prefix: string | undefined): ScanRoot[] {
  if (paths.length === 0) {
    if (registered.length === 0) {
      throw usageError('no PATH given and no roots registered yet', 'name the venvs or folders to deduplicate: pycstore dedup ~/.venvs');
    }
    return registered.filter((r) => existsSync(r.path)).map((r) => ({ path: r.path, pycachePrefix: prefix ?? r.pycache_prefix }));
  }
  return paths.map((p) => {
    const abs = path.resolve(p);
    let st;
    try {
      st = statSync(abs);
    } catch {
      throw usageError(`${p}: no such directory`, 'give the path of a venv or of a folder holding venvs');
    }
    if (!st.isDirectory()) throw usageError(`${p}: not a directory`, 'give the path of a venv or of a folder holding venvs');
    return { path: abs, pycachePrefix: prefix ?? null };
  });
}

export function collect(input: CollectInput): Collected {
  const roots = resolveRoots(input.paths, input.registered, input.pycachePrefix);
  const scan = scanRoots(roots, input.onProgress);
  if (input.removeLeftovers) {
    for (const f of scan.leftovers) {
      try {
        unlinkSync(f); // a swap temp left by a crashed run: a spare name of a store object
      } catch {
        // gone
      }
    }
  }
  return { ...scan, roots };
}
