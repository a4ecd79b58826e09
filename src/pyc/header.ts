/**
 * The 16-byte pyc header (PEP 552), pure functions over bytes.
 *
 *   0  magic (uint16 LE + "\r\n")
 *   4  flags (uint32 LE): bit 0 hash-based, bit 1 check_source
 *   8  timestamp pyc: source mtime (seconds, & 0xffffffff) | hash pyc: source hash bytes 0-3
 *  12  timestamp pyc: source size (& 0xffffffff)          | hash pyc: source hash bytes 4-7
 */
import { PycstoreError } from '../errors.js';
import { magicBytes, versionForMagic, type PyVersionInfo } from './magic.js';
import { siphash } from './siphash.js';

export const HEADER_SIZE = 16;

/**
 * The largest pyc pycstore reads: 64 MiB. The largest pycs in real packages are a few MiB
 * (generated tables, big vendored modules); anything above is skipped as `too-large` unread.
 */
export const MAX_PYC_BYTES = 64 * 1024 * 1024;

export type Invalidation = 'timestamp' | 'checked-hash' | 'unchecked-hash';

export interface PycHeader {
  readonly version: PyVersionInfo;
  readonly invalidation: Invalidation;
  /** Timestamp pycs: source mtime in whole seconds, mod 2^32. */
  readonly mtime?: number;
  /** Timestamp pycs: source size mod 2^32. */
  readonly sourceSize?: number;
  /** Hash pycs: the 8-byte source hash as 16 hex digits. */
  readonly sourceHash?: string;
}

export type HeaderProblem = 'truncated' | 'bad-magic' | 'prerelease-or-unknown-magic' | 'bad-flags';

/** Parse a pyc header; returns the problem instead of throwing, since bad pycs are routine. */
export function parseHeader(bytes: Uint8Array): PycHeader | HeaderProblem {
  if (bytes.length < HEADER_SIZE) return 'truncated';
  if (bytes[2] !== 0x0d || bytes[3] !== 0x0a) return 'bad-magic';
  const magic = bytes[0]! | (bytes[1]! << 8);
  const version = versionForMagic(magic);
  if (!version) return 'prerelease-or-unknown-magic';
  const dv = new DataView(bytes.buffer, bytes.byteOffset, HEADER_SIZE);
  const flags = dv.getUint32(4, true);
  if (flags === 0) {
    return { version, invalidation: 'timestamp', mtime: dv.getUint32(8, true), sourceSize: dv.getUint32(12, true) };
  }
  if (flags === 1 || flags === 3) {
    return {
      version,
      invalidation: flags === 3 ? 'checked-hash' : 'unchecked-hash',
      sourceHash: toHex(bytes.subarray(8, 16)),
    };
  }
  return 'bad-flags';
}

/** `_imp.source_hash(_RAW_MAGIC_NUMBER, source)` for this version, as 16 hex digits. */
export function sourceHash(version: PyVersionInfo, source: Uint8Array): string {
  const key = new Uint8Array(16);
  key.set(magicBytes(version), 0);
  return toHex(siphash(key, source, version.sipRounds));
}

/** Whole seconds of a source's mtime truncated toward zero, as importlib's int(st_mtime) does. */
export function mtimeSeconds(st: { readonly mtimeNs: bigint }): number {
  return Number(st.mtimeNs / 1_000_000_000n);
}

/** Build a header. Timestamp: mtime seconds + size; hash: the source hash hex. */
export function buildHeader(
  version: PyVersionInfo,
  inv: Invalidation,
  fields: { mtime?: number; sourceSize?: number; sourceHash?: string },
): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE);
  out.set(magicBytes(version), 0);
  const dv = new DataView(out.buffer);
  if (inv === 'timestamp') {
    if (fields.mtime === undefined || fields.sourceSize === undefined) {
      throw new PycstoreError('EINTERNAL', 'timestamp header needs mtime and size');
    }
    dv.setUint32(4, 0, true);
    dv.setUint32(8, fields.mtime >>> 0, true);
    dv.setUint32(12, fields.sourceSize >>> 0, true);
  } else {
    if (fields.sourceHash === undefined || !/^[0-9a-f]{16}$/.test(fields.sourceHash)) {
      throw new PycstoreError('EINTERNAL', 'hash header needs a 16-hex-digit source hash');
    }
    dv.setUint32(4, inv === 'checked-hash' ? 3 : 1, true);
    out.set(fromHex(fields.sourceHash), 8);
  }
  return out;
}

export type Freshness = 'fresh' | 'stale' | 'unchecked';

/**
 * Is this pyc fresh for its source, the way importlib's SourceLoader decides?
 * Timestamp: whole-second mtime and size, both mod 2^32. Hash pycs: SipHash of the source bytes.
 * Unchecked-hash pycs are compared too: pycstore never stores a pyc whose hash doesn't match.
 * `source` is only needed (and only read by callers) for hash pycs.
 */
export function checkFresh(
  header: PycHeader,
  sourceStat: { mtimeSec: number; size: number },
  source?: Uint8Array,
): Freshness {
  if (header.invalidation === 'timestamp') {
    // importlib: int(st_mtime) & 0xFFFFFFFF; callers pass whole seconds truncated toward zero.
    const mtime = sourceStat.mtimeSec >>> 0;
    const size = sourceStat.size >>> 0;
    return header.mtime === mtime && header.sourceSize === size ? 'fresh' : 'stale';
  }
  if (!source) throw new PycstoreError('EINTERNAL', 'hash pyc freshness needs the source bytes');
  return sourceHash(header.version, source) === header.sourceHash ? 'fresh' : 'stale';
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}

export function fromHex(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'));
}
