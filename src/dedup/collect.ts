/**
 * Step 1, collect: which trees to scan (the PATHs given, else the roots earlier
 * runs registered, or both for a bare dedup), and the pycs in them (python/scan.ts), handed on folder by
 * folder as the walk lists them. Swap temps left by a crashed run are removed
 * here (unless nothing may change); a temp of a process still running — another
 * pycstore in the middle of a swap — is left alone.
 */
import { existsSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { usageError } from '../errors.js';
import type { RootRow } from '../ledger/rows.js';
import { scanRoots, type PycDir, type ScanRoot, type ScanSummary } from '../python/scan.js';

export interface Collected extends ScanSummary {
  readonly roots: readonly ScanRoot[];
}

export interface CollectInput {
  readonly paths: readonly string[];
  /** The roots earlier runs registered (the ledger's), used when no PATH is given. */
  readonly registered: readonly RootRow[];
  /** Scan the registered roots besides `paths` (else only when no PATH is given). */
  readonly alsoRegistered?: boolean;
  readonly pycachePrefix: string | undefined;
  /** Remove swap temps of crashed runs (false for a dry run). */
  readonly removeLeftovers: boolean;
  readonly onProgress?: (files: number, dirs: number) => void;
  /** Folders the scanner may enter (python/scan.ts). */
  readonly descend?: ((dir: string) => boolean) | undefined;
}

function registeredRoots(registered: readonly RootRow[], prefix: string | undefined): ScanRoot[] {
  return registered.filter((r) => existsSync(r.path)).map((r) => ({ path: r.path, pycachePrefix: prefix ?? r.pycache_prefix }));
}

/** `dedup --no-discover` with no PATH on a store that has no roots yet. */
export function noRootsError(): Error {
  return usageError('no PATH given and no roots registered yet', 'find your environments with a plain `pycstore dedup` (without --no-discover), or name them: pycstore dedup PATH');
}

export function resolveRoots(paths: readonly string[], registered: readonly RootRow[], prefix: string | undefined, alsoRegistered = false): ScanRoot[] {
  if (paths.length === 0 && !alsoRegistered) {
    if (registered.length === 0) {
      throw noRootsError();
    }
    return registeredRoots(registered, prefix);
  }
  const given = paths.map((p) => {
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
  if (!alsoRegistered) return given;
  const have = new Set(given.map((r) => r.path));
  return [...given, ...registeredRoots(registered, prefix).filter((r) => !have.has(r.path))];
}

/** Is the process that named this swap temp (`.pycstore-<pid>-….tmp`) still running? Then it is not a leftover. */
function ownerAlive(temp: string): boolean {
  const pid = Number(/^\.pycstore-(\d+)-/.exec(path.basename(temp))?.[1]);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Scan `roots`, handing each folder's pycs to `onDir`. */
export function collect(roots: readonly ScanRoot[], input: Pick<CollectInput, 'removeLeftovers' | 'onProgress' | 'descend'>, onDir: (d: PycDir) => void): Collected {
  const scan = scanRoots(roots, onDir, { ...(input.onProgress ? { onProgress: input.onProgress } : {}), ...(input.descend ? { descend: input.descend } : {}) });
  if (input.removeLeftovers) {
    for (const f of scan.leftovers) {
      if (ownerAlive(f)) continue;
      try {
        unlinkSync(f); // a swap temp left by a crashed run: a spare name of a store object
      } catch {
        // gone
      }
    }
  }
  return { ...scan, roots };
}
