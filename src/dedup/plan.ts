/**
 * Step 4, plan, pure: given one group's files and the object each becomes,
 * which objects must exist, what is skipped and why, and what it will save.
 * `--dry-run` reports the plans and stops; apply carries them out.
 *
 * Two files claiming one object (one address) must hold the same bytes: each
 * distinct object of a group is one instance (group.ts), so the same instance
 * means the same bytes; different instances at one address are compared byte
 * for byte, and a difference is a collision — never linked.
 */
import type { Variant } from '../canonical/types.js';
import { keyString, type ObjectKey } from '../hash/key.js';
import { sameBytes } from '../store/objects.js';
import type { ObjectRow } from '../ledger/rows.js';
import type { Chosen, Failure, FileFacts, PlannedSkip } from './types.js';

export type { PlannedSkip } from './types.js';

export interface StoreRootInfo {
  readonly id: number;
  readonly path: string;
  readonly dev: string;
}

export type PlannedLink = Chosen;

export interface PlannedObject {
  readonly key: ObjectKey;
  readonly root: StoreRootInfo;
  /** Already in the store (ledger row) before this group. */
  readonly existing: boolean;
  readonly variant: Omit<Variant, 'stamp'>;
  readonly magic: number;
  /** Its bytes (header + body). */
  readonly bytes: Uint8Array;
  /** The row of the object file these very bytes were read from in this run, if they were (Chosen.readFrom). */
  readonly readFrom?: ObjectRow | undefined;
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
  /** Files whose bytes differ from another file's at the same address. */
  readonly collisions: Failure[];
  readonly otherFilesystems: OtherFilesystem[];
  /** Files that will be replaced by a link (or created, --fill). */
  readonly toLink: number;
  /** Allocated bytes the plan frees, minus what new objects take. */
  readonly projectedBytesSaved: number;
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
}

/** Allocated size of an object file of `size` bytes, for projections (4 KiB blocks). */
export function projectedAllocation(size: number): number {
  return Math.ceil(size / 4096) * 4096;
}

/** Where a file's object goes: a store root on its filesystem, owned right; else why not. */
function placeFile(facts: FileFacts, ctx: PlanContext, byDev: ReadonlyMap<string, StoreRootInfo>): StoreRootInfo | PlannedSkip {
  const root = byDev.get(facts.stat.fp.dev);
  if (!root) return { path: facts.subject.path, reason: 'other-filesystem' };
  if (ctx.storeUid !== 0 && facts.stat.uid !== ctx.storeUid) {
    return { path: facts.subject.path, reason: 'not-owner', detail: `owned by uid ${facts.stat.uid}; the store belongs to uid ${ctx.storeUid}` };
  }
  return root;
}

/** What a plan is being built into. */
interface Building {
  readonly objects: Map<string, PlannedObject>;
  readonly skips: PlannedSkip[];
  readonly collisions: Failure[];
  readonly other: Map<string, OtherFilesystem>;
  /** How many names of each inode the plan replaces: an inode's blocks are freed only when all its names are. */
  readonly names: Map<string, { nlink: number; replaced: number; allocated: number }>;
}

function skipFile(b: Building, facts: FileFacts, skip: PlannedSkip): void {
  b.skips.push(skip);
  if (skip.reason !== 'other-filesystem') return;
  const dev = facts.stat.fp.dev;
  const o = b.other.get(dev) ?? { dev, files: 0, bytes: 0, example: facts.subject.path };
  o.files++;
  o.bytes += facts.stat.allocated;
  b.other.set(dev, o);
}

function addLink(b: Building, c: Chosen, root: StoreRootInfo, ctx: PlanContext): void {
  const { facts, variant } = c;
  const id = `${root.id}:${keyString(variant.key)}`;
  let obj = b.objects.get(id);
  if (!obj) {
    const { choice, key, invalidation, bodyHash } = variant;
    obj = { key, root, existing: readHere(c.readFrom, key, root.id) || ctx.objectExists(key, root.id), variant: { choice, key, invalidation, bodyHash }, magic: facts.header.version.magic, bytes: c.bytes, readFrom: c.readFrom, links: [] };
    b.objects.set(id, obj);
  } else if (obj.bytes !== c.bytes && !sameBytes(obj.bytes, c.bytes)) {
    b.collisions.push({ path: facts.subject.path, reason: 'collision', detail: `same address ${keyString(variant.key)} as another file but different bytes: not linked` });
    return;
  }
  obj.links.push(c);
  const inode = `${facts.stat.fp.dev}:${facts.stat.fp.ino}`;
  const n = b.names.get(inode) ?? { nlink: facts.stat.nlink, replaced: 0, allocated: facts.stat.allocated };
  n.replaced++;
  b.names.set(inode, n);
}

/** The bytes were read whole from this very object (its first copy in that store root): it exists, and its row came with them. */
export function readHere(r: ObjectRow | undefined, key: ObjectKey, rootId: number): r is ObjectRow {
  return r !== undefined && r.root_id === rootId && r.replica === 0 && r.hash === key.hash && r.size === key.size;
}

/** Plan one group: its files, each with the object it becomes. */
export function planGroup(chosen: readonly Chosen[], ctx: PlanContext): Plan {
  const byDev = new Map(ctx.storeRoots.map((r) => [r.dev, r]));
  const b: Building = { objects: new Map(), skips: [], collisions: [], other: new Map(), names: new Map() };
  for (const c of chosen) {
    const root = placeFile(c.facts, ctx, byDev);
    if ('reason' in root) skipFile(b, c.facts, root);
    else addLink(b, c, root, ctx);
  }
  let freed = 0;
  for (const n of b.names.values()) if (n.nlink > 0 && n.replaced >= n.nlink) freed += n.allocated;
  const planned = [...b.objects.values()];
  const taken = planned.reduce((s, o) => s + (o.existing ? 0 : projectedAllocation(o.key.size)), 0);
  const toLink = planned.reduce((s, o) => s + o.links.length, 0);
  return { objects: planned, skips: b.skips, collisions: b.collisions, otherFilesystems: [...b.other.values()], toLink, projectedBytesSaved: freed - taken };
}
