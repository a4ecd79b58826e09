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
 *
 * A pyc whose inode has names outside this run (fs/linked-elsewhere.ts) is
 * left alone: `linked-elsewhere`. Whether it has can only be told once the
 * whole run is scanned (the other names may be in a later folder), so a pyc
 * with more than one link that is no store object comes out `multi`: the
 * caller decides at the end of the scan (`settleMulti`).
 */
import { statSync } from 'node:fs';
import { sameFingerprint, type Fingerprint } from '../fs/fingerprint.js';
import { linkedElsewhere } from '../fs/linked-elsewhere.js';
import type { Ledger } from '../ledger/ledger.js';
import { recordedFingerprint, type DirLinkRow, type SeenRow } from '../ledger/rows.js';
import type { FoundPyc, PycDir } from '../python/scan.js';
import { sourceFingerprint } from './types.js';

export type Classified =
  | { readonly state: 'shared'; readonly objectId: number; readonly adopt: boolean }
  | { readonly state: 'known-skip'; readonly reason: string; readonly multi?: boolean }
  | { readonly state: 'read'; readonly multi?: boolean; readonly moved?: boolean }
  | { readonly state: 'gone' };

/** What classify looks things up in. */
export interface ClassifyContext {
  readonly ledger: Ledger;
  /** Every object's inode ("dev:ino") → id and size (Ledger.objectInodes). */
  readonly inodes: ReadonlyMap<string, { readonly id: number; readonly size: number }>;
  /**
   * Objects whose files are read again although still linked, to move to another header: with auto, the
   * timestamp objects whose code the store also holds under another header; with an explicit
   * --invalidation X, every object whose header is not X.
   */
  readonly moves: (objectId: number) => boolean;
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
  if (link && stillLinked(fp, link)) return ctx.moves(link.object_id) ? { state: 'read', moved: true } : { state: 'shared', objectId: link.object_id, adopt: false };
  const byInode = ctx.inodes.get(`${fp.dev}:${fp.ino}`);
  if (!link && byInode && byInode.size === fp.size) return { state: 'shared', objectId: byInode.id, adopt: true };
  // Other names, and not a store object: linked elsewhere, unless they all are in this run (settleMulti).
  const multi = byInode === undefined && pyc.stat.nlink > 1;
  if (link) return { state: 'read', multi }; // replaced since (e.g. CPython recompiled it)
  const s = seen().get(name);
  if (s && sameFingerprint(fp, recordedFingerprint(s)) && s.source_fp === sourceFpNow(pyc.source)) return { state: 'known-skip', reason: s.outcome, multi };
  return { state: 'read', multi };
}

/** Without a ledger: every pyc is read (a multi-link one once settled), or gone. */
export function classifyWithoutLedger(d: PycDir): Classified[] {
  return d.pycs.map((p) => (p.stat ? { state: 'read', multi: p.stat.nlink > 1 } : { state: 'gone' }));
}

/** The inode ("dev:ino") of a pyc with more than one link, for counting its names in the run. */
export function multiLinkInode(pyc: FoundPyc): string | undefined {
  return pyc.stat && pyc.stat.nlink > 1 ? `${pyc.stat.fp.dev}:${pyc.stat.fp.ino}` : undefined;
}

/** At the end of the scan: a `multi` pyc is linked elsewhere when its inode has names the run didn't see. */
export function settleMulti(pyc: FoundPyc, c: Extract<Classified, { state: 'read' | 'known-skip' }>, names: ReadonlyMap<string, number>): Classified {
  const inode = multiLinkInode(pyc);
  const namesInRun = (inode !== undefined && names.get(inode)) || 1;
  if (linkedElsewhere({ nlink: pyc.stat!.nlink, namesInRun, isStoreObject: false })) return { state: 'known-skip', reason: 'linked-elsewhere' };
  return c.state === 'read' ? { state: 'read' } : { state: 'known-skip', reason: c.reason };
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
