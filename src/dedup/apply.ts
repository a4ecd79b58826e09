/**
 * Carrying out a dedup plan, in two passes:
 *   A. every object the plan needs is made to exist (written from the first
 *      planned file that still qualifies), then made durable in one barrier;
 *   B. each object is read once and checked against its address, and each
 *      planned file is replaced by a link to it, after one more
 *      check right before its swap: unchanged since it was read (fingerprint,
 *      source), and its content — rebuilt by the transform — equal byte for
 *      byte to the object's.
 * Ledger writes go in transactions of a few hundred operations.
 */
import { readFileSync } from 'node:fs';
import { PycstoreError } from '../errors.js';
import { allocatedBytes, fingerprintOf } from '../fs/fingerprint.js';
import { createLink, replaceWithLink, type LinkOutcome } from '../fs/link.js';
import type { Ledger, LinkKind, ObjectRow } from '../ledger/ledger.js';
import { makeDurable } from '../store/durable.js';
import { keyString, sameKey } from '../hash/key.js';
import { objectPath } from '../store/location.js';
import { putObject, sameBytes, tryLstat } from '../store/objects.js';
import type { Plan, PlannedLink, PlannedObject, PlannedSkip, StoreRootInfo } from './plan.js';
import { ByteCache, fillMode, rebuild, TouchedInodes } from './rebuild.js';
import type { Transform } from '../canonical/types.js';
import type { SkipReason } from './types.js';

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
  /** Bytes read while planning, reused when a file is unchanged. */
  readonly cache?: ByteCache;
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

interface Ready {
  readonly obj: PlannedObject;
  row: ObjectRow;
  readonly links: PlannedLink[];
}

/** A better-sqlite3 connection used in chunked transactions across awaits (nothing else uses it meanwhile). */
class Batch {
  private ops = 0;
  constructor(private readonly ledger: Ledger) {
    ledger.db.exec('BEGIN');
  }
  tick(): void {
    if (++this.ops % 500 === 0) {
      this.ledger.db.exec('COMMIT');
      this.ledger.db.exec('BEGIN');
    }
  }
  end(): void {
    if (this.ledger.db.inTransaction) this.ledger.db.exec('COMMIT');
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
  const { ledger, transform } = opts;
  const cache = opts.cache ?? new ByteCache(0);
  const inodes = new TouchedInodes();
  const rootState = new Map<number, RootState>();
  let done = 0;
  const skip = (l: PlannedLink, reason: SkipReason): void => {
    done++;
    res.skips.push({ path: l.facts.cand.path, reason });
  };
  const fail = (l: PlannedLink, reason: Failure['reason'], detail: string): void => {
    res.failures.push({ path: l.facts.cand.path, reason, detail });
  };

  const batch = new Batch(ledger);
  try {
    // A. Objects.
    const ready: Ready[] = [];
    const created = new Map<string, string[]>();
    for (const obj of plan.objects) {
      const r = await ensureObject(obj);
      if (r) ready.push(r);
    }
    makeDurable(created);

    // B. Links.
    for (const r of ready) await linkAll(r);
    return res;

    async function ensureObject(obj: PlannedObject): Promise<Ready | undefined> {
      const links = [...obj.links];
      let row = ledger.object(obj.key, obj.root.id, 0);
      const onDisk = tryLstat(objectPath(obj.root.path, obj.key, 0));
      if (onDisk) {
        // Its content is checked against its address in pass B, where it is read anyway.
        if (!row || row.ino !== onDisk.ino.toString() || row.dev !== onDisk.dev.toString()) row = record(obj, 0, onDisk, row);
        return { obj, row, links };
      }
      // Not there: write it from the first planned file that still qualifies.
      while (links.length > 0) {
        const first = links[0]!;
        const b = await rebuild(first, transform, inodes, cache);
        res.bytesRead += b.bytesRead;
        if (!('bytes' in b)) {
          links.shift();
          skip(first, b.reason);
          continue;
        }
        if (!sameKey(transform.address(b.bytes), obj.key)) {
          links.shift();
          skip(first, 'changed');
          continue;
        }
        try {
          const put = putObject(obj.root.path, obj.key, b.bytes, 0, { sync: false });
          if (put.created) {
            res.objectsCreated++;
            res.bytesSaved -= allocatedBytes(put.stat);
            const list = created.get(obj.root.path);
            if (list) list.push(put.path);
            else created.set(obj.root.path, [put.path]);
          }
          return { obj, row: record(obj, 0, put.stat, row), links };
        } catch (err) {
          const detail = err instanceof PycstoreError ? err.message : String(err);
          const reason = err instanceof PycstoreError && err.code === 'EINTEGRITY' ? 'collision' : 'error';
          for (const l of links) fail(l, reason, detail);
          done += links.length;
          return undefined;
        }
      }
      return undefined;
    }

    function record(obj: PlannedObject, replica: number, st: import('node:fs').BigIntStats, row: ObjectRow | undefined): ObjectRow {
      batch.tick();
      if (row) {
        ledger.reinodeObject(row.id, fingerprintOf(st), allocatedBytes(st));
        return ledger.objectById(row.id)!;
      }
      return ledger.insertObject(
        {
          key: obj.key,
          replica,
          rootId: obj.root.id,
          fp: fingerprintOf(st),
          allocated: allocatedBytes(st),
          magic: obj.magic,
          invalidation: obj.variant.invalidation,
          bodyHash: obj.variant.bodyHash,
        },
        opts.now(),
      );
    }

    function stateOf(root: StoreRootInfo): RootState {
      let s = rootState.get(root.id);
      if (!s) {
        s = { kind: opts.linkMode === 'hardlink' ? 'hardlink' : 'reflink', probed: opts.linkMode !== 'auto' };
        rootState.set(root.id, s);
      }
      return s;
    }

    async function linkAll(r: Ready): Promise<void> {
      const { obj } = r;
      const path0 = objectPath(obj.root.path, obj.key, 0);
      const bytes = readFileSync(path0);
      if (!sameKey(transform.address(bytes), obj.key)) {
        // A corrupt object: never link to it. verify --repair deals with it.
        for (const l of r.links) fail(l, 'collision', `store object ${path0} does not match its address; run: pycstore verify --repair`);
        done += r.links.length;
        return;
      }
      let target = r.row;
      let freshReplica = false;
      for (const l of r.links) {
        done++;
        opts.onProgress?.(done, plan.toLink);
        const state = stateOf(obj.root);
        if (state.unusable) {
          fail(l, 'no-reflink', state.unusable);
          continue;
        }
        const b = await rebuild(l, transform, inodes, cache);
        res.bytesRead += b.bytesRead;
        cache.drop(l.facts.cand.path);
        if (!('bytes' in b)) {
          res.skips.push({ path: l.facts.cand.path, reason: b.reason });
          continue;
        }
        if (!sameBytes(b.bytes, bytes)) {
          if (sameKey(transform.address(b.bytes), obj.key)) {
            fail(l, 'collision', `same address ${keyString(obj.key)} as the store object but different bytes: not linked`);
          } else {
            res.skips.push({ path: l.facts.cand.path, reason: 'changed' });
          }
          continue;
        }
        for (;;) {
          const objPath = objectPath(obj.root.path, obj.key, target.replica);
          const out: LinkOutcome =
            l.facts.fill && !l.facts.fill.stale
              ? createLink(objPath, l.facts.cand.path, state.kind, fillMode(l.facts.cand.sourceStat))
              : replaceWithLink(objPath, l.facts.cand.path, state.kind, b.fp);
          if (out.ok) {
            freshReplica = false;
            state.probed = true;
            if (l.facts.fill) res.filled++;
            else res.linked++;
            const replaced = inodes.replace(l.facts.fp);
            if (l.facts.nlink > 0 && replaced >= l.facts.nlink) res.bytesSaved += l.facts.allocated;
            const now = opts.now();
            ledger.recordLink(l.facts.cand.path, target.id, opts.rootIds[l.facts.cand.rootIndex] ?? null, state.kind, fingerprintOf(out.stat), now);
            ledger.touchObject(target.id, now);
            batch.tick();
            break;
          }
          if (out.reason === 'no-reflink' && !state.probed && opts.linkMode === 'auto') {
            state.kind = 'hardlink';
            state.probed = true;
            continue;
          }
          if (out.reason === 'no-reflink') {
            state.unusable = `the filesystem of ${obj.root.path} can't make reflinks (${out.errno ?? 'unsupported'}); use --link-mode auto or hardlink`;
            fail(l, 'no-reflink', state.unusable);
            break;
          }
          if (out.reason === 'emlink' && freshReplica) {
            fail(l, 'link-error', `${out.errno ?? 'EMLINK'} even on a new replica of the object`);
            break;
          }
          if (out.reason === 'emlink') {
            // The object hit the hard-link limit: go on with a replica.
            const replica = target.replica + 1;
            freshReplica = true;
            const made = putObject(obj.root.path, obj.key, bytes, replica);
            const known = ledger.object(obj.key, obj.root.id, replica);
            target = known && known.ino === made.stat.ino.toString() ? known : record(obj, replica, made.stat, known);
            if (made.created) {
              res.replicasCreated++;
              res.bytesSaved -= allocatedBytes(made.stat);
              opts.onWarn?.(`object ${keyString(obj.key)} reached the filesystem's hard-link limit; started replica ${replica}`);
            }
            continue;
          }
          if (out.reason === 'changed' || out.reason === 'exists') {
            res.skips.push({ path: l.facts.cand.path, reason: 'changed' });
          } else if (out.reason === 'xdev') {
            fail(l, 'other-filesystem', `cross-device link (${out.errno}): the file and ${obj.root.path} are on different mounts; add a store root on its mount with --store-root`);
          } else if (out.errno === 'EPERM' && state.kind === 'hardlink') {
            fail(l, 'link-error', `EPERM: the kernel refused a hard link to the store object (fs.protected_hardlinks: the store's objects must be owned by the user running pycstore)`);
          } else {
            fail(l, 'link-error', out.errno ?? out.reason);
          }
          break;
        }
      }
      // Adding links moved the objects' ctimes; their content was checked above, so record the new ctimes
      // (unless the mtime moved too: then verify must look at it).
      for (let replica = 0; replica <= target.replica; replica++) {
        const row = replica === 0 ? r.row : ledger.object(obj.key, obj.root.id, replica);
        const after = tryLstat(objectPath(obj.root.path, obj.key, replica));
        if (row && after && after.mtimeNs.toString() === row.mtime_ns && after.ino.toString() === row.ino) {
          ledger.reinodeObject(row.id, fingerprintOf(after), allocatedBytes(after));
          batch.tick();
        }
      }
    }
  } finally {
    batch.end();
    for (const o of plan.objects) {
      const s = rootState.get(o.root.id);
      if (s && s.probed && !s.unusable) res.linkKinds[o.root.path] = s.kind;
    }
  }
}
