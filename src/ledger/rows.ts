/** The ledger's rows as TypeScript sees them (schema: migrations.ts, STORE_FORMAT.md). */
import type { Fingerprint } from '../fs/fingerprint.js';
import type { LinkKind } from '../fs/link.js';
import type { ObjectKey } from '../hash/key.js';

export interface ObjectRow {
  readonly id: number;
  readonly hash: string;
  readonly size: number;
  readonly replica: number;
  readonly root_id: number;
  readonly dev: string;
  readonly ino: string;
  readonly mtime_ns: string;
  readonly ctime_ns: string;
  readonly allocated: number;
  readonly magic: number | null;
  readonly invalidation: string | null;
  readonly body_hash: string | null;
  readonly created_at: number;
  readonly used_at: number;
}

export interface LinkRow {
  readonly id: number;
  readonly dir_id: number;
  readonly name: string;
  readonly object_id: number;
  readonly root_id: number | null;
  readonly kind: LinkKind;
  readonly dev: string;
  readonly ino: string;
  readonly size: number;
  readonly mtime_ns: string;
  readonly ctime_ns: string;
  readonly linked_at: number;
  /** Allocated bytes replacing the file gave back; null: not known (counted as the object's allocation). */
  readonly freed: number | null;
  /** The header kind the file had when first linked (unshare gives it back); null: not known. */
  readonly header: string | null;
}

/** A link row as a rescan of its folder reads it: the file's recorded fingerprint and its object's inode. */
export interface DirLinkRow extends Pick<LinkRow, 'name' | 'object_id' | 'kind' | 'dev' | 'ino' | 'size' | 'mtime_ns' | 'ctime_ns'> {
  readonly object_dev: string;
  readonly object_ino: string;
  readonly object_size: number;
  readonly object_invalidation: string | null;
}

export interface SeenRow {
  readonly dev: string;
  readonly ino: string;
  readonly size: number;
  readonly mtime_ns: string;
  readonly ctime_ns: string;
  readonly source_fp: string | null;
  readonly outcome: string;
}

/** A seen row's identity and path, for gc's sweep. */
export interface SeenPathRow {
  readonly id: number;
  readonly dir_id: number;
  readonly name: string;
}

export interface StoreRootRow {
  readonly id: number;
  readonly path: string;
  readonly dev: string;
}

export interface RootRow {
  readonly id: number;
  readonly dir_id: number;
  readonly path: string;
  readonly pycache_prefix: string | null;
  readonly added_at: number;
  readonly scanned_at: number | null;
}

export interface NewObject {
  readonly key: ObjectKey;
  readonly replica: number;
  readonly rootId: number;
  readonly fp: Fingerprint;
  readonly allocated: number;
  readonly magic?: number | undefined;
  readonly invalidation?: string | undefined;
  readonly bodyHash?: string | undefined;
}

/** What the ledger holds and saves, for `status`. */
export interface LedgerSummary {
  readonly objects: number;
  readonly objectBytes: number;
  readonly objectAllocatedBytes: number;
  readonly links: number;
  /** Σ over objects of (links − 1) × allocated. */
  readonly bytesSaved: number;
}

export interface RunRow {
  readonly command: string;
  readonly started_at: number;
  readonly finished_at: number | null;
  readonly exit_code: number | null;
}

/** The (dev, ino, size, mtime_ns, ctime_ns) a row recorded: a link's right after the swap, an object's as last verified, a seen file's. */
export function recordedFingerprint(row: {
  readonly dev: string;
  readonly ino: string;
  readonly size: number;
  readonly mtime_ns: string;
  readonly ctime_ns: string;
}): Fingerprint {
  return { dev: row.dev, ino: row.ino, size: row.size, mtimeNs: row.mtime_ns, ctimeNs: row.ctime_ns };
}
