/**
 * Before reading anything: what the ledger already knows about each candidate.
 * A pyc that still is its store object (same inode for a hard link, same
 * fingerprint for a reflink) is "shared"; a pyc skipped before whose file and
 * source are unchanged keeps its reason. Neither is read again, so a rescan of
 * an unchanged tree reads 0 bytes.
 */
import { lstatSync } from 'node:fs';
import { fingerprintOf, sameFingerprint, sameInode, type Fingerprint } from '../fs/fingerprint.js';
import { recordedFingerprint, type Ledger, type ObjectRow } from '../ledger/ledger.js';
import type { Candidate } from '../python/scan.js';
import { sourceFingerprint } from './types.js';

export type Classified =
  | { readonly state: 'shared'; readonly cand: Candidate; readonly fp: Fingerprint; readonly object: ObjectRow; readonly adopt: boolean }
  | { readonly state: 'known-skip'; readonly cand: Candidate; readonly reason: string }
  | { readonly state: 'read'; readonly cand: Candidate }
  | { readonly state: 'gone'; readonly cand: Candidate };

export function classify(cand: Candidate, ledger: Ledger | undefined): Classified {
  let fp: Fingerprint;
  try {
    fp = fingerprintOf(lstatSync(cand.path, { bigint: true }));
  } catch {
    return { state: 'gone', cand };
  }
  if (!ledger) return { state: 'read', cand };
  const link = ledger.link(cand.path);
  if (link) {
    const object = ledger.objectById(link.object_id);
    if (object) {
      if (link.kind === 'hardlink' && sameInode(fp, object) && fp.size === object.size) {
        return { state: 'shared', cand, fp, object, adopt: false };
      }
      if (link.kind === 'reflink' && sameFingerprint(fp, recordedFingerprint(link))) {
        return { state: 'shared', cand, fp, object, adopt: false };
      }
    }
    return { state: 'read', cand }; // replaced since (e.g. CPython recompiled it)
  }
  const byInode = ledger.objectByInode(fp.dev, fp.ino);
  if (byInode && byInode.size === fp.size) return { state: 'shared', cand, fp, object: byInode, adopt: true };
  const seen = ledger.seen(cand.path);
  if (seen && sameFingerprint(fp, recordedFingerprint(seen)) && seen.source_fp === sourceFingerprint(cand.sourceStat)) {
    return { state: 'known-skip', cand, reason: seen.outcome };
  }
  return { state: 'read', cand };
}
