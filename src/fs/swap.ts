/**
 * The one atomic swap: replace a file by another one without the path ever
 * being missing. The new file is made under a unique temp name in the same
 * folder (so the rename is atomic), the original is looked at one last time,
 * and only then is the temp renamed over it. A temp name left by a crash is
 * recognisable (SWAP_PREFIX … .tmp, never .pyc) and removed by the next run
 * that scans the folder. Used by the linker (fs/link.ts) and by unshare's
 * private copies.
 */
import { randomBytes } from 'node:crypto';
import { lstatSync, renameSync, unlinkSync, type BigIntStats } from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../errors.js';

/** Temp names in venv folders: `.pycstore-<pid>-<12 hex>.tmp`. */
export const SWAP_PREFIX = '.pycstore-';

/** A unique temp name next to `filePath` (created exclusively by the caller). */
export function swapTempPath(filePath: string): string {
  return path.join(path.dirname(filePath), `${SWAP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
}

/** Is this folder entry a swap temp name (of any run, maybe a crashed one)? */
export function isSwapTemp(name: string): boolean {
  return name.startsWith(SWAP_PREFIX) && name.endsWith('.tmp');
}

/** The pid of the process that made a swap temp name (`.pycstore-<pid>-<12 hex>.tmp`), or undefined for any other name. */
export function swapTempOwner(name: string): number | undefined {
  const m = /^\.pycstore-(\d+)-[0-9a-f]{12}\.tmp$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

export type SwapOutcome =
  | { readonly ok: true; readonly stat: BigIntStats }
  | { readonly ok: false; readonly reason: 'changed'; readonly errno?: string | undefined }
  | { readonly ok: false; readonly reason: 'error'; readonly errno: string };

/**
 * Replace `target` by the file `make(tmp)` creates at `tmp`. `make` returns undefined when it made
 * the file, or a failure of its own, passed back as it is (nothing is swapped). `unchanged(st)` is
 * the last look at `target` right before the rename; false leaves it alone ('changed'). A temp that
 * turned out to be `target`'s own inode needs no rename. The temp never outlives the call.
 */
export function swapIn<F extends { readonly ok: false }>(
  target: string,
  make: (tmp: string) => F | undefined,
  unchanged: (st: BigIntStats) => boolean,
): SwapOutcome | F {
  const tmp = swapTempPath(target);
  let done = false;
  try {
    const failed = make(tmp);
    if (failed) return failed;
    const now = lstatSync(target, { bigint: true });
    if (!now.isFile() || !unchanged(now)) return { ok: false, reason: 'changed' };
    const made = lstatSync(tmp, { bigint: true });
    if (made.dev === now.dev && made.ino === now.ino) return { ok: true, stat: now }; // rename onto the same inode does nothing
    renameSync(tmp, target);
    done = true;
    return { ok: true, stat: lstatSync(target, { bigint: true }) };
  } catch (err) {
    const code = errnoCode(err);
    return code === 'ENOENT' ? { ok: false, reason: 'changed', errno: code } : { ok: false, reason: 'error', errno: code ?? String(err) };
  } finally {
    if (!done) removeTemp(tmp);
  }
}

/** Remove a temp name; already gone (or never made) is fine. */
export function removeTemp(tmp: string): void {
  try {
    unlinkSync(tmp);
  } catch {
    // gone already, or never created
  }
}
