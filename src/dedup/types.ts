/**
 * The shapes dedup passes between its steps:
 *
 *   collect (collect.ts)   roots → candidates (the scanner, python/scan.ts)
 *   classify (classify.ts) one candidate → shared / known skip / to read            (ledger reads, one lstat)
 *   analyze (analyze.ts,   one candidate → FileFacts or a skip                       (reads the file; pure work)
 *            fill.ts)
 *   plan (plan.ts)         one code group of FileFacts → planned objects and skips   (pure)
 *   apply (objects.ts,     one planned object → it exists; then its files linked    (store, venv files, ledger)
 *          link.ts)
 *   record (record.ts)     what the run learnt → the ledger
 *
 * Every step takes one item (a file, a group, an object) and returns a typed result, so a driver
 * can run them in bulk (run.ts) or stream them.
 */
import type { Fingerprint } from '../fs/fingerprint.js';
import type { Variant } from '../canonical/types.js';
import type { PycHeader } from '../pyc/header.js';
import type { Candidate } from '../python/scan.js';

/** What reading one pyc established. */
export interface FileFacts {
  readonly cand: Candidate;
  readonly fp: Fingerprint;
  readonly nlink: number;
  readonly uid: number;
  readonly allocated: number;
  readonly sourceFp: string;
  readonly header: PycHeader;
  readonly variants: readonly Variant[];
  /** Its body came from recompiling the source (the pyc itself couldn't be canonicalized). */
  readonly recompiled?: boolean;
  /** `_imp.source_hash` of the source (hex), when the source was read: the apply step needs no second read. */
  readonly sourceHash?: string | undefined;
  /** xxh64-size of the source bytes, when they were read (for the ledger's compilations table). */
  readonly sourceKey?: string | undefined;
  /** A pyc `--fill` creates (or puts in place of a stale one); its bytes come from the transform, not the file. */
  readonly fill?: { readonly stale: boolean };
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
  | 'link-error';

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

/** What applying (part of) a plan did; tallies of several objects add up (addTally). */
export interface ApplyTally {
  /** Files replaced by a link. */
  linked: number;
  /** Pycs created (or put in place of stale ones) by --fill. */
  filled: number;
  bytesSaved: number;
  bytesRead: number;
  objectsCreated: number;
  replicasCreated: number;
  readonly skips: PlannedSkip[];
  readonly failures: Failure[];
}

export function emptyTally(): ApplyTally {
  return { linked: 0, filled: 0, bytesSaved: 0, bytesRead: 0, objectsCreated: 0, replicasCreated: 0, skips: [], failures: [] };
}

/** Add `b` into `a`. */
export function addTally(a: ApplyTally, b: ApplyTally): void {
  a.linked += b.linked;
  a.filled += b.filled;
  a.bytesSaved += b.bytesSaved;
  a.bytesRead += b.bytesRead;
  a.objectsCreated += b.objectsCreated;
  a.replicasCreated += b.replicasCreated;
  a.skips.push(...b.skips);
  a.failures.push(...b.failures);
}
