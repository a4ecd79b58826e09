/**
 * The scanner: walks the given roots without following symlinks and finds the
 * PEP 3147 pycs (`__pycache__/<mod>.<tag>[.opt-N].pyc` whose `<mod>.py` exists)
 * and, for roots with a pycache prefix, the PYTHONPYCACHEPREFIX mirror tree.
 * Everything else in `__pycache__` is left alone and only counted. Leftover
 * swap temp files of a crashed pycstore run are collected for removal.
 *
 * Never entered: VCS folders and node_modules (NOT_SCANNED, wherever they
 * are: a node-gyp's pycs are npm's, not an environment's), a folder that is
 * itself one of the roots (a nested root is scanned as its own, so each pyc
 * belongs to its innermost root whatever the order), and what the caller's
 * `descend` refuses (--exclude globs, a conda root's package cache).
 */
import { type Dirent, type BigIntStats, existsSync, lstatSync, statSync } from 'node:fs';
import path from 'node:path';
import { canonicalName } from '../canonical/relpath.js';
import { listDir } from '../fs/list.js';
import { parseCacheName, prefixMirror, sourceForPrefix, sourceForPycache, type CacheName } from '../pyc/names.js';
import type { PyVersionInfo } from '../pyc/magic.js';
import { isSwapTemp } from '../fs/swap.js';

/** Folder names the scanner never enters (discovery's skip list starts from these). */
export const NOT_SCANNED: ReadonlySet<string> = new Set(['.git', '.hg', '.svn', '.bzr', '_darcs', '.jj', 'node_modules', 'bower_components']);

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
  /** "dev:ino" and st_nlink of the pyc at scan time (absent for a pyc --fill will create). */
  readonly inode?: string;
  readonly nlink?: number;
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

/** A regular file's PEP 3147 name with a known version, or why it is not a candidate. */
function nameOf(entry: Dirent): Candidate['name'] | IgnoreReason {
  if (!entry.isFile()) return 'not-regular-file';
  const name = parseCacheName(entry.name);
  if (!name) return 'not-pep3147';
  if (!name.version) return 'unknown-tag';
  return name as Candidate['name'];
}

/** The source's stat (following symlinks, as importlib does) and the pyc's inode and links; undefined when the pyc is gone. */
function statPair(pycPath: string, source: string): { sourceStat: BigIntStats; inode: string; nlink: number } | 'no-source' | undefined {
  let sourceStat: BigIntStats;
  try {
    sourceStat = statSync(source, { bigint: true });
  } catch {
    return 'no-source';
  }
  if (!sourceStat.isFile()) return 'no-source';
  try {
    const st = lstatSync(pycPath, { bigint: true });
    return { sourceStat, inode: `${st.dev}:${st.ino}`, nlink: Number(st.nlink) };
  } catch {
    return undefined;
  }
}

export interface ScanOptions {
  readonly onProgress?: (files: number, dirs: number) => void;
  /** Enter this folder (below a root)? Default: yes. */
  readonly descend?: (dir: string) => boolean;
}

export function scanRoots(roots: readonly ScanRoot[], opts: ScanOptions = {}): ScanResult {
  const { onProgress } = opts;
  const out: ScanResult = { candidates: [], ignored: {}, errors: [], leftovers: [] };
  const rootPaths = new Set(roots.map((r) => r.path));
  const enter = (dir: string, name: string): boolean => !NOT_SCANNED.has(name) && !rootPaths.has(dir) && (opts.descend?.(dir) ?? true);
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
    const name = nameOf(entry);
    if (typeof name === 'string') return ignore(name);
    if (seen.has(pycPath)) return;
    const source = sourceOf(name);
    const stats = statPair(pycPath, source);
    if (stats === 'no-source') return ignore(stats);
    if (!stats) return; // gone since the directory was read
    seen.add(pycPath);
    out.candidates.push({ path: pycPath, source, name, rootIndex, ...stats, relName: canonicalName(source, isPackageDir) });
  };

  const walk = (dir: string, rootIndex: number): void => {
    for (const e of readDir(dir)) {
      const p = path.join(dir, e.name);
      if (e.isSymbolicLink()) continue; // never followed
      if (!e.isDirectory()) continue;
      if (e.name === '__pycache__') walkPycache(p, rootIndex);
      else if (enter(p, e.name)) walk(p, rootIndex);
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
