/**
 * `dedup --fill`: every source in the scanned venvs' site-packages that has no
 * fresh pyc gets one. Its canonical body comes from the store when this
 * (magic, optimization level, relative path, source) was seen before — an
 * instant compile — else from compiling it once with the venv's interpreter.
 * The targets join the run's table as rows of their own and go through the
 * same groups, plan and apply as the pycs: a file to create (or a stale pyc to
 * replace).
 */
import type { CompileFailure } from '../python/compile.js';
import { lstatSync } from 'node:fs';
import path from 'node:path';
import { compileKey } from '../canonical/compile-key.js';
import { canonicalName } from '../canonical/relpath.js';
import { listDir, type OnListError } from '../fs/list.js';
import { xxh64Hex } from '../hash/xxhash.js';
import type { PyVersionInfo } from '../pyc/magic.js';
import { cacheName, parseCacheName } from '../pyc/names.js';
import { packageDirProbe, statPyc, type KnownCacheName, type PycStat, type ScanRoot } from '../python/scan.js';
import { findVenvs } from '../python/venvs.js';
import type { RunContext } from './context.js';
import { storedBody, type FillResult } from './read-fill.js';
import type { FileTable } from './table.js';
import { emptyFillSummary, type Bodies, type FileFacts, type FillSummary, type SourceState, type StoredBody, type Subject } from './types.js';

export { emptyFillSummary, type FillSummary };

/**
 * Add to the table the sources under the venvs of `roots` that have no fresh pyc: no pyc at all, or
 * one this run found stale. A pyc it did not judge (unreadable, say) is left alone.
 */
export function addFillTargets(table: FileTable, roots: readonly ScanRoot[], stale: ReadonlySet<string>, summary: FillSummary, onListError: OnListError): void {
  const isPackageDir = packageDirProbe();
  const walk = (dir: string, version: PyVersionInfo, rootIndex: number): void => {
    const entries = listDir(dir, onListError);
    let cached: Set<string> | undefined;
    const inCache = (name: string): boolean => (cached ??= new Set(listDir(path.join(dir, '__pycache__'), onListError).map((e) => e.name))).has(name);
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isSymbolicLink()) continue;
      if (e.isDirectory()) {
        if (e.name !== '__pycache__') walk(p, version, rootIndex);
        continue;
      }
      if (!e.isFile() || !e.name.endsWith('.py')) continue;
      const pycName = cacheName(e.name.slice(0, -3), version.cacheTag, 0);
      const name = parseCacheName(pycName);
      if (!name?.version) continue; // not an importable module name
      const pyc = path.join(dir, '__pycache__', pycName);
      const isStale = stale.has(pyc);
      if (!isStale && inCache(pycName)) continue;
      table.add({ path: pyc, source: p, rootIndex, relName: canonicalName(p, isPackageDir), name: name as KnownCacheName, kind: isStale ? 'fill-stale' : 'fill-new' });
      summary.targets++;
    }
  };
  roots.forEach((root, rootIndex) => {
    for (const venv of findVenvs(root.path, onListError)) {
      summary.venvs++;
      if (!venv.version) {
        summary.unknownVersions.push(`${venv.dir} (Python ${venv.versionText || '?'})`);
        continue;
      }
      for (const sp of venv.sitePackages) walk(sp, venv.version, rootIndex);
    }
  });
}

/** The checked body for a source: from the store (looked up with the read, or here), compiled this run, or compiled now. */
async function bodyFor(run: RunContext, s: Subject, read: FillResult & { sourceKey: string }): Promise<{ body: Uint8Array; stored?: StoredBody } | { reason: CompileFailure; detail: string }> {
  const version = s.name.version;
  const summary = run.fill!;
  const store = run.fillStore;
  const stored = read.stored ?? (!read.looked && store ? storedBody(store, version.magic, s.relName, read.sourceKey) : undefined);
  if (stored) {
    summary.fromStore++;
    return { body: stored.body, stored };
  }
  const key = compileKey(version.magic, 0, s.relName, read.sourceKey);
  const known = run.compiler.body(key);
  if (known) return { body: known };
  const source = read.source!;
  const made = await run.compiler.compile({ sourcePath: s.source, source, version, optimization: 0, relName: s.relName }, key);
  if (!made.ok) return made;
  if (made.made) summary.compiled++;
  return { body: made.body };
}

/** The facts of a --fill target: its body, and the timestamp header CPython would write (the policy may choose another). */
export async function prepareFill(run: RunContext, s: Subject, state: SourceState, stale: boolean, bodies: Bodies, hashSource: boolean): Promise<FileFacts | undefined> {
  const summary = run.fill!;
  const skip = (reason: string, detail?: string): undefined => {
    summary.skipped[reason] = (summary.skipped[reason] ?? 0) + 1;
    if (detail && (reason === 'compile-error' || reason === 'no-interpreter')) summary.problems.push(`${s.source}: ${detail}`);
    return undefined;
  };
  const read = await run.analyzer.fill({ id: s.id, path: s.path, source: s.source, cacheTag: s.name.cacheTag, relName: s.relName, stamp: state.stamp, hashSource });
  run.report.bytesRead += read.bytesRead;
  if (read.failed || read.sourceKey === undefined) return skip(read.failed?.reason ?? 'changed', read.failed?.detail);
  const b = await bodyFor(run, s, { ...read, sourceKey: read.sourceKey });
  if ('reason' in b) return skip(b.reason, b.detail);
  const bodyHash = read.stored?.bodyHash ?? xxh64Hex(b.body);
  const body = bodies.get(bodyHash) ?? b.body;
  bodies.set(bodyHash, body);
  const stat = stale ? statPyc(s.path) : newFileStat(s.path, state, run.folderDevs);
  if (!stat) return skip('changed');
  const header = { version: s.name.version, invalidation: 'timestamp' as const, mtime: state.stamp.mtime, sourceSize: state.stamp.size };
  return { subject: s, stat, source: state, header, own: undefined, body, bodyHash, sourceHash: read.sourceHash, sourceKey: read.sourceKey, fill: { stale, source: read.source, stored: body === b.stored?.body ? b.stored : undefined } };
}

/** A file that doesn't exist yet, as the plan sees it: on its folder's device (`devs`: looked up once per folder), no names, owned like its source. */
function newFileStat(pyc: string, state: SourceState, devs: Map<string, string>): PycStat {
  const dir = path.dirname(pyc);
  const devOf = (p: string): string | undefined => lstatSync(p, { bigint: true, throwIfNoEntry: false })?.dev.toString();
  let dev = devs.get(dir);
  if (dev === undefined) {
    dev = devOf(dir) ?? devOf(path.dirname(dir)) ?? '';
    devs.set(dir, dev);
  }
  return { fp: { dev, ino: '0', size: 0, mtimeNs: '0', ctimeNs: '0' }, nlink: 0, uid: state.uid, allocated: 0 };
}

/** A run's --fill counters, for its report. */
export function fillReport(summary: FillSummary, filled: number): { venvs: number; sources: number; fromStore: number; compiled: number; filled: number; skipped: Record<string, number> } {
  return { venvs: summary.venvs, sources: summary.targets, fromStore: summary.fromStore, compiled: summary.compiled, filled, skipped: summary.skipped };
}

