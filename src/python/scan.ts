/**
 * The scanner: walks the given roots without following symlinks and finds the
 * PEP 3147 pycs (`__pycache__/<mod>.<tag>[.opt-N].pyc` whose `<mod>.py` exists)
 * and, for roots with a pycache prefix, the PYTHONPYCACHEPREFIX mirror tree.
 * Everything else in `__pycache__` is left alone and only counted. Leftover
 * swap temp files of a crashed pycstore run are collected for removal.
 *
 * It streams: each `__pycache__` folder's pycs are handed to `onDir` as soon
 * as the folder is listed, so nothing per file is kept here. A pyc costs one
 * lstat (its fingerprint); whether its source exists comes from the listing of
 * the package folder the walk has in hand (a stat only for a symlinked source,
 * which importlib follows). What it yields is plain numbers and strings.
 *
 * Never entered: VCS folders and node_modules (NOT_SCANNED, wherever they
 * are: a node-gyp's pycs are npm's, not an environment's), a folder that is
 * itself one of the roots (a nested root is scanned as its own, so each pyc
 * belongs to its innermost root whatever the order), and what the caller's
 * `descend` refuses (--exclude globs, a conda root's package cache).
 */
import { type Dirent, lstatSync, statSync } from 'node:fs';
import path from 'node:path';
import { canonicalName } from '../canonical/relpath.js';
import { allocatedBytes, fingerprintOf, type Fingerprint } from '../fs/fingerprint.js';
import { listDir } from '../fs/list.js';
import { isSwapTemp } from '../fs/swap.js';
import { parseCacheName, prefixMirror, sourceForPrefix, type CacheName } from '../pyc/names.js';
import type { PyVersionInfo } from '../pyc/magic.js';
import { childPath } from '../util/child-path.js';

/** Folder names the scanner never enters (discovery's skip list starts from these). */
export const NOT_SCANNED: ReadonlySet<string> = new Set(['.git', '.hg', '.svn', '.bzr', '_darcs', '.jj', 'node_modules', 'bower_components']);

export interface ScanRoot {
  readonly path: string;
  readonly pycachePrefix: string | null;
}

/** A pyc cache name of a version pycstore handles. */
export type KnownCacheName = CacheName & { readonly version: PyVersionInfo };

/** What the lstat of a pyc said, when it was taken during the scan. */
export interface PycStat {
  readonly fp: Fingerprint;
  readonly nlink: number;
  readonly uid: number;
  readonly allocated: number;
}

/** One pyc the scanner found. */
export interface FoundPyc {
  readonly path: string;
  readonly source: string;
  readonly name: KnownCacheName;
  readonly rootIndex: number;
  /** The canonical co_filename: the source path relative to its import root. */
  readonly relName: string;
  /** Undefined: it was gone (or no longer a file) by the time it was looked at. */
  readonly stat: PycStat | undefined;
}

/** The pycs of one folder, handed over as soon as it is listed. */
export interface PycDir {
  readonly dir: string;
  readonly rootIndex: number;
  readonly pycs: readonly FoundPyc[];
}

export type IgnoreReason = 'no-source' | 'unknown-tag' | 'not-pep3147' | 'not-regular-file';

export interface ScanSummary {
  /** Pycs handed to `onDir`. */
  files: number;
  dirs: number;
  readonly ignored: Record<string, number>;
  readonly errors: { path: string; reason: string }[];
  readonly leftovers: string[];
  /** site-packages folders holding Python sources and not one pyc (a uv install): `--fill` would give them pycs. */
  readonly withoutPycs: { readonly path: string; readonly sources: number }[];
}

/** "Does this folder hold an __init__.py?", answered once per folder (for canonicalName); `know` records an answer a listing gave. */
export function packageDirProbe(): ((dir: string) => boolean) & { know(dir: string, isPackage: boolean): void } {
  const known = new Map<string, boolean>();
  const probe = (dir: string): boolean => {
    let v = known.get(dir);
    if (v === undefined) {
      v = listDir(dir, () => undefined).some((e) => e.name === '__init__.py');
      known.set(dir, v);
    }
    return v;
  };
  return Object.assign(probe, { know: (dir: string, isPackage: boolean) => void known.set(dir, isPackage) });
}

/** The lstat of a pyc as the scan keeps it (undefined: gone, or not a regular file any more). */
export function statPyc(p: string): PycStat | undefined {
  let st;
  try {
    st = lstatSync(p, { bigint: true, throwIfNoEntry: false });
  } catch {
    return undefined;
  }
  if (!st || !st.isFile()) return undefined;
  return { fp: fingerprintOf(st), nlink: Number(st.nlink), uid: Number(st.uid), allocated: allocatedBytes(st) };
}

/** A listing's entry or an lstat: what kind of file a path is. */
interface FileKind {
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}

/** Does the source exist as importlib sees it (a file, or a symlink to one)? `entry`: its entry in the folder's listing. */
function sourceExists(source: string, entry: FileKind | undefined): boolean {
  if (!entry) return false;
  if (entry.isFile()) return true;
  if (!entry.isSymbolicLink()) return false;
  try {
    return statSync(source).isFile();
  } catch {
    return false;
  }
}

/** A site-packages folder being walked: its sources and pycs counted, for the --fill hint. */
interface SiteCount {
  sources: number;
  pycs: number;
}

const INSTALL_DIRS = new Set(['site-packages', 'dist-packages']);

export interface ScanOptions {
  readonly onProgress?: (files: number, dirs: number) => void;
  /** Enter this folder (below a root)? Default: yes. */
  readonly descend?: (dir: string) => boolean;
}

/** The walk over all roots; `onDir` gets each folder's pycs. */
export function scanRoots(given: readonly ScanRoot[], onDir: (d: PycDir) => void, opts: ScanOptions = {}): ScanSummary {
  const roots = given.map((r) => ({ ...r, path: path.resolve(r.path) })); // normalised: the walk appends names to folders (childPath)
  const w = new Walk(roots, onDir, opts);
  roots.forEach((root, i) => {
    if (roots.findIndex((r) => r.path === root.path) !== i) return; // named twice
    if (path.basename(root.path) === '__pycache__') w.pycache(root.path, i, undefined, undefined);
    else w.walk(root.path, i, undefined);
    if (root.pycachePrefix) w.walkPrefix(root.pycachePrefix, prefixMirror(root.pycachePrefix, root.path), i);
  });
  opts.onProgress?.(w.out.files, w.out.dirs);
  return w.out;
}

class Walk {
  readonly out: ScanSummary = { files: 0, dirs: 0, ignored: {}, errors: [], leftovers: [], withoutPycs: [] };
  private readonly isPackageDir = packageDirProbe();
  /** Other roots (and their mirror trees): walked as their own root, not as part of an enclosing one. */
  private readonly rootPaths: Set<string>;

  constructor(
    roots: readonly ScanRoot[],
    private readonly onDir: (d: PycDir) => void,
    private readonly opts: ScanOptions,
  ) {
    this.rootPaths = new Set(roots.flatMap((r) => (r.pycachePrefix ? [r.path, prefixMirror(r.pycachePrefix, r.path)] : [r.path])));
  }

  private enter(dir: string, name: string): boolean {
    return !NOT_SCANNED.has(name) && (this.opts.descend?.(dir) ?? true);
  }

  private ignore(reason: IgnoreReason): void {
    this.out.ignored[reason] = (this.out.ignored[reason] ?? 0) + 1;
  }

  private list(dir: string): Dirent[] {
    if (++this.out.dirs % 256 === 0) this.opts.onProgress?.(this.out.files, this.out.dirs);
    return listDir(dir, (e) => this.out.errors.push({ path: e.path, reason: `cannot read directory: ${e.code}` }));
  }

  /** A folder of the tree: its sources known from its listing, its __pycache__ looked into, its subfolders walked. */
  walk(dir: string, rootIndex: number, site: SiteCount | undefined): void {
    const entries = this.list(dir);
    const sources = new Map<string, Dirent>();
    let init = false;
    for (const e of entries) {
      if (e.name.endsWith('.py')) sources.set(e.name, e);
      if (e.name === '__init__.py') init = true;
    }
    this.isPackageDir.know(dir, init);
    const mine = site ?? (INSTALL_DIRS.has(path.basename(dir)) ? { sources: 0, pycs: 0 } : undefined);
    if (mine) for (const e of sources.values()) if (!e.isDirectory()) mine.sources++;
    for (const e of entries) {
      if (!e.isDirectory()) continue; // symlinks are never followed
      const p = childPath(dir, e.name);
      if (this.rootPaths.has(p)) continue;
      if (e.name === '__pycache__') this.pycache(p, rootIndex, sources, mine);
      else if (this.enter(p, e.name)) this.walk(p, rootIndex, mine);
    }
    if (mine && !site && mine.sources > 0 && mine.pycs === 0) this.out.withoutPycs.push({ path: dir, sources: mine.sources });
  }

  /** A __pycache__ folder; `sources`: its package folder's .py entries (undefined: look each one up). */
  pycache(dir: string, rootIndex: number, sources: Map<string, Dirent> | undefined, site: SiteCount | undefined): void {
    const pkg = path.dirname(dir);
    const pycs: FoundPyc[] = [];
    for (const e of this.list(dir)) {
      const p = childPath(dir, e.name);
      const name = this.cacheName(p, e);
      if (!name) continue;
      const source = childPath(pkg, `${name.module}.py`);
      const entry: FileKind | undefined = sources ? sources.get(`${name.module}.py`) : this.entryOf(source);
      if (!sourceExists(source, entry)) {
        this.ignore('no-source');
        continue;
      }
      pycs.push(this.found(p, source, name, rootIndex));
    }
    if (site) site.pycs += pycs.length;
    this.hand(dir, rootIndex, pycs);
  }

  /** A folder of a PYTHONPYCACHEPREFIX mirror tree: its sources are elsewhere, each one stat-ed. */
  walkPrefix(prefix: string, dir: string, rootIndex: number): void {
    const pycs: FoundPyc[] = [];
    for (const e of this.list(dir)) {
      const p = childPath(dir, e.name);
      if (e.isDirectory()) {
        if (!this.rootPaths.has(p)) this.walkPrefix(prefix, p, rootIndex);
        continue;
      }
      const name = this.cacheName(p, e);
      if (!name) continue;
      const source = sourceForPrefix(prefix, p, name);
      if (!sourceExists(source, this.entryOf(source))) {
        this.ignore('no-source');
        continue;
      }
      pycs.push(this.found(p, source, name, rootIndex));
    }
    this.hand(dir, rootIndex, pycs);
  }

  private hand(dir: string, rootIndex: number, pycs: FoundPyc[]): void {
    if (pycs.length === 0) return;
    this.out.files += pycs.length;
    this.onDir({ dir, rootIndex, pycs });
  }

  /** A file of a cache folder: its parsed name if it is a pyc of a known version; else counted or collected. */
  private cacheName(p: string, e: Dirent): KnownCacheName | undefined {
    if (isSwapTemp(e.name)) {
      this.out.leftovers.push(p);
      return undefined;
    }
    if (!e.name.endsWith('.pyc')) return undefined; // not ours to count: CPython temp files, etc.
    if (!e.isFile()) return void this.ignore('not-regular-file');
    const name = parseCacheName(e.name);
    if (!name) return void this.ignore('not-pep3147');
    if (!name.version) return void this.ignore('unknown-tag');
    return name as KnownCacheName;
  }

  /** What kind of file a path not in a listing at hand is (a symlink is followed by sourceExists). */
  private entryOf(p: string): FileKind | undefined {
    try {
      return lstatSync(p, { throwIfNoEntry: false });
    } catch {
      return undefined;
    }
  }

  private found(p: string, source: string, name: KnownCacheName, rootIndex: number): FoundPyc {
    return { path: p, source, name, rootIndex, relName: canonicalName(source, this.isPackageDir), stat: statPyc(p) };
  }
}
