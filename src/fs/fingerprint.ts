/**
 * A file's identity and version as the linker compares it: (dev, ino, size,
 * mtime_ns, ctime_ns), from a bigint lstat so nanoseconds and 64-bit inode
 * numbers survive. Stored in the ledger as decimal strings.
 */
import type { BigIntStats } from 'node:fs';

export interface Fingerprint {
  readonly dev: string;
  readonly ino: string;
  readonly size: number;
  readonly mtimeNs: string;
  readonly ctimeNs: string;
}

export function fingerprintOf(st: BigIntStats): Fingerprint {
  return {
    dev: st.dev.toString(),
    ino: st.ino.toString(),
    size: Number(st.size),
    mtimeNs: st.mtimeNs.toString(),
    ctimeNs: st.ctimeNs.toString(),
  };
}

export function sameFingerprint(a: Fingerprint, b: Fingerprint): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

export function sameInode(a: { dev: string; ino: string }, b: { dev: string; ino: string }): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/** Allocated bytes (st_blocks × 512); Windows reports no blocks, so fall back to the size rounded to 4 KiB. */
export function allocatedBytes(st: BigIntStats): number {
  if (st.blocks > 0n || st.size === 0n) return Number(st.blocks) * 512;
  return Math.ceil(Number(st.size) / 4096) * 4096;
}
