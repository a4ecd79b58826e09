/**
 * The scanner: walks the given roots without following symlinks and finds the
 * PEP 3147 pycs (`__pycache__/<mod>.<tag>[.opt-N].pyc` whose `<mod>.py` exists)
 * and, for roots with a pycache prefix, the PYTHONPYCACHEPREFIX mirror tree.
 * Everything else in `__pycache__` is left alone and only counted. Leftover
 * swap temp files of a crashed pycstore run are collected for removal.
 */
import { type Dirent, type BigIntStats, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { canonicalName } from '../canonical/relpath.js';
import { listDir } from '../fs/list.js';
import { parseCacheName, prefixMirror, sourceForPrefix, sourceForPycache, type CacheName } from '../pyc/names.js';
import type { PyVersionInfo } from '../pyc/magic.js';
import { isSwapTemp } from '../fs/swap.js';

export interface ScanRoot {
  readonly path: string;
  readonly pycachePrefix: string | null;
}

export interface Candidate {
  readonly path: string;
  readonly source: string;
  readonly name: CacheName & { readonly version: PyVersionInfo };
  readonly rootIndex: number;
  /** stat (following symlinks, as importlib does) of the source at scan time. */
  readonly sourceStat: BigIntStats;
  /** The canonical co_filename: the source path relative to its import root. */
  readonly relName: string;
}

export type IgnoreReason = 'no-source' | 'unknown-tag' | 'not-pep3147' | 'not-regular-file';

export interface ScanResult {
  readonly candidates: Candidate[];
  readonly ignored: Record<string, number>;
  readonly errors: { path: string; reason: string }[];
  readonly leftovers: string[];
}

/** "Does this folder hold an __init__.py?", answered once per folder (for canonicalName). */
export function packageDirProbe(): (dir: string) => boolean {
  const known = new Map<string, boolean>();
  return (dir) => {
    let v = known.get(dir);
    if (v === undefined) {
      v = existsSync(path.join(dir, '__init__.py'));
      known.set(dir, v);
    }
    return v;
  };
}

export function scanRoots(roots: readonly ScanRoot[], onProgress?: (files: number, dirs: number) => void): ScanResult {
  const out: ScanResult = { candidates: [], ignored: {}, errors: [], leftovers: [] };
  const seen = new Set<string>();
  let dirs = 0;
  const isPackageDir = packageDirProbe();
  const ignore = (reason: IgnoreReason): void => {
    out.ignored[reason] = (out.ignored[reason] ?? 0) + 1;
  };

  const readDir = (dir: string): Dirent[] => {
    dirs++;
    if (onProgress && dirs % 200 === 0) onProgress(out.candidates.length, dirs);
    return listDir(dir, (e) => out.errors.push({ path: e.path, reason: `cannot read directory: ${e.code}` }));
  };

  const consider = (pycPath: string, entry: Dirent, rootIndex: number, sourceOf: (n: CacheName) => string): void => {
    if (isSwapTemp(entry.name)) {
      out.leftovers.push(pycPath);
      return;
    }
    if (!entry.name.endsWith('.pyc')) return; // not ours to count: CPython temp files, etc.
    if (!entry.isFile()) {
      ignore('not-regular-file');
      return;
    }
    const name = parseCacheName(entry.name);
    if (!name) {
      ignore('not-pep3147');
      return;
    }
    if (!name.version) {
      ignore('unknown-tag');
      return;
    }
    if (seen.has(pycPath)) return;
    const source = sourceOf(name);
    let sourceStat: BigIntStats;
    try {
      sourceStat = statSync(source, { bigint: true });
    } catch {
      ignore('no-source');
      return;
    }
    if (!sourceStat.isFile()) {
      ignore('no-source');
      return;
    }
    seen.add(pycPath);
    out.candidates.push({ path: pycPath, source, name: name as Candidate['name'], rootIndex, sourceStat, relName: canonicalName(source, isPackageDir) });
  };

  const walk = (dir: string, rootIndex: number): void => {
    for (const e of readDir(dir)) {
      const p = path.join(dir, e.name);
      if (e.isSymbolicLink()) continue; // never followed
      if (!e.isDirectory()) continue;
      if (e.name === '__pycache__') walkPycache(p, rootIndex);
      else walk(p, rootIndex);
    }
  };

  const walkPrefix = (prefix: string, dir: string, rootIndex: number): void => {
    for (const e of readDir(dir)) {
      const p = path.join(dir, e.name);
      if (e.isSymbolicLink()) continue;
      if (e.isDirectory()) walkPrefix(prefix, p, rootIndex);
      else consider(p, e, rootIndex, (n) => sourceForPrefix(prefix, p, n));
    }
  };

  const walkPycache = (p: string, rootIndex: number): void => {
    for (const f of readDir(p)) consider(path.join(p, f.name), f, rootIndex, (n) => sourceForPycache(path.join(p, f.name), n));
  };

  roots.forEach((root, i) => {
    if (path.basename(root.path) === '__pycache__') walkPycache(root.path, i);
    else walk(root.path, i);
    if (root.pycachePrefix) walkPrefix(root.pycachePrefix, prefixMirror(root.pycachePrefix, root.path), i);
  });
  onProgress?.(out.candidates.length, dirs);
  return out;
}
