/**
 * Is this file a store object right now? The rule dedup uses to call a file
 * "already shared" (src/dedup/classify.ts), from a stat the caller already has:
 *
 * - its ledger link is a hard link and the file has the object's (dev, ino)
 *   and size, or a reflink and the file's fingerprint is the one recorded
 *   right after the swap;
 * - otherwise, its inode is some object's (a hard link made outside pycstore,
 *   e.g. `cp -al` of a deduplicated venv, which dedup adopts).
 *
 * A file with a ledger link that is neither has been replaced since (CPython
 * recompiled it, or something else wrote it).
 */
import { sameFingerprint, sameInode, type Fingerprint } from '../fs/fingerprint.js';
import type { LinkKind } from '../fs/link.js';
import type { Ledger } from '../ledger/ledger.js';
import { recordedFingerprint, type LinkRow, type ObjectRow } from '../ledger/rows.js';

export type LinkState =
  | { readonly linked: true; readonly kind: LinkKind; readonly object: ObjectRow; /** Its ledger row (absent when found by inode alone). */ readonly link?: LinkRow }
  | { readonly linked: false; readonly link: LinkRow | undefined };

export function stillLinked(link: LinkRow, object: ObjectRow | undefined, fp: Fingerprint): boolean {
  if (!object) return false;
  if (link.kind === 'hardlink') return sameInode(fp, object) && fp.size === object.size;
  return sameFingerprint(fp, recordedFingerprint(link));
}

export function linkState(filePath: string, fp: Fingerprint, ledger: Ledger | undefined): LinkState {
  if (!ledger) return { linked: false, link: undefined };
  const link = ledger.link(filePath);
  if (link) {
    const object = ledger.objectById(link.object_id);
    if (object && stillLinked(link, object, fp)) return { linked: true, kind: link.kind, object, link };
  }
  const byInode = ledger.objectByInode(fp.dev, fp.ino);
  if (byInode && byInode.size === fp.size) return { linked: true, kind: 'hardlink', object: byInode };
  return { linked: false, link };
}
