/**
 * Apply, part A, for one planned object: make it exist in its store root.
 * An object already at its address is used as it is (its content is checked
 * against its address in part B, where it is read anyway); a missing one is
 * written from the first planned file that still qualifies (unchanged since it
 * was read, rebuilding to the planned address), without an fsync: the caller
 * makes every new object durable in one barrier (store/durable.ts) before any
 * file is linked to it.
 */
import { PycstoreError } from '../errors.js';
import { allocatedBytes } from '../fs/fingerprint.js';
import { tryLstat } from '../fs/stat.js';
import { sameKey } from '../hash/key.js';
import type { ObjectRow } from '../ledger/rows.js';
import { objectPath } from '../store/location.js';
import { putObject } from '../store/objects.js';
import { recordObject, type ApplyContext } from './context.js';
import { isNoSpace } from './no-space.js';
import type { PlannedLink, PlannedObject } from './plan.js';
import { rebuild } from './rebuild.js';
import { emptyTally, type ApplyTally } from './types.js';

/** A planned object that exists, with its row and the files still to link to it. */
export interface ReadyObject {
  readonly obj: PlannedObject;
  readonly row: ObjectRow;
  readonly links: readonly PlannedLink[];
}

export interface Ensured {
  /** Undefined when no file could give it its content, or writing it failed (the tally says why). */
  readonly ready: ReadyObject | undefined;
  /** Path of the object file this call created (not yet durable). */
  readonly created: string | undefined;
  readonly tally: ApplyTally;
}

export async function ensureObject(obj: PlannedObject, ctx: ApplyContext): Promise<Ensured> {
  const tally = emptyTally();
  const links = [...obj.links];
  const row = ctx.ledger.object(obj.key, obj.root.id, 0);
  const onDisk = tryLstat(objectPath(obj.root.path, obj.key, 0));
  if (onDisk) {
    const known = row && row.ino === onDisk.ino.toString() && row.dev === onDisk.dev.toString();
    return { ready: { obj, row: known ? row : recordObject(ctx, obj, 0, onDisk), links }, created: undefined, tally };
  }
  // Not there: write it from the first planned file that still qualifies.
  while (links.length > 0) {
    const first = links[0]!;
    const b = await rebuild(first, ctx.transform, ctx.inodes, ctx.cache);
    tally.bytesRead += b.bytesRead;
    if (!('bytes' in b) || !sameKey(ctx.transform.address(b.bytes), obj.key)) {
      links.shift();
      tally.skips.push({ path: first.facts.cand.path, reason: 'bytes' in b ? 'changed' : b.reason });
      ctx.onProgress?.(1);
      continue;
    }
    try {
      const put = putObject(obj.root.path, obj.key, b.bytes, 0, { sync: false });
      if (put.created) {
        tally.objectsCreated++;
        tally.bytesSaved -= allocatedBytes(put.stat);
      }
      return { ready: { obj, row: recordObject(ctx, obj, 0, put.stat), links }, created: put.created ? put.path : undefined, tally };
    } catch (err) {
      if (isNoSpace(err)) throw err; // the run stops: apply.ts says it once
      const detail = err instanceof PycstoreError ? err.message : String(err);
      const reason = err instanceof PycstoreError && err.code === 'EINTEGRITY' ? 'collision' : 'error';
      for (const l of links) tally.failures.push({ path: l.facts.cand.path, reason, detail });
      ctx.onProgress?.(links.length);
      return { ready: undefined, created: undefined, tally };
    }
  }
  return { ready: undefined, created: undefined, tally };
}
