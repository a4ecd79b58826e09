/**
 * `dedup --fill`: every source in the scanned venvs' site-packages that has no
 * fresh pyc gets one. Its canonical body comes from the store when this
 * (magic, optimization level, relative path, source) was seen before — an
 * instant compile — else from compiling it once with the venv's interpreter.
 * The result joins the plan as a file to create (or a stale pyc to replace).
 */
import { readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { compileKey, sourceKeyOf } from '../canonical/compile-key.js';
import type { CanonicalCompiler } from '../python/compile.js';
import { canonicalName } from '../canonical/relpath.js';
import { fingerprintOf, type Fingerprint } from '../fs/fingerprint.js';
import { listDir, type OnListError } from '../fs/list.js';
import { tryLstat } from '../fs/stat.js';
import { xxh64Hex } from '../hash/xxhash.js';
import type { Ledger } from '../ledger/ledger.js';
import { HEADER_SIZE, mtimeSeconds, sourceHash } from '../pyc/header.js';
import type { PyVersionInfo } from '../pyc/magic.js';
import { cacheName, parseCacheName } from '../pyc/names.js';
import { findVenvs } from '../python/venvs.js';
import { objectPath } from '../store/location.js';
import { packageDirProbe, type Candidate, type ScanRoot } from '../python/scan.js';
import type { Transform } from '../canonical/types.js';
import { sourceFingerprint, type FileFacts, type SkipReason } from './types.js';

export interface FillTarget {
  readonly cand: Candidate;
  /** The stale pyc standing there now, to be replaced; undefined when there is none. */
  readonly stale: Fingerprint | undefined;
  /** Device of the __pycache__ folder (or of the source's folder when __pycache__ doesn't exist yet). */
  readonly dev: string;
  readonly uid: number;
}

export interface FillSummary {
  venvs: number;
  targets: number;
  fromStore: number;
  compiled: number;
  skipped: Record<string, number>;
  unknownVersions: string[];
}

/** Sources under the venvs of `roots` that have no fresh pyc: no pyc at all, or one found stale. */
export function findFillTargets(
  roots: readonly ScanRoot[],
  known: ReadonlySet<string>,
  stalePycs: ReadonlySet<string>,
  summary: FillSummary,
  onListError: OnListError,
): FillTarget[] {
  const out: FillTarget[] = [];
  const isPackageDir = packageDirProbe();
  roots.forEach((root, rootIndex) => {
    for (const venv of findVenvs(root.path, onListError)) {
      summary.venvs++;
      const version = venv.version;
      if (!version) {
        summary.unknownVersions.push(`${venv.dir} (Python ${venv.versionText || '?'})`);
        continue;
      }
      for (const sp of venv.sitePackages) walk(sp, version, rootIndex);
    }
  });
  return out;

  function walk(dir: string, version: PyVersionInfo, rootIndex: number): void {
    for (const e of listDir(dir, onListError)) {
      const p = path.join(dir, e.name);
      if (e.isSymbolicLink()) continue;
      if (e.isDirectory()) {
        if (e.name !== '__pycache__') walk(p, version, rootIndex);
        continue;
      }
      if (!e.isFile() || !e.name.endsWith('.py')) continue;
      const cacheDir = path.join(dir, '__pycache__');
      const pyc = path.join(cacheDir, cacheName(e.name.slice(0, -3), version.cacheTag, 0));
      const name = parseCacheName(path.basename(pyc));
      if (!name?.version) continue; // not an importable module name
      const stale = stalePycs.has(pyc);
      if (known.has(pyc) && !stale) continue;
      const existing = tryLstat(pyc);
      if (existing && !stale) continue; // a pyc we didn't judge (e.g. unreadable): leave it
      const sourceStat = statSync(p, { bigint: true });
      out.push({
        cand: { path: pyc, source: p, name: name as Candidate['name'], rootIndex, sourceStat, relName: canonicalName(p, isPackageDir) },
        stale: existing ? fingerprintOf(existing) : undefined,
        dev: (tryLstat(cacheDir) ?? statSync(dir, { bigint: true })).dev.toString(),
        uid: Number(sourceStat.uid),
      });
      summary.targets++;
    }
  }
}

export type FillAnalysis =
  | { readonly ok: true; readonly facts: FileFacts; readonly bytesRead: number; readonly prepared: Uint8Array }
  | { readonly ok: false; readonly reason: SkipReason; readonly detail: string; readonly bytesRead: number };

/**
 * Find or make the canonical body of a fill target and describe it as the
 * plan's FileFacts; the body is returned as `prepared` (the apply step reuses it).
 */
export async function analyzeFillTarget(
  t: FillTarget,
  ctx: {
    readonly ledger: Ledger | undefined;
    readonly storeRoots: ReadonlyMap<number, string>;
    readonly transform: Transform;
    readonly compiler: CanonicalCompiler;
    readonly summary: FillSummary;
  },
): Promise<FillAnalysis> {
  const { cand } = t;
  const version = cand.name.version;
  let source: Uint8Array;
  try {
    source = await readFile(cand.source);
  } catch (err) {
    return { ok: false, reason: 'unreadable', detail: (err as Error).message, bytesRead: 0 };
  }
  const bytesRead = source.length;
  if (source.length !== Number(cand.sourceStat.size)) return { ok: false, reason: 'changed', detail: 'source changed while reading', bytesRead };
  const sourceKey = sourceKeyOf(source);
  const key = compileKey(version.magic, 0, cand.relName, sourceKey);
  let prepared = ctx.compiler.body(key);
  if (!prepared) {
    const fromStore = ctx.ledger ? bodyFromStore(ctx.ledger, ctx.storeRoots, version.magic, cand.relName, sourceKey) : undefined;
    if (fromStore) {
      ctx.compiler.remember(key, fromStore);
      ctx.summary.fromStore++;
      prepared = fromStore;
    } else {
      const made = await ctx.compiler.compile({ sourcePath: cand.source, source, version, optimization: 0, relName: cand.relName }, key);
      if (!made.ok) return { ...made, bytesRead };
      if (made.made) ctx.summary.compiled++;
      prepared = made.body;
    }
  }
  const header = { version, invalidation: 'timestamp' as const, mtime: mtimeSeconds(cand.sourceStat), sourceSize: Number(cand.sourceStat.size) };
  const hash = sourceHash(version, source);
  const variants = ctx.transform.variants({ bytes: new Uint8Array(0), header, cand, source, relName: cand.relName, sourceHash: hash, prepared });
  return {
    ok: true,
    bytesRead,
    prepared,
    facts: {
      cand,
      fp: t.stale ?? { dev: t.dev, ino: '0', size: 0, mtimeNs: '0', ctimeNs: '0' },
      nlink: t.stale ? 1 : 0,
      uid: t.uid,
      allocated: 0,
      sourceFp: sourceFingerprint(cand.sourceStat),
      header,
      variants,
      sourceKey,
      sourceHash: hash,
      fill: { stale: t.stale !== undefined },
    },
  };
}
/** The canonical body the store already has for this compilation, verified, or undefined. */
function bodyFromStore(ledger: Ledger, roots: ReadonlyMap<number, string>, magic: number, relName: string, sourceKey: string): Uint8Array | undefined {
  const bodyHash = ledger.bodyFor(magic, 0, relName, sourceKey);
  if (!bodyHash) return undefined;
  const obj = ledger.objectWithBody(magic, bodyHash);
  if (!obj) return undefined;
  const root = roots.get(obj.root_id);
  if (!root) return undefined;
  try {
    const bytes = readFileSync(objectPath(root, { hash: obj.hash, size: obj.size }, obj.replica));
    const body = bytes.subarray(HEADER_SIZE);
    return xxh64Hex(body) === bodyHash ? new Uint8Array(body) : undefined;
  } catch {
    return undefined;
  }
}
