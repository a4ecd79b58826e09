/**
 * A full disk (ENOSPC, EDQUOT) met while applying: the run stops there, with one line
 * (apply.ts) instead of one failure per file.
 */
import { errnoCode } from '../errors.js';

/** A full disk or quota, from the filesystem or from SQLite. */
export function isNoSpaceCode(code: string | undefined): boolean {
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL';
}

export function isNoSpace(err: unknown): boolean {
  return isNoSpaceCode(errnoCode(err));
}

/** Thrown inside apply; apply.ts turns it into the ENOSPC error the user sees. */
export class NoSpace extends Error {
  constructor(
    /** The store root whose filesystem is full. */
    readonly root: string,
    /** Index of the planned object being written (undefined: while linking, all objects exist). */
    readonly index: number | undefined,
    override readonly cause: unknown,
  ) {
    super(`no space left under ${root}`);
  }

  get why(): string {
    return errnoCode(this.cause) ?? String(this.cause);
  }
}
