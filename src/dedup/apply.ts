/**
 * Carrying out a dedup plan: write the objects that are new, then replace each
 * planned file by a link to its object. Each file is checked once more right
 * before its swap: unchanged since it was read (fingerprint, source), and its
 * content — rebuilt by the transform — equal byte for byte to the object's.
 */
import { chownSync, existsSync, lstatSync, mkdirSync, readFileSync, statSync, type BigIntStats } from 'node:fs';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { PycstoreError } from '../errors.js';
import { allocatedBytes, fingerprintOf, sameFingerprint, type Fingerprint } from '../fs/fingerprint.js';
import { createLink, replaceWithLink } from '../fs/link.js';
import type { Ledger, LinkKind, ObjectRow } from '../ledger/ledger.js';
import { parseHeader } from '../pyc/header.js';
import { keyString, sameKey } from '../store/key.js';
import { objectPath } from '../store/location.js';
import { putObject, sameBytes, tryLstat } from '../store/objects.js';
import type { Plan, PlannedLink, PlannedObject, PlannedSkip, StoreRootInfo } from './plan.js';
import type { Transform } from './transform.js';
import { sourceFingerprint, type SkipReason } from './types.js';

export type LinkMode = 'auto' | 'reflink' | 'hardlink';

export interface Failure {
  readonly path: string;
  readonly reason: SkipReason | 'error';
  readonly detail: string;
}

export interface ApplyOptions {
  readonly ledger: Ledger;
  readonly transform: Transform;
  readonly linkMode: LinkMode;
  /** root id of each scanned path, by candidate rootIndex. */
  readonly rootIds: readonly number[];
  readonly now: () => number;
  readonly onProgress?: (done: number, total: number) => void;
  readonly onWarn?: (message: string) => void;
}

export interface ApplyResult {
  /** Files replaced by a link. */
  linked: number;
  /** Pycs created (or put in place of stale ones) by --fill. */
  filled: number;
  bytesSaved: number;
  bytesRead: number;
  objectsCreated: number;
  replicasCreated: number;
  readonly skips: PlannedSkip[];
  readonly failures: Failure[];
  /** Link kind used per store root path (what auto settled on). */
  readonly linkKinds: Record<string, LinkKind>;
}

type RootState = { kind: LinkKind; probed: boolean; unusable?: string };

/** Inodes whose names this run has replaced: their ctime moved because of us. */
class InodeLedger {
  private readonly replaced = new Map<string, number>();
  touched(fp: Fingerprint): boolean {
    return this.replaced.has(`${fp.dev}:${fp.ino}`);
  }
  replace(fp: Fingerprint): number {
    const k = `${fp.dev}:${fp.ino}`;
    const n = (this.replaced.get(k) ?? 0) + 1;
    this.replaced.set(k, n);
    return n;
  }
}

export async function applyPlan(plan: Plan, opts: ApplyOptions): Promise<ApplyResult> {
  const res: ApplyResult = {
    linked: 0,
    filled: 0,
    bytesSaved: 0,
    bytesRead: 0,
    objectsCreated: 0,
    replicasCreated: 0,
    skips: [...plan.skips],
    failures: [],
    linkKinds: {},
  };
  const { ledger } = opts;
  const rootState = new Map<number, RootState>();
  const inodes = new InodeLedger();
  let done = 0;
  let pending: (() => void)[] = [];
  const flush = (): void => {
    if (pending.length === 0) return;
    const ops = pending;
    pending = [];
    ledger.batch(() => ops.forEach((op) => op()));
  };

  const stateOf = (root: StoreRootInfo): RootState => {
    let s = rootState.get(root.id);
    if (!s) {
      s = { kind: opts.linkMode === 'hardlink' ? 'hardlink' : 'reflink', probed: opts.linkMode !== 'auto' };
      rootState.set(root.id, s);
    }
    return s;
  };

  for (const obj of plan.objects) {
    // 1. The object's bytes: from the store if it is there, else from the first file that still qualifies.
    let row = ledger.object(obj.key, obj.root.id, 0);
    let bytes: Uint8Array | undefined;
    const path0 = objectPath(obj.root.path, obj.key, 0);
    const onDisk = tryLstat(path0);
    if (onDisk) {
      const content = readFileSync(path0);
      if (!sameKey(opts.transform.address(content), obj.key)) {
        // A corrupt object: never link to it. verify --repair deals with it.
        for (const l of obj.links) {
          res.failures.push({ path: l.facts.cand.path, reason: 'collision', detail: `store object ${path0} does not match its address; run: pycstore verify --repair` });
        }
        done += obj.links.length;
        continue;
      }
      bytes = content;
    }
    const queue = [...obj.links];
    if (!bytes) {
      while (queue.length > 0 && !bytes) {
        const first = queue[0]!;
        const r = await rebuild(first, opts.transform, inodes);
        res.bytesRead += r.bytesRead;
        if ('bytes' in r) {
          if (!sameKey(opts.transform.address(r.bytes), obj.key)) {
            queue.shift();
            done++;
            res.skips.push({ path: first.facts.cand.path, reason: 'changed' });
            continue;
          }
          bytes = r.bytes;
        } else {
          queue.shift();
          done++;
          res.skips.push({ path: first.facts.cand.path, reason: r.reason });
        }
      }
      if (!bytes) continue;
    }
    let put;
    try {
      put = putObject(obj.root.path, obj.key, bytes, 0);
    } catch (err) {
      const detail = err instanceof PycstoreError ? err.message : String(err);
      for (const l of queue) res.failures.push({ path: l.facts.cand.path, reason: err instanceof PycstoreError && err.code === 'EINTEGRITY' ? 'collision' : 'error', detail });
      done += queue.length;
      continue;
    }
    const now = opts.now();
    if (!row) {
      row = ledger.insertObject(
        {
          key: obj.key,
          replica: 0,
          rootId: obj.root.id,
          fp: fingerprintOf(put.stat),
          allocated: allocatedBytes(put.stat),
          magic: obj.magic,
          invalidation: obj.variant.invalidation,
          bodyHash: obj.variant.bodyHash,
        },
        now,
      );
    } else if (put.created || row.ino !== put.stat.ino.toString() || row.dev !== put.stat.dev.toString()) {
      ledger.reinodeObject(row.id, fingerprintOf(put.stat), allocatedBytes(put.stat));
      row = ledger.objectById(row.id)!;
    }
    if (put.created) {
      res.objectsCreated++;
      res.bytesSaved -= allocatedBytes(put.stat);
    }
    let target: ObjectRow = row;

    // 2. Link each file.
    for (const l of queue) {
      done++;
      opts.onProgress?.(done, plan.toLink);
      const state = stateOf(obj.root);
      if (state.unusable) {
        res.failures.push({ path: l.facts.cand.path, reason: 'no-reflink', detail: state.unusable });
        continue;
      }
      const r = await rebuild(l, opts.transform, inodes);
      res.bytesRead += r.bytesRead;
      if (!('bytes' in r)) {
        res.skips.push({ path: l.facts.cand.path, reason: r.reason });
        continue;
      }
      if (!sameBytes(r.bytes, bytes)) {
        const sameAddress = sameKey(opts.transform.address(r.bytes), obj.key);
        if (sameAddress) {
          res.failures.push({
            path: l.facts.cand.path,
            reason: 'collision',
            detail: `same address ${keyString(obj.key)} as the store object but different bytes: not linked`,
          });
        } else {
          res.skips.push({ path: l.facts.cand.path, reason: 'changed' });
        }
        continue;
      }
      for (;;) {
        const objPath = objectPath(obj.root.path, obj.key, target.replica);
        const out =
          l.facts.fill && !l.facts.fill.stale
            ? createLink(objPath, l.facts.cand.path, state.kind, fillMode(l.facts.cand.sourceStat))
            : replaceWithLink(objPath, l.facts.cand.path, state.kind, r.fp);
        if (out.ok) {
          if (!state.probed) state.probed = true;
          if (l.facts.fill) res.filled++;
          else res.linked++;
          const replaced = inodes.replace(l.facts.fp);
          if (l.facts.nlink > 0 && replaced >= l.facts.nlink) res.bytesSaved += l.facts.allocated;
          const fp = fingerprintOf(out.stat);
          const objectId = target.id;
          const rootId = opts.rootIds[l.facts.cand.rootIndex] ?? null;
          const kind = state.kind;
          const when = opts.now();
          pending.push(() => {
            ledger.recordLink(l.facts.cand.path, objectId, rootId, kind, fp, when);
            ledger.touchObject(objectId, when);
          });
          if (pending.length >= 256) flush();
          break;
        }
        if (out.reason === 'no-reflink' && !state.probed && opts.linkMode === 'auto') {
          state.kind = 'hardlink';
          state.probed = true;
          continue;
        }
        if (out.reason === 'no-reflink') {
          state.unusable = `the filesystem of ${obj.root.path} can't make reflinks (${out.errno ?? 'unsupported'}); use --link-mode auto or hardlink`;
          res.failures.push({ path: l.facts.cand.path, reason: 'no-reflink', detail: state.unusable });
          break;
        }
        if (out.reason === 'emlink') {
          // The object hit the hard-link limit: continue on a replica.
          const replica = target.replica + 1;
          const made = putObject(obj.root.path, obj.key, bytes, replica);
          let rrow = ledger.object(obj.key, obj.root.id, replica);
          if (!rrow) {
            rrow = ledger.insertObject(
              {
                key: obj.key,
                replica,
                rootId: obj.root.id,
                fp: fingerprintOf(made.stat),
                allocated: allocatedBytes(made.stat),
                magic: obj.magic,
                invalidation: obj.variant.invalidation,
                bodyHash: obj.variant.bodyHash,
              },
              opts.now(),
            );
          }
          if (made.created) {
            res.replicasCreated++;
            res.bytesSaved -= allocatedBytes(made.stat);
            opts.onWarn?.(`object ${keyString(obj.key)} reached the filesystem's hard-link limit; started replica ${replica}`);
          }
          target = rrow;
          continue;
        }
        if (out.reason === 'changed' || out.reason === 'exists') {
          res.skips.push({ path: l.facts.cand.path, reason: 'changed' });
        } else if (out.reason === 'xdev') {
          res.failures.push({
            path: l.facts.cand.path,
            reason: 'other-filesystem',
            detail: `cross-device link (${out.errno}): the file and ${obj.root.path} are on different mounts; add a store root on its mount with --store-root`,
          });
        } else {
          res.failures.push({ path: l.facts.cand.path, reason: 'link-error', detail: out.errno ?? out.reason });
        }
        break;
      }
    }
    // Adding links moved the object's ctime; its content was checked above, so record the new ctime
    // (unless its mtime moved too: then verify must look at it).
    const after = tryLstat(objectPath(obj.root.path, obj.key, 0));
    if (after && row && after.mtimeNs.toString() === row.mtime_ns && after.ino.toString() === row.ino) {
      const objFp = fingerprintOf(after);
      const id = row.id;
      const alloc = allocatedBytes(after);
      pending.push(() => ledger.reinodeObject(id, objFp, alloc));
    }
  }
  flush();
  for (const o of plan.objects) {
    const s = rootState.get(o.root.id);
    if (s && s.probed && !s.unusable) res.linkKinds[o.root.path] = s.kind;
  }
  return res;
}

type Rebuilt = { bytes: Uint8Array; fp: Fingerprint; bytesRead: number } | { reason: SkipReason; bytesRead: number };

/**
 * Re-read a planned file and rebuild its object bytes. The file and its source
 * must be as they were when the plan read them (a ctime moved by this run's own
 * swaps of another name of the same inode is expected).
 */
async function rebuild(l: PlannedLink, transform: Transform, inodes: InodeLedger): Promise<Rebuilt> {
  const { facts, variant } = l;
  const cand = facts.cand;
  let bytesRead = 0;
  if (facts.fill) return rebuildFill(l, transform);
  try {
    const st1 = lstatSync(cand.path, { bigint: true });
    const fp1 = fingerprintOf(st1);
    const expected = inodes.touched(facts.fp) ? { ...facts.fp, ctimeNs: fp1.ctimeNs } : facts.fp;
    if (!sameFingerprint(fp1, expected)) return { reason: 'changed', bytesRead };
    if (sourceFingerprint(statSync(cand.source, { bigint: true })) !== facts.sourceFp) return { reason: 'changed', bytesRead };
    const bytes = await readFile(cand.path);
    bytesRead += bytes.length;
    const st2 = lstatSync(cand.path, { bigint: true });
    if (!sameFingerprint(fingerprintOf(st2), fp1)) return { reason: 'changed', bytesRead };
    const header = parseHeader(bytes);
    if (typeof header === 'string') return { reason: 'changed', bytesRead };
    let source: Uint8Array | undefined;
    if (header.invalidation !== 'timestamp' || transform.needsSource(header) || facts.recompiled) {
      source = await readFile(cand.source);
      bytesRead += source.length;
      if (sourceFingerprint(statSync(cand.source, { bigint: true })) !== facts.sourceFp) return { reason: 'changed', bytesRead };
    }
    const out = transform.materialize({ bytes, header, cand, source, relName: cand.relName }, variant.choice);
    return { bytes: out, fp: fp1, bytesRead };
  } catch (err) {
    if (err instanceof PycstoreError && (err.code === 'ECANON' || err.code === 'EMARSHAL')) return { reason: 'uncanonical', bytesRead };
    return { reason: 'changed', bytesRead };
  }
}

/** Mode CPython gives a pyc it writes: the source's mode with owner-write, within 0666. */
function fillMode(sourceStat: BigIntStats): number {
  return (Number(sourceStat.mode) | 0o200) & 0o666;
}

/** A --fill target: its source unchanged, its path still free (or still the same stale pyc), its bytes from the transform. */
async function rebuildFill(l: PlannedLink, transform: Transform): Promise<Rebuilt> {
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
    const source = await readFile(cand.source);
    bytesRead += source.length;
    const out = transform.materialize({ bytes: new Uint8Array(0), header: facts.header, cand, source, relName: cand.relName }, variant.choice);
    return { bytes: out, fp: facts.fp, bytesRead };
  } catch (err) {
    if (err instanceof PycstoreError && (err.code === 'ECANON' || err.code === 'EMARSHAL')) return { reason: 'uncanonical', bytesRead };
    return { reason: 'changed', bytesRead };
  }
}
