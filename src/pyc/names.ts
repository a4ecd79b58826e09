/**
 * PEP 3147 / PEP 488 cache file names, pure:
 *   <dir>/__pycache__/<module>.<cache_tag>[.opt-<N>].pyc  for the source <dir>/<module>.py
 * and the PYTHONPYCACHEPREFIX mirror layout
 *   <prefix>/<absolute source dir without its root>/<module>.<cache_tag>[.opt-<N>].pyc
 */
import path from 'node:path';
import { versionForCacheTag, type PyVersionInfo } from './magic.js';

export interface CacheName {
  readonly module: string;
  readonly cacheTag: string;
  /** 0, 1 or 2 ("" / ".opt-1" / ".opt-2"). */
  readonly optimization: number;
  /** Known CPython version for the tag, when it is one pycstore handles. */
  readonly version: PyVersionInfo | undefined;
}

/**
 * Parse a cache file name. Returns undefined for anything that is not a PEP 3147
 * name: temp files, pytest's rewritten `<mod>.<tag>-pytest-<ver>.pyc`, names
 * with other suffixes. A name with an unknown tag parses (version undefined).
 */
export function parseCacheName(name: string): CacheName | undefined {
  const m = /^([^.]+)\.([a-z]+-\d+[a-z]*)(?:\.opt-([12]))?\.pyc$/.exec(name);
  if (!m) return undefined;
  const module = m[1]!;
  if (module.includes('.') || module.length === 0) return undefined;
  const cacheTag = m[2]!;
  return { module, cacheTag, optimization: m[3] ? Number(m[3]) : 0, version: versionForCacheTag(cacheTag) };
}

/** The cache file name for a module, as importlib.util.cache_from_source builds it. */
export function cacheName(module: string, cacheTag: string, optimization: number): string {
  return `${module}.${cacheTag}${optimization === 0 ? '' : `.opt-${optimization}`}.pyc`;
}

/** Source path of a pyc inside a __pycache__ directory. */
export function sourceForPycache(pycPath: string, name: CacheName): string {
  return path.join(path.dirname(path.dirname(pycPath)), `${name.module}.py`);
}

/** Source path of a pyc in a PYTHONPYCACHEPREFIX mirror tree. */
export function sourceForPrefix(prefix: string, pycPath: string, name: CacheName): string {
  const relDir = path.relative(prefix, path.dirname(pycPath));
  return path.join(path.parse(prefix).root, relDir, `${name.module}.py`);
}

/** The mirror directory of `dir` under `prefix`. */
export function prefixMirror(prefix: string, dir: string): string {
  const abs = path.resolve(dir);
  return path.join(prefix, path.relative(path.parse(abs).root, abs));
}
