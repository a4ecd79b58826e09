/**
 * gc's plan, pure: from the ledger's rows and what was observed on disk (after
 * the store lock was taken), decide what is live and what is garbage. Nothing
 * here touches the disk or the ledger; `apply.ts` carries the plan out and
 * `--dry-run` prints it.
 *
 * Liveness comes from the ledger's links re-checked on disk, never from link
 * counts (reflinks don't raise st_nlink; Windows reports 1 for files Node
 * can't open):
 * - a hard link is live while its path is the object's inode (same dev + ino);
 * - a reflink is live while its path has the fingerprint recorded when it was
 *   made, or, where that moved, the object's content byte for byte.
 * Anything that can't be checked (permission denied, a store root on a
 * filesystem that isn't mounted) counts as live: gc only deletes what it has
 * proved unused. Unused objects younger than the grace period stay, so a run
 * that just made them (or crashed before recording its links) can't lose them.
 */
import { sameFingerprint, sameInode, type Fingerprint } from '../fs/fingerprint.js';
import type { FileState } from '../fs/stat.js';
import { recordedFingerprint, type LinkRow, type ObjectRow, type RootRow } from '../ledger/rows.js';

export interface ObservedObject {
  readonly row: ObjectRow;
  readonly path: string;
  /** false when its store root isn't reachable (not mounted, another filesystem mounted there). */
  readonly reachable: boolean;
  readonly file: FileState;
}

export interface ObservedLink {
  readonly row: LinkRow;
  readonly path: string;
  readonly file: FileState;
  /** Reflinks whose fingerprint moved: is the content still the object's? (undefined: not compared, or unreadable) */
  readonly contentEqual?: boolean | undefined;
}

export interface ObservedRoot {
  readonly row: RootRow;
  /** true: the folder is gone (ENOENT/ENOTDIR); false: there, or not checkable. */
  readonly gone: boolean;
}

export interface ObservedSeen {
  readonly id: number;
  readonly path: string;
  readonly gone: boolean;
}

/** A file in a store root the ledger has no row for. */
export interface ObservedStray {
  readonly path: string;
  readonly kind: 'unknown-object' | 'temp';
  readonly file: Extract<FileState, { kind: 'present' }>;
}

export interface GcInput {
  readonly now: number;
  readonly graceMs: number;
  readonly objects: readonly ObservedObject[];
  readonly links: readonly ObservedLink[];
  readonly roots: readonly ObservedRoot[];
  readonly seen: readonly ObservedSeen[];
  readonly strays: readonly ObservedStray[];
}

export type DropReason =
  | 'gone' // the path no longer exists
  | 'replaced' // another file is there now (CPython recompiled it, the user copied over it, ...)
  | 'changed' // a reflink whose content is no longer the object's
  | 'object-missing'; // the object file itself is gone

export interface LinkDrop {
  readonly row: LinkRow;
  readonly path: string;
  readonly reason: DropReason;
}

export interface Garbage {
  readonly row: ObjectRow;
  readonly path: string;
  readonly fp: Fingerprint;
  readonly allocated: number;
  /** Space actually returned: the allocated bytes when this is the inode's last name, else 0. */
  readonly freed: number;
}

export interface StrayDelete {
  readonly path: string;
  readonly kind: ObservedStray['kind'];
  readonly mtimeMs: number;
  readonly fp: Fingerprint;
  readonly freed: number;
}

export interface GcPlan {
  /** Objects with at least one live (or uncheckable) link. */
  readonly live: ObjectRow[];
  /** Unused objects past the grace period: to delete. */
  readonly garbage: Garbage[];
  /** Unused objects still within the grace period: kept this time. */
  readonly inGrace: ObjectRow[];
  /** Object rows whose file is gone: to drop (after their links). */
  readonly missing: ObjectRow[];
  /** Objects not looked at: their store root isn't reachable, or their file couldn't be stat-ed. */
  readonly unverifiedObjects: ObjectRow[];
  readonly dropLinks: LinkDrop[];
  /** Reflinks still equal to their object whose fingerprint moved: record the new one. */
  readonly refreshLinks: { readonly linkId: number; readonly fp: Fingerprint }[];
  /** Links that couldn't be checked, kept (with why). */
  readonly unverifiedLinks: { readonly path: string; readonly why: string }[];
  readonly dropRoots: RootRow[];
  readonly dropSeen: number[];
  /** Unknown object files and temp files past the grace period. */
  readonly strays: StrayDelete[];
  straysInGrace: number;
}

type LinkVerdict =
  | { readonly live: true; readonly refresh?: Fingerprint }
  | { readonly live: false; readonly reason: DropReason }
  | { readonly unverified: string };

/** Is this link still a name (hard link) or a copy (reflink) of its object? */
export function judgeLink(link: ObservedLink, object: ObservedObject | undefined): LinkVerdict {
  if (!object) return { live: false, reason: 'object-missing' }; // cannot happen with foreign keys on
  if (!object.reachable) return { unverified: `its store object is in an unreachable store root (${object.path})` };
  // The object file is gone (a gc killed mid-delete, or removed by hand): the row means nothing any more,
  // whatever the path holds (a hard-linked venv file keeps its content).
  if (object.file.kind === 'missing') return { live: false, reason: 'object-missing' };
  if (object.file.kind === 'error') return { unverified: `cannot stat its store object ${object.path} (${object.file.errno})` };
  if (link.file.kind === 'missing') return { live: false, reason: 'gone' };
  if (link.file.kind === 'error') return { unverified: `cannot stat it (${link.file.errno})` };
  if (!link.file.isFile) return { live: false, reason: 'replaced' };
  const fp = link.file.fp;
  if (link.row.kind === 'hardlink') return sameInode(fp, object.file.fp) ? { live: true } : { live: false, reason: 'replaced' };
  if (sameFingerprint(fp, recordedFingerprint(link.row))) return { live: true };
  if (link.contentEqual === true) return { live: true, refresh: fp };
  if (link.contentEqual === false) return { live: false, reason: sameInode(fp, link.row) ? 'changed' : 'replaced' };
  return { unverified: 'its content could not be compared with its store object' };
}

export function planGc(input: GcInput): GcPlan {
  const plan: GcPlan = {
    live: [],
    garbage: [],
    inGrace: [],
    missing: [],
    unverifiedObjects: [],
    dropLinks: [],
    refreshLinks: [],
    unverifiedLinks: [],
    dropRoots: [],
    dropSeen: [],
    strays: [],
    straysInGrace: 0,
  };
  const objects = new Map(input.objects.map((o) => [o.row.id, o]));
  const inUse = new Set<number>(); // ids of objects with a live (or uncheckable) link

  for (const link of input.links) {
    const object = objects.get(link.row.object_id);
    const v = judgeLink(link, object);
    if ('unverified' in v) {
      plan.unverifiedLinks.push({ path: link.path, why: v.unverified });
      inUse.add(link.row.object_id);
    } else if (v.live) {
      inUse.add(link.row.object_id);
      if (v.refresh) plan.refreshLinks.push({ linkId: link.row.id, fp: v.refresh });
    } else {
      plan.dropLinks.push({ row: link.row, path: link.path, reason: v.reason });
    }
  }

  for (const o of input.objects) {
    if (!o.reachable || o.file.kind === 'error') {
      plan.unverifiedObjects.push(o.row);
      continue;
    }
    if (o.file.kind === 'missing') {
      // Every link to it was dropped above ('object-missing'), so the row can go.
      plan.missing.push(o.row);
      continue;
    }
    if (inUse.has(o.row.id)) {
      plan.live.push(o.row);
      continue;
    }
    if (!o.file.isFile) {
      // Not something pycstore wrote; verify reports it. Never deleted by gc.
      plan.unverifiedObjects.push(o.row);
      continue;
    }
    const lastUsed = Math.max(o.row.used_at, o.row.created_at);
    if (input.now - lastUsed < input.graceMs) {
      plan.inGrace.push(o.row);
      continue;
    }
    plan.garbage.push({
      row: o.row,
      path: o.path,
      fp: o.file.fp,
      allocated: o.file.allocated,
      freed: o.file.nlink <= 1 ? o.file.allocated : 0,
    });
  }

  for (const r of input.roots) if (r.gone) plan.dropRoots.push(r.row);
  for (const s of input.seen) if (s.gone) plan.dropSeen.push(s.id);

  for (const s of input.strays) {
    // Like git's prune: a file's age is its mtime (a writer creates it and never touches it again).
    if (input.now - s.file.mtimeMs < input.graceMs) {
      plan.straysInGrace++;
      continue;
    }
    plan.strays.push({ path: s.path, kind: s.kind, mtimeMs: s.file.mtimeMs, fp: s.file.fp, freed: s.file.nlink <= 1 ? s.file.allocated : 0 });
  }
  return plan;
}
