/**
 * The shapes dedup passes between its phases: scan → analyze → plan → apply.
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
  | 'no-interpreter' // needed a recompile, but no interpreter with that magic is here
  | 'compile-error' // the interpreter could not compile the source
  | 'collision' // same address, different bytes
  | 'no-reflink'
  | 'link-error';

export function sourceFingerprint(st: { ino: bigint; size: bigint; mtimeNs: bigint; ctimeNs: bigint }): string {
  return `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}
