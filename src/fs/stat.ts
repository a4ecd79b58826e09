/**
 * Looking at one path without following symlinks, with one rule for what a
 * failed lstat means: ENOENT and ENOTDIR are "missing" (the path is gone), any
 * other error (EACCES, EIO, …) is "can't tell" and never taken as missing.
 */
import { lstatSync, type BigIntStats } from 'node:fs';
import { errnoCode } from '../errors.js';
import { allocatedBytes, fingerprintOf, type Fingerprint } from './fingerprint.js';

/** What an lstat of a path said. */
export type FileState =
  | { readonly kind: 'missing' }
  | { readonly kind: 'error'; readonly errno: string }
  | { readonly kind: 'present'; readonly fp: Fingerprint; readonly isFile: boolean; readonly nlink: number; readonly allocated: number; readonly mtimeMs: number };

/** Is this errno "the path is not there"? */
export function isMissing(code: string | undefined): boolean {
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** lstat, or undefined when the path is missing; other errors are thrown. */
export function tryLstat(p: string): BigIntStats | undefined {
  try {
    return lstatSync(p, { bigint: true });
  } catch (err) {
    if (isMissing(errnoCode(err))) return undefined;
    throw err;
  }
}

/** One lstat of `p`: its state, and the stat itself for callers that need more of it (mode, owner). */
export function lstatFile(p: string): { readonly file: FileState; readonly stat?: BigIntStats } {
  try {
    const st = lstatSync(p, { bigint: true });
    const file: FileState = {
      kind: 'present',
      fp: fingerprintOf(st),
      isFile: st.isFile(),
      nlink: Number(st.nlink),
      allocated: allocatedBytes(st),
      mtimeMs: Number(st.mtimeNs / 1_000_000n),
    };
    return { file, stat: st };
  } catch (err) {
    const code = errnoCode(err);
    if (isMissing(code)) return { file: { kind: 'missing' } };
    return { file: { kind: 'error', errno: code ?? String(err) } };
  }
}

export function fileState(p: string): FileState {
  return lstatFile(p).file;
}
