/** A full filesystem: how it is told (the errno codes, SQLite's own) and how much room is left. */
import { statfsSync } from 'node:fs';
import { errnoCode } from '../errors.js';

/** A full disk or quota, from the filesystem or from SQLite. */
export function isNoSpaceCode(code: string | undefined): boolean {
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL';
}

export function isNoSpace(err: unknown): boolean {
  return isNoSpaceCode(errnoCode(err));
}

/** Bytes an unprivileged writer may still use on the filesystem of `dir` (undefined when it can't be told). */
export function freeBytes(dir: string): number | undefined {
  try {
    const st = statfsSync(dir);
    return Number(st.bavail) * Number(st.bsize);
  } catch {
    return undefined;
  }
}
