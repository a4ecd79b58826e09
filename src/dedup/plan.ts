/**
 * The dedup plan, pure: given what was read, which object each pyc becomes,
 * which objects must be written, what is skipped and why, and what it will
 * save. `--dry-run` prints this and stops; apply carries it out.
 *
 * The unit is a code group: the files whose marshal body is the same code
 * (same magic, same body). The header policy decides per group, every name of
 * an inode has the same content (so the same group), and each planned object
 * belongs to one group: `planGroup` plans one group on its own, and `makePlan`
 * is the plans of all groups put together.
 */
import type { Variant } from '../canonical/types.js';
import { keyString, type ObjectKey } from '../hash/key.js';
import { codeKey } from './policy.js';
import type { FileFacts, PlannedSkip } from './types.js';

export type { PlannedSkip } from './types.js';

export interface StoreRootInfo {
  readonly id: number;
  readonly path: string;
  readonly dev: string;
}

export interface PlannedLink {
  readonly facts: FileFacts;
  readonly variant: Variant;
}

export interface PlannedObject {
  readonly key: ObjectKey;
  readonly root: StoreRootInfo;
  /** Already in the store (ledger row) before this run. */
  readonly existing: boolean;
  readonly variant: Omit<Variant, 'stamp'>;
  readonly magic: number;
  readonly links: PlannedLink[];
}

export interface OtherFilesystem {
  readonly dev: string;
  files: number;
  bytes: number;
  readonly example: string;
}

export interface Plan {
  readonly objects: PlannedObject[];
  readonly skips: PlannedSkip[];
  readonly otherFilesystems: OtherFilesystem[];
  /** Files that will be replaced by a link. */
  readonly toLink: number;
  /** Allocated bytes the plan frees, minus what new objects take. */
  readonly projectedBytesSaved: number;
}

/** The files of one piece of code (same magic, same marshal body), in path order. */
export interface CodeGroup {
  readonly code: string;
  readonly facts: readonly FileFacts[];
}

export interface PlanContext {
  readonly storeRoots: readonly StoreRootInfo[];
  /** Is there already an object for this key in this store root? */
  readonly objectExists: (key: ObjectKey, rootId: number) => boolean;
  /**
   * uid owning the store; 0 = a system store. A file of another owner is left
   * alone: a hard link would hand it the store owner's inode, and a reflink made
   * by a non-root user can't keep the file's owner.
   */
  readonly storeUid: number;
  /** The header policy: the variant each file of one code group becomes (same order). */
  readonly choose: (facts: readonly FileFacts[]) => readonly Variant[];
}

/** Allocated size of an object file of `size` bytes, for projections (4 KiB blocks). */
export function projectedAllocation(size: number): number {
  return Math.ceil(size / 4096) * 4096;
}

/** Facts grouped by code, groups in the order of their first file. */
export function groupByCode(facts: readonly FileFacts[]): CodeGroup[] {
  const groups = new Map<string, FileFacts[]>();
  for (const f of facts) {
    const code = codeKey(f.header.version.magic, f.variants[0]!.bodyHash);
    const g = groups.get(code);
    if (g) g.push(f);
    else groups.set(code, [f]);
  }
  return [...groups].map(([code, fs]) => ({ code, facts: fs }));
}

/** Where a file's object goes: a store root on its filesystem, owned right; else why not. */
function placeFile(facts: FileFacts, ctx: PlanContext, byDev: ReadonlyMap<string, StoreRootInfo>): StoreRootInfo | PlannedSkip {
  const root = byDev.get(facts.fp.dev);
  if (!root) return { path: facts.cand.path, reason: 'other-filesystem' };
  if (ctx.storeUid !== 0 && facts.uid !== ctx.storeUid) {
    return { path: facts.cand.path, reason: 'not-owner', detail: `owned by uid ${facts.uid}; the store belongs to uid ${ctx.storeUid}` };
  }
  return root;
}

/** Plan one code group. */
export function planGroup(group: CodeGroup, ctx: PlanContext): Plan {
  const byDev = new Map(ctx.storeRoots.map((r) => [r.dev, r]));
  const chosen = ctx.choose(group.facts);
  const objects = new Map<string, PlannedObject>();
  const skips: PlannedSkip[] = [];
  const other = new Map<string, OtherFilesystem>();
  // How many names of each inode this plan replaces: an inode's blocks are freed only when all its names are.
  const namesReplaced = new Map<string, { nlink: number; replaced: number; allocated: number }>();
  group.facts.forEach((facts, i) => {
    const variant = chosen[i]!;
    const root = placeFile(facts, ctx, byDev);
    if ('reason' in root) {
      skips.push(root);
      if (root.reason !== 'other-filesystem') return;
      const o = other.get(facts.fp.dev) ?? { dev: facts.fp.dev, files: 0, bytes: 0, example: facts.cand.path };
      o.files++;
      o.bytes += facts.allocated;
      other.set(facts.fp.dev, o);
      return;
    }
    const id = `${root.id}:${keyString(variant.key)}`;
    let obj = objects.get(id);
    if (!obj) {
      const { choice, key, invalidation, bodyHash } = variant;
      obj = { key, root, existing: ctx.objectExists(key, root.id), variant: { choice, key, invalidation, bodyHash }, magic: facts.header.version.magic, links: [] };
      objects.set(id, obj);
    }
    obj.links.push({ facts, variant });
    const inode = `${facts.fp.dev}:${facts.fp.ino}`;
    const n = namesReplaced.get(inode) ?? { nlink: facts.nlink, replaced: 0, allocated: facts.allocated };
    n.replaced++;
    namesReplaced.set(inode, n);
  });
  let freed = 0;
  for (const n of namesReplaced.values()) if (n.replaced >= n.nlink) freed += n.allocated;
  const planned = [...objects.values()];
  const taken = planned.reduce((s, o) => s + (o.existing ? 0 : projectedAllocation(o.key.size)), 0);
  const toLink = planned.reduce((s, o) => s + o.links.length, 0);
  return { objects: planned, skips, otherFilesystems: [...other.values()], toLink, projectedBytesSaved: freed - taken };
}

/** The plans of several groups as one; objects in the order of their first file in `order`. */
export function mergePlans(plans: readonly Plan[], order: ReadonlyMap<string, number>): Plan {
  const objects = plans.flatMap((p) => p.objects);
  const first = (o: PlannedObject): number => order.get(o.links[0]!.facts.cand.path) ?? 0;
  objects.sort((a, b) => first(a) - first(b));
  const other = new Map<string, OtherFilesystem>();
  for (const o of plans.flatMap((p) => p.otherFilesystems)) {
    const seen = other.get(o.dev);
    if (seen) {
      seen.files += o.files;
      seen.bytes += o.bytes;
    } else other.set(o.dev, { ...o });
  }
  return {
    objects,
    skips: plans.flatMap((p) => p.skips),
    otherFilesystems: [...other.values()],
    toLink: plans.reduce((s, p) => s + p.toLink, 0),
    projectedBytesSaved: plans.reduce((s, p) => s + p.projectedBytesSaved, 0),
  };
}

/** The whole plan: every code group of `facts` (sorted by path), planned and put together. */
export function makePlan(facts: readonly FileFacts[], ctx: PlanContext): Plan {
  const order = new Map(facts.map((f, i) => [f.cand.path, i]));
  return mergePlans(
    groupByCode(facts).map((g) => planGroup(g, ctx)),
    order,
  );
}
