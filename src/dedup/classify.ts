/**
 * Before reading anything: what the ledger already knows about each candidate.
 * A pyc that still is its store object (same inode for a hard link, same
 * fingerprint for a reflink) is "shared"; a pyc skipped before whose file and
 * source are unchanged keeps its reason. Neither is read again, so a rescan of
 * an unchanged tree reads 0 bytes.
 */
import { lstatSync } from 'node:fs';
import { fingerprintOf, sameFingerprint, sameInode, type Fingerprint } from '../fs/fingerprint.js';
import type { Ledger } from '../ledger/ledger.js';
import { recordedFingerprint, type ObjectRow } from '../ledger/rows.js';
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

/** Candidates sorted by what the ledger knows of them. */
export interface ClassifiedAll {
  /** Pycs already sharing an object (not read); by object id (the header policy may move them). */
  readonly shared: Map<number, Candidate[]>;
  readonly sharedCount: number;
  /** Hard links to an object made outside pycstore (e.g. `cp -al`): recorded without reading. */
  readonly adopt: { readonly path: string; readonly objectId: number; readonly fp: Fingerprint; readonly rootIndex: number }[];
  /** Skip reasons known from earlier runs, or 'changed' for files gone since the scan. */
  readonly skipped: string[];
  readonly toRead: Candidate[];
}

export function classifyAll(candidates: readonly Candidate[], ledger: Ledger | undefined): ClassifiedAll {
  const out: ClassifiedAll = { shared: new Map(), sharedCount: 0, adopt: [], skipped: [], toRead: [] };
  let shared = 0;
  for (const cand of candidates) {
    const c = classify(cand, ledger);
    if (c.state === 'shared') {
      shared++;
      const same = out.shared.get(c.object.id);
      if (same) same.push(cand);
      else out.shared.set(c.object.id, [cand]);
      if (c.adopt) out.adopt.push({ path: cand.path, objectId: c.object.id, fp: c.fp, rootIndex: cand.rootIndex });
    } else if (c.state === 'known-skip') out.skipped.push(c.reason);
    else if (c.state === 'gone') out.skipped.push('changed');
    else out.toRead.push(cand);
  }
  return { ...out, sharedCount: shared };
}
