/**
 * Step 2, classify: before reading anything, what the ledger already knows
 * about each pyc of one folder. A pyc that still is its store object (same
 * inode for a hard link, same fingerprint for a reflink) is "shared"; a pyc
 * skipped before whose file and source are unchanged keeps its reason. Neither
 * is read again, so a rescan of an unchanged tree reads 0 bytes.
 *
 * The ledger is asked once per folder (its links, with their objects' inodes;
 * its seen rows only when a file needs them), inside the caller's read
 * transaction; files hard-linked to an object outside pycstore are recognised
 * by an index of the objects' inodes loaded once per run.
 */
import { statSync } from 'node:fs';
import { sameFingerprint, type Fingerprint } from '../fs/fingerprint.js';
import type { Ledger } from '../ledger/ledger.js';
import { recordedFingerprint, type DirLinkRow, type SeenRow } from '../ledger/rows.js';
import type { FoundPyc, PycDir } from '../python/scan.js';
import { sourceFingerprint } from './types.js';

export type Classified =
  | { readonly state: 'shared'; readonly objectId: number; readonly adopt: boolean }
  | { readonly state: 'known-skip'; readonly reason: string }
  | { readonly state: 'read' }
  | { readonly state: 'gone' };

/** What classify looks things up in. */
export interface ClassifyContext {
  readonly ledger: Ledger;
  /** Every object's inode ("dev:ino") → id and size (Ledger.objectInodes). */
  readonly inodes: ReadonlyMap<string, { readonly id: number; readonly size: number }>;
  /** Objects whose files are read again although still linked (timestamp objects whose code the store also holds under another header). */
  readonly moving: ReadonlySet<number>;
}

/** Is the file still the link the ledger recorded? */
function stillLinked(fp: Fingerprint, link: DirLinkRow): boolean {
  if (link.kind === 'hardlink') return fp.dev === link.object_dev && fp.ino === link.object_ino && fp.size === link.object_size;
  return sameFingerprint(fp, recordedFingerprint(link));
}

function sourceFpNow(source: string): string | undefined {
  try {
    return sourceFingerprint(statSync(source, { bigint: true }));
  } catch {
    return undefined;
  }
}

function classifyOne(pyc: FoundPyc, links: ReadonlyMap<string, DirLinkRow>, seen: () => ReadonlyMap<string, SeenRow>, ctx: ClassifyContext): Classified {
  if (!pyc.stat) return { state: 'gone' };
  const { fp } = pyc.stat;
  const name = pycName(pyc);
  const link = links.get(name);
  if (link) {
    if (!stillLinked(fp, link)) return { state: 'read' }; // replaced since (e.g. CPython recompiled it)
    return ctx.moving.has(link.object_id) ? { state: 'read' } : { state: 'shared', objectId: link.object_id, adopt: false };
  }
  const byInode = ctx.inodes.get(`${fp.dev}:${fp.ino}`);
  if (byInode && byInode.size === fp.size) return { state: 'shared', objectId: byInode.id, adopt: true };
  const s = seen().get(name);
  if (s && sameFingerprint(fp, recordedFingerprint(s)) && s.source_fp === sourceFpNow(pyc.source)) return { state: 'known-skip', reason: s.outcome };
  return { state: 'read' };
}

function pycName(pyc: FoundPyc): string {
  const cut = Math.max(pyc.path.lastIndexOf('/'), pyc.path.lastIndexOf('\\'));
  return pyc.path.slice(cut + 1);
}

/** Classify the pycs of one folder (one ledger query for its links; one for its seen rows, if needed). Call inside Ledger.reading. */
export function classifyDir(d: PycDir, ctx: ClassifyContext): Classified[] {
  const links = ctx.ledger.linksIn(d.dir);
  let seen: ReadonlyMap<string, SeenRow> | undefined;
  const seenRows = (): ReadonlyMap<string, SeenRow> => (seen ??= ctx.ledger.seenIn(d.dir));
  return d.pycs.map((p) => classifyOne(p, links, seenRows, ctx));
}
