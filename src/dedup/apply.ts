/**
 * Carrying out a dedup plan, object by object, in two passes:
 *   A. every object the plan needs is made to exist (objects.ts), then all new
 *      ones are made durable in one barrier;
 *   B. each object's files are linked to it (link.ts).
 * A streaming driver can do the same per object or per batch of objects: A for
 * a batch, the barrier, then B for each object of the batch.
 */
import { PycstoreError } from '../errors.js';
import { freeBytes } from '../fs/free-space.js';
import { makeDurable } from '../store/durable.js';
import { formatBytes } from '../util/format.js';
import { checkpointEvery } from '../util/turn.js';
import type { ApplyContext } from './context.js';
import { linkObject } from './link.js';
import { isNoSpace, NoSpace } from './no-space.js';
import { ensureObject, type ReadyObject } from './objects.js';
import { projectedAllocation, type Plan, type PlannedObject } from './plan.js';
import { addTally, emptyTally, type ApplyTally } from './types.js';

export interface Applied extends ApplyTally {
  /** Link kind used per store root path (what auto settled on). */
  readonly linkKinds: Record<string, string>;
  /** The run's signal stopped it between two files: the files linked so far are recorded. */
  readonly interrupted: boolean;
}

export async function applyPlan(plan: Plan, ctx: ApplyContext): Promise<Applied> {
  const tally = emptyTally();
  tally.skips.push(...plan.skips);
  try {
    const ready = await ensureAll(plan.objects, ctx, tally);
    // B. Links.
    const checkpoint = checkpointEvery(8);
    for (const r of ready) {
      await checkpoint();
      if (ctx.signal?.aborted) break;
      addTally(tally, await linkObject(r, ctx));
    }
    ctx.writer.flush();
  } catch (err) {
    flushQuietly(ctx); // what was linked so far is recorded, if the disk lets it
    if (err instanceof NoSpace) throw noSpaceError(err, plan.objects);
    if (isNoSpace(err)) throw noSpaceError(new NoSpace(plan.objects[0]?.root.path ?? '.', undefined, err), plan.objects); // the ledger's own writes
    throw err;
  }
  const linkKinds: Record<string, string> = {};
  for (const o of plan.objects) {
    const kind = ctx.linkerOf(o.root).settled();
    if (kind) linkKinds[o.root.path] = kind;
  }
  return { ...tally, linkKinds, interrupted: ctx.signal?.aborted ?? false };
}

/** A. Every object made to exist, then the new ones made durable in one barrier. */
async function ensureAll(objects: readonly PlannedObject[], ctx: ApplyContext, tally: ApplyTally): Promise<ReadyObject[]> {
  const ready: ReadyObject[] = [];
  const created = new Map<string, string[]>();
  const checkpoint = checkpointEvery(8);
  for (const [i, obj] of objects.entries()) {
    await checkpoint();
    if (ctx.signal?.aborted) break;
    let e;
    try {
      e = await ensureObject(obj, ctx);
    } catch (err) {
      if (isNoSpace(err)) throw new NoSpace(obj.root.path, i, err);
      throw err;
    }
    addTally(tally, e.tally);
    if (e.ready) ready.push(e.ready);
    if (e.created) {
      const list = created.get(obj.root.path);
      if (list) list.push(e.created);
      else created.set(obj.root.path, [e.created]);
    }
  }
  makeDurable(created);
  return ready;
}

function flushQuietly(ctx: ApplyContext): void {
  try {
    ctx.writer.flush();
  } catch {
    // the disk is full (or worse): the error being raised says so; the next run adopts the unrecorded links
  }
}

/** One line for a full disk: where, and about how much more the rest of this run's new objects need. */
function noSpaceError(e: NoSpace, objects: readonly PlannedObject[]): PycstoreError {
  let needed = 0;
  for (const o of objects.slice(e.index ?? objects.length)) if (!o.existing && o.root.path === e.root) needed += projectedAllocation(o.key.size);
  const more = needed > 0 ? `about ${formatBytes(needed)} more is needed for this run's new store objects` : 'the ledger could not grow';
  return new PycstoreError('ENOSPC', `no space left on the filesystem of the store ${e.root} (${formatBytes(freeBytes(e.root) ?? 0)} free): ${more} (${e.why})`, {
    hint: 'free some space there (or put the store elsewhere: --store DIR), then run the same command again: what was linked so far is recorded',
    cause: e.cause,
  });
}
