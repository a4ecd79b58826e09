/**
 * The shapes dedup passes between its steps. A run streams (run.ts):
 *
 *   collect (collect.ts)   roots → each __pycache__ folder's pycs (python/scan.ts)
 *   classify (classify.ts) one folder's pycs → shared / known skip / to read        (one ledger read per folder)
 *   order (table.ts)       the files to read, kept compactly, grouped by (cache tag, relative name)
 *   analyze (analyze.ts,   one pyc → its checked body, or a skip                     (pure; read.ts reads it,
 *            read.ts,                                                                 worker threads: pool.ts)
 *            fill.ts)      (--fill: one source with no fresh pyc → a body from the store or compiled)
 *   group (group.ts)       one relative name's files, analysed → the header each gets  (policy.ts; pure)
 *   plan (plan.ts)         one group's files → planned objects and skips               (pure)
 *   apply (objects.ts,     one planned object → it exists and is durable; then its files linked
 *          link.ts)
 *   record (record.ts)     what the run learnt → the ledger, in batches as it goes
 *
 * Every copy of one piece of code has the same relative name (it is in the canonical body), so
 * once every file of a relative-name group is analysed, the header decision for each of its code
 * groups is final and the group is planned and linked at once: memory holds the groups in flight,
 * not the run.
 */
import type { SourceStamp, Variant } from '../canonical/types.js';
import type { ObjectRow } from '../ledger/rows.js';
import type { PycHeader } from '../pyc/header.js';
import type { KnownCacheName, PycStat } from '../python/scan.js';

/** A file the run handles (a pyc to read, or a --fill target), as the table hands it out. */
export interface Subject {
  /** Its row in the run's table. */
  readonly id: number;
  readonly path: string;
  readonly source: string;
  readonly name: KnownCacheName;
  readonly rootIndex: number;
  /** The canonical co_filename: the source path relative to its import root. */
  readonly relName: string;
}

/** The stat of a source as a run keeps it: its stamp, and its fingerprint (any change moves it). */
export interface SourceState {
  readonly stamp: SourceStamp;
  /** "ino:size:mtime_ns:ctime_ns". */
  readonly fp: string;
  readonly mode: number;
  readonly uid: number;
}

/** What reading one pyc (or preparing one --fill target) established. */
export interface FileFacts {
  readonly subject: Subject;
  /** Its lstat when it was read (a --fill target that doesn't exist yet: its folder's device, nlink 0). */
  readonly stat: PycStat;
  readonly source: SourceState;
  /** Its own header (a --fill target: the timestamp header CPython would write). */
  readonly header: PycHeader;
  /** Its own 16 header bytes (none for a --fill target). */
  readonly own: Uint8Array | undefined;
  /** The checked body: one instance per distinct body of a group (compared byte for byte when two files claim it). */
  readonly body: Uint8Array;
  readonly bodyHash: string;
  /** `_imp.source_hash` of the source, when it was read (set later when a hash header is chosen). */
  sourceHash: string | undefined;
  /** xxh64-size of the source bytes, when they were read (for the ledger's compilations table). */
  sourceKey: string | undefined;
  /** Its body came from recompiling the source (the pyc itself couldn't be canonicalized). */
  readonly recompiled?: boolean;
  /** A pyc `--fill` creates (or puts in place of a stale one). */
  readonly fill?: {
    readonly stale: boolean;
    source: Uint8Array | undefined;
    /** Its body as read from a store object in this run (the object's bytes, whole, in its buffer): linking to that object needs no second read. */
    readonly stored?: StoredBody | undefined;
  };
}

export type SkipReason =
  | 'stale' // not fresh for its source: CPython would recompile it
  | 'truncated'
  | 'bad-magic'
  | 'prerelease-or-unknown-magic'
  | 'bad-flags'
  | 'wrong-version' // magic doesn't match the cache tag in the name
  | 'unreadable'
  | 'changed' // changed between hashing and swapping
  | 'not-owner' // owned by another user than the store's owner
  | 'other-filesystem' // no store root on its filesystem
  | 'empty'
  | 'uncanonical' // canonical form refused, and recompiling didn't help
  | 'corrupt' // CPython could not load it either (truncated, garbage, a marshal bomb): left as it is
  | 'unsupported' // the marshal reader refused it and no interpreter of its version could judge it
  | 'code-differs' // its code is not what its source compiles to: left as it is
  | 'too-large' // above MAX_PYC_BYTES: not read at all
  | 'no-interpreter' // needed a recompile, but no interpreter with that magic is here
  | 'compile-error' // the interpreter could not compile the source
  | 'collision' // same address, different bytes
  | 'linked-elsewhere' // a hard link whose other names are outside this run (a conda package cache, a `cp -al` source)
  | 'no-reflink'
  | 'link-error'
  | 'no-space'; // the filesystem is full (the run stops)

/** "ino:size:mtime_ns:ctime_ns" of a source stat. */
export function sourceFingerprint(st: { ino: bigint; size: bigint; mtimeNs: bigint; ctimeNs: bigint }): string {
  return `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

/** A file the run did not link, and why. */
export interface PlannedSkip {
  readonly path: string;
  readonly reason: SkipReason;
  readonly detail?: string | undefined;
}

/** A file that failed (an error the user should see, with its path). */
export interface Failure {
  readonly path: string;
  readonly reason: SkipReason | 'error';
  readonly detail: string;
}

/**
 * A body from the store: a view of its object's bytes (a buffer of its own, the whole file from its
 * first byte), its header in front (objectBytes reuses them when they match).
 */
export interface StoredBody {
  readonly body: Uint8Array;
  readonly bodyHash: string;
  /** The row of the object file those bytes were read from. */
  readonly row: ObjectRow;
  /**
   * Every object of this code (magic, body) the ledger had when the body was looked up: the header
   * policy's question (group.ts), answered by the same read.
   */
  readonly objects: readonly ObjectRow[];
}

/** A file and the object it becomes. */
export interface Chosen {
  readonly facts: FileFacts;
  readonly variant: Variant;
  /** The object's bytes (header + body), one instance per distinct object of the group. */
  readonly bytes: Uint8Array;
  /** The row of the object file these very bytes were read from in this run (a --fill body from the store, under the header it has there). */
  readonly readFrom?: ObjectRow | undefined;
}

/** The distinct bodies of a group: one instance each, compared byte for byte when a file claims one. */
export type Bodies = Map<string, Uint8Array>;

/** --fill's counters. */
export interface FillSummary {
  venvs: number;
  targets: number;
  fromStore: number;
  compiled: number;
  skipped: Record<string, number>;
  unknownVersions: string[];
  problems: string[];
}

export function emptyFillSummary(): FillSummary {
  return { venvs: 0, targets: 0, fromStore: 0, compiled: 0, skipped: {}, unknownVersions: [], problems: [] };
}
