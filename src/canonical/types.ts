/**
 * The step between a fresh pyc and the object it is stored as. The foundation
 * stores pycs byte for byte (`rawTransform`); canonical bytecode plugs in here
 * as another Transform. Pure over bytes: no file access.
 */
import { xxh64Hex } from '../hash/xxhash.js';
import { HEADER_SIZE, type PycHeader } from '../pyc/header.js';
import type { ObjectKey } from '../hash/key.js';
import type { Candidate } from '../python/scan.js';
import type { HeaderChoice, Variant } from '../dedup/types.js';

export interface TransformInput {
  readonly bytes: Uint8Array;
  readonly header: PycHeader;
  readonly cand: Candidate;
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

/** Objects are the pyc files themselves, byte for byte. */
export function contentAddress(bytes: Uint8Array): ObjectKey {
  return { hash: xxh64Hex(bytes), size: bytes.length };
}

export const rawTransform: Transform = {
  name: 'raw',
  address: contentAddress,
  needsSource: () => false,
  prepare({ bytes }) {
    return bytes;
  },
  variants({ bytes, prepared, header }) {
    const b = prepared ?? bytes;
    return [
      {
        choice: 'as-is',
        key: this.address(b),
        invalidation: header.invalidation,
        bodyHash: xxh64Hex(b.subarray(HEADER_SIZE)),
      },
    ];
  },
  materialize({ bytes, prepared }) {
    return prepared ?? bytes;
  },
};
