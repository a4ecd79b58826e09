/**
 * The step between a fresh pyc and the object it is stored as, as types: a
 * Transform turns a pyc's bytes into the objects it can become (its variants,
 * one per header it may carry). Two transforms exist: `rawTransform` (objects
 * are the pycs byte for byte, `--byte-identical`) and the canonical one
 * (canonical/transform.ts). Pure over bytes: no file access.
 */
import type { ObjectKey } from '../hash/key.js';
import type { Invalidation, PycHeader } from '../pyc/header.js';

/** Which header an object built from a pyc carries. 'as-is' keeps the file's own. */
export type HeaderChoice = 'as-is' | Invalidation;

/** The header policy (`--invalidation`): a fixed kind, or auto (see dedup/policy.ts). */
export type InvalidationPolicy = 'auto' | Invalidation;

/** One object a pyc can be stored as (its bytes are rebuilt on demand, never kept). */
export interface Variant {
  readonly choice: HeaderChoice;
  readonly key: ObjectKey;
  readonly invalidation: Invalidation;
  /** xxh64 of the marshal body the object carries (canonical or raw). */
  readonly bodyHash: string;
  /** Timestamp objects: the source (mtime s, size) the header names. */
  readonly stamp?: string | undefined;
}

/** What a transform needs to know of the pyc file besides its bytes (python/scan.ts's Candidate is one). */
export interface TransformSubject {
  /** The pyc's path, for messages. */
  readonly path: string;
  readonly name: { readonly optimization: number };
  /** stat of its source: a timestamp header names its mtime (whole seconds) and size. */
  readonly sourceStat: { readonly mtimeNs: bigint; readonly size: bigint };
}

export interface TransformInput {
  readonly bytes: Uint8Array;
  readonly header: PycHeader;
  readonly cand: TransformSubject;
  /** Source bytes, when `needsSource` asked for them (always given for hash pycs). */
  readonly source?: Uint8Array | undefined;
  /** The canonical co_filename: the source path relative to its import root. */
  readonly relName?: string | undefined;
  /** `_imp.source_hash` of the source for this version (16 hex digits), when already computed. */
  readonly sourceHash?: string | undefined;
  /**
   * What `prepare` returned for these very bytes (e.g. the checked canonical body): when given,
   * `variants` and `materialize` use it and need neither `bytes` nor any parsing.
   */
  readonly prepared?: Uint8Array | undefined;
}

export interface Transform {
  readonly name: string;
  /** The store address of an object's bytes (xxh64 + size; a test seam can force collisions). */
  address(bytes: Uint8Array): ObjectKey;
  /** Does this transform need the source bytes of a pyc with this header? */
  needsSource(header: PycHeader): boolean;
  /**
   * The transform's work on these bytes, checked (for canonical: the canonical body, validated against
   * the original). Throws PycstoreError (ECANON/EMARSHAL) to refuse the pyc. dedup keeps it between
   * planning and linking, for files that stay unchanged.
   */
  prepare(input: TransformInput): Uint8Array;
  /** The objects this pyc can become (given `prepared`, or preparing it). */
  variants(input: TransformInput): Variant[];
  /** Rebuild the bytes of the chosen variant. */
  materialize(input: TransformInput, choice: HeaderChoice): Uint8Array;
}
