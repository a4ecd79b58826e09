/**
 * The identity of one compilation of a source, pure: what a canonical body
 * compiled from source is remembered under (in a run's compile cache and in the
 * ledger's `sources` table).
 */
import { xxh64Hex } from '../hash/xxhash.js';

/** A source's identity for compilations: xxh64 of its bytes, "-", its length. */
export function sourceKeyOf(source: Uint8Array): string {
  return `${xxh64Hex(source)}-${source.length}`;
}

/** Identifies one compilation: (magic, optimization level, relative path, source content). */
export function compileKey(magic: number, optimization: number, relName: string, sourceKey: string): string {
  return `${magic}:${optimization}:${relName}:${sourceKey}`;
}
