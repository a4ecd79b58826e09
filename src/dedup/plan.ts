/**
 * The dedup plan, pure: given what was read, which object each pyc becomes,
 * which objects must be written, what is skipped and why, and what it will
 * save. `--dry-run` prints this and stops; `apply` carries it out.
 */
import { keyString, type ObjectKey } from '../hash/key.js';
import type { Variant } from '../canonical/types.js';
import type { FileFacts, SkipReason } from './types.js';

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

export interface PlannedSkip {
  readonly path: string;
  readonly reason: SkipReason;
  readonly detail?: string | undefined;
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

export interface PlanInput {
  readonly facts: readonly FileFacts[];
  /** The variant each file becomes (same order as facts); from the header policy. */
  readonly chosen: readonly Variant[];
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

export function makePlan(input: PlanInput): Plan {
  const byDev = new Map(input.storeRoots.map((r) => [r.dev, r]));
  const objects = new Map<string, PlannedObject>();
  const skips: PlannedSkip[] = [];
  const other = new Map<string, OtherFilesystem>();
  // How many names of each inode this plan replaces: an inode's blocks are freed only when all its names are.
  const namesReplaced = new Map<string, { nlink: number; replaced: number; allocated: number }>();

  input.facts.forEach((facts, i) => {
    const variant = input.chosen[i]!;
    const root = byDev.get(facts.fp.dev);
    if (!root) {
      const o = other.get(facts.fp.dev) ?? { dev: facts.fp.dev, files: 0, bytes: 0, example: facts.cand.path };
      o.files++;
      o.bytes += facts.allocated;
      other.set(facts.fp.dev, o);
      skips.push({ path: facts.cand.path, reason: 'other-filesystem' });
      return;
    }
    if (input.storeUid !== 0 && facts.uid !== input.storeUid) {
      skips.push({
        path: facts.cand.path,
        reason: 'not-owner',
        detail: `owned by uid ${facts.uid}; the store belongs to uid ${input.storeUid}`,
      });
      return;
    }
    const id = `${root.id}:${keyString(variant.key)}`;
    let obj = objects.get(id);
    if (!obj) {
      obj = {
        key: variant.key,
        root,
        existing: input.objectExists(variant.key, root.id),
        variant: { choice: variant.choice, key: variant.key, invalidation: variant.invalidation, bodyHash: variant.bodyHash },
        magic: facts.header.version.magic,
        links: [],
      };
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
  let taken = 0;
  let toLink = 0;
  for (const o of objects.values()) {
    toLink += o.links.length;
    if (!o.existing) taken += projectedAllocation(o.key.size);
  }
  return {
    objects: [...objects.values()],
    skips,
    otherFilesystems: [...other.values()],
    toLink,
    projectedBytesSaved: freed - taken,
  };
}
