/**
 * unshare's plan, pure: for each ledger link under the given paths, from what
 * was observed on disk, decide whether the file still shares its object (give
 * it a private copy), is already a file of its own (CPython recompiled it, the
 * user replaced it: only the ledger row goes), is gone (only the row goes), or
 * can't be checked (left alone, reported).
 */
import { sameFingerprint, sameInode, type Fingerprint } from '../fs/fingerprint.js';
import type { FileState } from '../fs/stat.js';
import { recordedFingerprint, type LinkRow, type RootRow } from '../ledger/rows.js';

export interface ObservedUnshareLink {
  readonly row: LinkRow;
  readonly path: string;
  readonly file: FileState;
  /** The object's inode as the ledger recorded it, and as its store file is now (when reachable). */
  readonly objectInodes: readonly { readonly dev: string; readonly ino: string }[];
  /** Mode CPython would give this pyc if it wrote it: (source mode | 0o200) & 0o666. */
  readonly mode: number;
  /** Its source file, when it has one (the remembered header is rebuilt from it). */
  readonly source?: string | undefined;
  /** The owner its private copy gets (a hard link's: its folder's; a reflink's: its own); unknown when it couldn't be stat-ed. */
  readonly owner?: Owner | undefined;
}

export type UnshareAction =
  | {
      readonly action: 'copy';
      readonly row: LinkRow;
      readonly path: string;
      readonly fp: Fingerprint;
      readonly mode: number;
      readonly uid: number;
      readonly gid: number;
      readonly source?: string | undefined;
    }
  | { readonly action: 'drop'; readonly row: LinkRow; readonly path: string; readonly reason: 'gone' | 'private' }
  | { readonly action: 'skip'; readonly row: LinkRow; readonly path: string; readonly detail: string };

export interface UnsharePlan {
  readonly actions: UnshareAction[];
  /** Registered roots at or under a folder being unshared: forgotten, so the next `dedup` without PATH doesn't link them again. */
  readonly dropRoots: RootRow[];
  /** Registered roots above a folder being unshared: kept, but the next `dedup` without PATH would link it again. */
  readonly enclosingRoots: { readonly root: string; readonly path: string }[];
}

export interface Owner {
  readonly uid: number;
  readonly gid: number;
}

function judgeUnshare(l: ObservedUnshareLink): UnshareAction {
  const { row, path, owner } = l;
  if (l.file.kind === 'missing') return { action: 'drop', row, path, reason: 'gone' };
  if (l.file.kind === 'error') return { action: 'skip', row, path, detail: `cannot stat it (${l.file.errno})` };
  if (!l.file.isFile) return { action: 'drop', row, path, reason: 'private' };
  const fp = l.file.fp;
  const shares =
    row.kind === 'hardlink'
      ? l.objectInodes.some((o) => sameInode(o, fp))
      : // A reflink is its own inode; while untouched since linking, it shares its object's extents.
        sameFingerprint(fp, recordedFingerprint(row));
  if (!shares) return { action: 'drop', row, path, reason: 'private' };
  return { action: 'copy', row, path, fp, mode: l.mode, uid: owner?.uid ?? -1, gid: owner?.gid ?? -1, source: l.source };
}

function isAtOrUnder(p: string, dir: string, sep: string): boolean {
  return p === dir || p.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

export function planUnshare(input: {
  readonly links: readonly ObservedUnshareLink[];
  readonly roots: readonly RootRow[];
  /** Folders given (absolute); empty with `all`. */
  readonly folders: readonly string[];
  readonly all: boolean;
  readonly sep: string;
}): UnsharePlan {
  const actions = [...input.links]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map(judgeUnshare);
  const dropRoots: RootRow[] = [];
  const enclosingRoots: { root: string; path: string }[] = [];
  for (const r of input.roots) {
    if (input.all || input.folders.some((f) => isAtOrUnder(r.path, f, input.sep))) dropRoots.push(r);
    else {
      const inner = input.folders.find((f) => isAtOrUnder(f, r.path, input.sep));
      if (inner !== undefined) enclosingRoots.push({ root: r.path, path: inner });
    }
  }
  return { actions, dropRoots, enclosingRoots };
}
