/**
 * Final magic numbers of CPython 3.8–3.15 and what each implies.
 *
 * Only final (release) magics are accepted: the code-object layout changed
 * inside pre-release ranges, so a pre-release pyc is refused rather than
 * misread. Sources: Include/internal/pycore_magic_number.h and
 * Lib/importlib/_bootstrap_external.py of each version (see
 * ../shared/research/pyc-internals.md §1.2). 3.15's final magic is checked
 * against the real interpreter (scripts/fetch-debian-pythons.sh).
 */

export type SipRounds = '2-4' | '1-3';

/** Code-object field layout in the marshal stream (changes at 3.8, 3.10, 3.11). */
export type CodeLayout = '3.8' | '3.10' | '3.11';

export interface PyVersionInfo {
  /** e.g. "3.11" */
  readonly version: string;
  readonly minor: number;
  /** The 16-bit magic number (the first two header bytes, little-endian). */
  readonly magic: number;
  /** `sys.implementation.cache_tag`, e.g. "cpython-311". */
  readonly cacheTag: string;
  /** Marshal format version the interpreter writes. */
  readonly marshalVersion: number;
  readonly codeLayout: CodeLayout;
  /** SipHash variant of `_imp.source_hash`. */
  readonly sipRounds: SipRounds;
}

function v(minor: number, magic: number, marshalVersion: number, codeLayout: CodeLayout): PyVersionInfo {
  return {
    version: `3.${minor}`,
    minor,
    magic,
    cacheTag: `cpython-3${minor}`,
    marshalVersion,
    codeLayout,
    sipRounds: minor >= 11 ? '1-3' : '2-4',
  };
}

export const PY_VERSIONS: readonly PyVersionInfo[] = [
  v(8, 3413, 4, '3.8'),
  v(9, 3425, 4, '3.8'),
  v(10, 3439, 4, '3.10'),
  v(11, 3495, 4, '3.11'),
  v(12, 3531, 4, '3.11'),
  v(13, 3571, 4, '3.11'),
  v(14, 3627, 5, '3.11'),
  v(15, 3666, 6, '3.11'), // 3.15.2 final (Debian 3.15.2-1): magic, marshal 6 and layout checked on the interpreter
];

const BY_MAGIC = new Map(PY_VERSIONS.map((info) => [info.magic, info]));
const BY_TAG = new Map(PY_VERSIONS.map((info) => [info.cacheTag, info]));

/** The 4 magic bytes as they appear on disk. */
export function magicBytes(info: PyVersionInfo): Uint8Array {
  return Uint8Array.of(info.magic & 0xff, info.magic >> 8, 0x0d, 0x0a);
}

/** Version info for a 16-bit magic number, or undefined when not a final 3.8–3.15 magic. */
export function versionForMagic(magic: number): PyVersionInfo | undefined {
  return BY_MAGIC.get(magic);
}

/** Version info for a cache tag such as "cpython-311", or undefined. */
export function versionForCacheTag(tag: string): PyVersionInfo | undefined {
  return BY_TAG.get(tag);
}
