/**
 * Rebuilding a planned file's object bytes right before it is linked. The file
 * and its source must be as they were when the plan read them (a ctime moved by
 * this run's own swaps of another name of the same inode is expected). The
 * bytes read during the plan are reused when the file's fingerprint shows it
 * unchanged (ByteCache, within a memory budget); else the file is read again.
 */
import { chownSync, existsSync, lstatSync, mkdirSync, statSync, type BigIntStats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PycstoreError } from '../errors.js';
import { fingerprintOf, sameFingerprint, type Fingerprint } from '../fs/fingerprint.js';
import { parseHeader } from '../pyc/header.js';
import { pycMode } from '../pyc/mode.js';
import { tryLstat } from '../fs/stat.js';
import type { PlannedLink } from './plan.js';
import type { Transform } from '../canonical/types.js';
import { sourceFingerprint, type SkipReason } from './types.js';

/** What the transform prepared from each file during the plan, kept for the apply step up to a budget. */
export class ByteCache {
  private readonly map = new Map<string, Uint8Array>();
  private used = 0;
  constructor(private readonly budget: number) {}
  put(p: string, bytes: Uint8Array): void {
    if (this.used + bytes.length > this.budget) return;
    this.map.set(p, bytes);
    this.used += bytes.length;
  }
  get(p: string): Uint8Array | undefined {
    return this.map.get(p);
  }
  drop(p: string): void {
    const b = this.map.get(p);
    if (b) {
      this.used -= b.length;
      this.map.delete(p);
    }
  }
}

/** Inodes whose names this run has replaced: their ctime moved because of us. */
export class TouchedInodes {
  private readonly replaced = new Map<string, number>();
  touched(fp: Fingerprint): boolean {
    return this.replaced.has(`${fp.dev}:${fp.ino}`);
  }
  /** Count one more name of this inode replaced; returns how many so far. */
  replace(fp: Fingerprint): number {
    const k = `${fp.dev}:${fp.ino}`;
    const n = (this.replaced.get(k) ?? 0) + 1;
    this.replaced.set(k, n);
    return n;
  }
}

export type Rebuilt = { bytes: Uint8Array; fp: Fingerprint; bytesRead: number } | { reason: SkipReason; bytesRead: number };

export async function rebuild(l: PlannedLink, transform: Transform, inodes: TouchedInodes, cache: ByteCache): Promise<Rebuilt> {
  const { facts, variant } = l;
  const cand = facts.cand;
  if (facts.fill) return rebuildFill(l, transform, cache);
  let bytesRead = 0;
  try {
    const fp1 = fingerprintOf(lstatSync(cand.path, { bigint: true }));
    const expected = inodes.touched(facts.fp) ? { ...facts.fp, ctimeNs: fp1.ctimeNs } : facts.fp;
    if (!sameFingerprint(fp1, expected)) return { reason: 'changed', bytesRead };
    if (sourceFingerprint(statSync(cand.source, { bigint: true })) !== facts.sourceFp) return { reason: 'changed', bytesRead };
    const prepared = cache.get(cand.path);
    if (prepared && !facts.recompiled) {
      // Unchanged since the plan read and prepared it (same fingerprint): reuse the work.
      const out = transform.materialize(
        { bytes: new Uint8Array(0), header: facts.header, cand, sourceHash: facts.sourceHash, relName: cand.relName, prepared },
        variant.choice,
      );
      return { bytes: out, fp: fp1, bytesRead };
    }
    const bytes = await readFile(cand.path);
    bytesRead += bytes.length;
    if (!sameFingerprint(fingerprintOf(lstatSync(cand.path, { bigint: true })), fp1)) return { reason: 'changed', bytesRead };
    const header = parseHeader(bytes);
    if (typeof header === 'string') return { reason: 'changed', bytesRead };
    let source: Uint8Array | undefined;
    // The source hash from the plan stands while the source's fingerprint does; the source itself is
    // needed again only where the body came from recompiling it.
    if (facts.recompiled || (facts.sourceHash === undefined && (header.invalidation !== 'timestamp' || transform.needsSource(header)))) {
      source = await readFile(cand.source);
      bytesRead += source.length;
      if (sourceFingerprint(statSync(cand.source, { bigint: true })) !== facts.sourceFp) return { reason: 'changed', bytesRead };
    }
    const out = transform.materialize({ bytes, header, cand, source, sourceHash: facts.sourceHash, relName: cand.relName }, variant.choice);
    return { bytes: out, fp: fp1, bytesRead };
  } catch (err) {
    if (err instanceof PycstoreError && (err.code === 'ECANON' || err.code === 'EMARSHAL')) return { reason: 'uncanonical', bytesRead };
    return { reason: 'changed', bytesRead };
  }
}

/** Mode CPython gives a pyc it writes next to this source. */
export function fillMode(sourceStat: BigIntStats): number {
  return pycMode(sourceStat.mode);
}

/** A --fill target: its source unchanged, its path still free (or still the same stale pyc), its bytes from the transform. */
async function rebuildFill(l: PlannedLink, transform: Transform, cache: ByteCache): Promise<Rebuilt> {
  const { facts, variant } = l;
  const cand = facts.cand;
  let bytesRead = 0;
  try {
    if (sourceFingerprint(statSync(cand.source, { bigint: true })) !== facts.sourceFp) return { reason: 'changed', bytesRead };
    const now = tryLstat(cand.path);
    if (facts.fill!.stale ? !now || !sameFingerprint(fingerprintOf(now), facts.fp) : now !== undefined) return { reason: 'changed', bytesRead };
    const cacheDir = path.dirname(cand.path);
    if (!existsSync(cacheDir)) {
      mkdirSync(cacheDir);
      const parent = statSync(path.dirname(cacheDir));
      if (process.platform !== 'win32' && process.geteuid?.() === 0) chownSync(cacheDir, parent.uid, parent.gid);
    }
    // The body made while planning, while its source is unchanged; else from the source again.
    const prepared = cache.get(cand.path);
    const source = prepared ? undefined : await readFile(cand.source);
    bytesRead += source?.length ?? 0;
    const out = transform.materialize(
      { bytes: new Uint8Array(0), header: facts.header, cand, source, sourceHash: facts.sourceHash, relName: cand.relName, prepared },
      variant.choice,
    );
    return { bytes: out, fp: facts.fp, bytesRead };
  } catch (err) {
    if (err instanceof PycstoreError && (err.code === 'ECANON' || err.code === 'EMARSHAL')) return { reason: 'uncanonical', bytesRead };
    return { reason: 'changed', bytesRead };
  }
}
