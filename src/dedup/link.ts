/**
 * Apply, part B, for one object that exists: read it once and check it against
 * its address, then replace each of its planned files by a link to it, after
 * one more check right before the swap: the file unchanged since it was read
 * (fingerprint, source), and its content — rebuilt by the transform — equal
 * byte for byte to the object's. An object at the hard-link limit continues in
 * a replica (store/replicas.ts). Link rows are queued on the ledger writer.
 */
import { readFileSync } from 'node:fs';
import { allocatedBytes, fingerprintOf } from '../fs/fingerprint.js';
import type { Linker, LinkerOutcome } from '../fs/link.js';
import { tryLstat } from '../fs/stat.js';
import { keyString, sameKey } from '../hash/key.js';
import type { ObjectRow } from '../ledger/rows.js';
import { objectPath } from '../store/location.js';
import { sameBytes } from '../store/objects.js';
import { nextReplica } from '../store/replicas.js';
import { recordObject, type ApplyContext } from './context.js';
import type { ReadyObject } from './objects.js';
import type { PlannedLink } from './plan.js';
import { isNoSpaceCode, NoSpace } from './no-space.js';
import { fillMode, rebuild } from './rebuild.js';
import { checkpointEvery } from '../util/turn.js';
import { emptyTally, type ApplyTally } from './types.js';

/** The object being linked to: its bytes, and the replica new links go to. */
interface Target {
  readonly ready: ReadyObject;
  readonly bytes: Uint8Array;
  row: ObjectRow;
  /** The current replica was made in this run for this very reason: EMLINK again means something else is wrong. */
  freshReplica: boolean;
}

export async function linkObject(ready: ReadyObject, ctx: ApplyContext): Promise<ApplyTally> {
  const tally = emptyTally();
  const { obj } = ready;
  const path0 = objectPath(obj.root.path, obj.key, 0);
  const bytes = readFileSync(path0);
  if (!sameKey(ctx.transform.address(bytes), obj.key)) {
    // A corrupt object: never link to it. verify --repair deals with it.
    const detail = `store object ${path0} does not match its address; run: pycstore verify --repair`;
    for (const l of ready.links) tally.failures.push({ path: l.facts.cand.path, reason: 'collision', detail });
    ctx.onProgress?.(ready.links.length);
    return tally;
  }
  const target: Target = { ready, bytes, row: ready.row, freshReplica: false };
  const linker = ctx.linkerOf(obj.root);
  const checkpoint = checkpointEvery(32);
  for (const l of ready.links) {
    await checkpoint();
    if (ctx.signal?.aborted) break; // between two files: what is linked is recorded
    ctx.onProgress?.(1);
    await linkFile(l, target, linker, ctx, tally);
  }
  recordTimes(target, ctx);
  return tally;
}

/** One planned file: checked again, then linked (or skipped, or failed, with why). */
async function linkFile(l: PlannedLink, target: Target, linker: Linker, ctx: ApplyContext, tally: ApplyTally): Promise<void> {
  const path = l.facts.cand.path;
  const refused = linker.refused();
  if (refused) {
    tally.failures.push({ path, reason: 'no-reflink', detail: noReflink(target, refused) });
    return;
  }
  const b = await rebuild(l, ctx.transform, ctx.inodes, ctx.cache);
  tally.bytesRead += b.bytesRead;
  ctx.cache.drop(path);
  if (!('bytes' in b)) {
    tally.skips.push({ path, reason: b.reason });
    return;
  }
  if (!sameBytes(b.bytes, target.bytes)) {
    const obj = target.ready.obj;
    if (sameKey(ctx.transform.address(b.bytes), obj.key)) {
      tally.failures.push({ path, reason: 'collision', detail: `same address ${keyString(obj.key)} as the store object but different bytes: not linked` });
    } else tally.skips.push({ path, reason: 'changed' });
    return;
  }
  for (;;) {
    const objPath = objectPath(target.ready.obj.root.path, target.ready.obj.key, target.row.replica);
    const out = l.facts.fill && !l.facts.fill.stale ? linker.create(objPath, path, fillMode(l.facts.cand.sourceStat)) : linker.replace(objPath, path, b.fp);
    if (out.ok) {
      linked(l, target, out, ctx, tally);
      return;
    }
    if (out.reason === 'emlink' && !target.freshReplica) {
      startReplica(target, ctx, tally);
      continue;
    }
    if (isNoSpaceCode(out.errno)) throw new NoSpace(target.ready.obj.root.path, undefined, Object.assign(new Error(out.errno), { code: out.errno }));
    failed(l, target, out, tally);
    return;
  }
}

function linked(l: PlannedLink, target: Target, out: Extract<LinkerOutcome, { ok: true }>, ctx: ApplyContext, tally: ApplyTally): void {
  target.freshReplica = false;
  if (l.facts.fill) tally.filled++;
  else tally.linked++;
  const replaced = ctx.inodes.replace(l.facts.fp);
  // The file's blocks come back when its inode's last name is replaced (a `cp -al` pair: on the second).
  const freed = l.facts.nlink > 0 && replaced === l.facts.nlink ? l.facts.allocated : 0;
  tally.bytesSaved += freed;
  const now = ctx.now();
  const objectId = target.row.id;
  const rootId = ctx.rootIds[l.facts.cand.rootIndex] ?? null;
  const fp = fingerprintOf(out.stat);
  ctx.writer.add((w) => {
    w.recordLink(l.facts.cand.path, objectId, rootId, out.kind, fp, now, { freed, header: l.facts.fill ? null : l.facts.header.invalidation });
    w.touchObject(objectId, now);
  });
}

/** The object hit the filesystem's hard-link limit: go on with a replica. */
function startReplica(target: Target, ctx: ApplyContext, tally: ApplyTally): void {
  const obj = target.ready.obj;
  const { replica, put } = nextReplica(obj.root.path, obj.key, target.bytes, target.row.replica);
  const known = ctx.ledger.object(obj.key, obj.root.id, replica);
  target.row = known && known.ino === put.stat.ino.toString() ? known : recordObject(ctx, obj, replica, put.stat);
  target.freshReplica = true;
  if (put.created) {
    tally.replicasCreated++;
    tally.bytesSaved -= allocatedBytes(put.stat);
    ctx.onWarn?.(`object ${keyString(obj.key)} reached the filesystem's hard-link limit; started replica ${replica}`);
  }
}

function noReflink(target: Target, out: LinkerOutcome): string {
  return `the filesystem of ${target.ready.obj.root.path} can't make reflinks (${(!out.ok && out.errno) || 'unsupported'}); use --link-mode auto or hardlink`;
}

function failed(l: PlannedLink, target: Target, out: Extract<LinkerOutcome, { ok: false }>, tally: ApplyTally): void {
  const path = l.facts.cand.path;
  const fail = (reason: 'no-reflink' | 'link-error' | 'other-filesystem', detail: string): void => void tally.failures.push({ path, reason, detail });
  if (out.reason === 'no-reflink') fail('no-reflink', noReflink(target, out));
  else if (out.reason === 'emlink') fail('link-error', `${out.errno ?? 'EMLINK'} even on a new replica of the object`);
  else if (out.reason === 'changed' || out.reason === 'exists') tally.skips.push({ path, reason: 'changed' });
  else if (out.reason === 'xdev') {
    fail('other-filesystem', `cross-device link (${out.errno}): the file and ${target.ready.obj.root.path} are on different mounts; add a store root on its mount with --store-root`);
  } else if (out.errno === 'EPERM' && out.kind === 'hardlink') {
    fail('link-error', `EPERM: the kernel refused a hard link to the store object (fs.protected_hardlinks: the store's objects must be owned by the user running pycstore)`);
  } else fail('link-error', out.errno ?? out.reason);
}

/**
 * Adding links moved the objects' ctimes; their content was checked before linking, so record the new
 * ctimes (unless the mtime moved too: then verify must look at it).
 */
function recordTimes(target: Target, ctx: ApplyContext): void {
  const obj = target.ready.obj;
  for (let replica = 0; replica <= target.row.replica; replica++) {
    const row = replica === 0 ? target.ready.row : ctx.ledger.object(obj.key, obj.root.id, replica);
    const after = tryLstat(objectPath(obj.root.path, obj.key, replica));
    if (row && after && after.mtimeNs.toString() === row.mtime_ns && after.ino.toString() === row.ino) {
      const id = row.id;
      const fp = fingerprintOf(after);
      const alloc = allocatedBytes(after);
      ctx.writer.add((w) => w.reinodeObject(id, fp, alloc));
    }
  }
}
