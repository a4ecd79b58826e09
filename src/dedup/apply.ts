/**
 * Carrying out a dedup plan, object by object, in two passes:
 *   A. every object the plan needs is made to exist (objects.ts), then all new
 *      ones are made durable in one barrier;
 *   B. each object's files are linked to it (link.ts).
 * A streaming driver can do the same per object or per batch of objects: A for
 * a batch, the barrier, then B for each object of the batch.
 */
import { makeDurable } from '../store/durable.js';
import type { ApplyContext } from './context.js';
import { linkObject } from './link.js';
import { ensureObject, type ReadyObject } from './objects.js';
import type { Plan } from './plan.js';
import { addTally, emptyTally, type ApplyTally } from './types.js';

export interface Applied extends ApplyTally {
  /** Link kind used per store root path (what auto settled on). */
  readonly linkKinds: Record<string, string>;
}

export async function applyPlan(plan: Plan, ctx: ApplyContext): Promise<Applied> {
  const tally = emptyTally();
  tally.skips.push(...plan.skips);
  // A. Objects.
  const ready: ReadyObject[] = [];
  const created = new Map<string, string[]>();
  for (const obj of plan.objects) {
    const e = await ensureObject(obj, ctx);
    addTally(tally, e.tally);
    if (e.ready) ready.push(e.ready);
    if (e.created) {
      const list = created.get(obj.root.path);
      if (list) list.push(e.created);
      else created.set(obj.root.path, [e.created]);
    }
  }
  makeDurable(created);
  // B. Links.
  try {
    for (const r of ready) addTally(tally, await linkObject(r, ctx));
  } finally {
    ctx.writer.flush();
  }
  const linkKinds: Record<string, string> = {};
  for (const o of plan.objects) {
    const kind = ctx.linkerOf(o.root).settled();
    if (kind) linkKinds[o.root.path] = kind;
  }
  return { ...tally, linkKinds };
}
