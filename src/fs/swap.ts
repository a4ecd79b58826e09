/**
 * The one atomic swap: replace a file by another one without the path ever
 * being missing. The new file is made under a unique temp name in the same
 * folder (so the rename is atomic), the original is looked at one last time,
 * and only then is the temp renamed over it. A temp name left by a crash is
 * recognisable (SWAP_PREFIX … .tmp, never .pyc) and removed by the next run
 * that scans the folder. Used by the linker (fs/link.ts) and by unshare's
 * private copies.
 *
 * Asynchronous (the libuv pool), so a caller can keep many swaps in flight
 * while it does other work. Temp names are cheap — pid and a counter (started
 * at a random 48-bit value, written as 12 hex digits: the shape leftover
 * cleanup recognises) — and made exclusively: a maker that finds the name
 * taken (a crashed process with the same pid left it) answers EEXIST and the
 * swap tries the next name.
 */
import { randomInt } from 'node:crypto';
import { lstat, rename, unlink } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../errors.js';

/** Temp names in venv folders: `.pycstore-<pid>-<12 hex>.tmp`. */
export const SWAP_PREFIX = '.pycstore-';

const COUNTER_SPAN = 2 ** 48;
let counter = randomInt(2 ** 47);

/** A unique temp name next to `filePath` (created exclusively by the caller). */
export function swapTempPath(filePath: string): string {
  counter = (counter + 1) % COUNTER_SPAN;
  return path.join(path.dirname(filePath), `${SWAP_PREFIX}${process.pid}-${counter.toString(16).padStart(12, '0')}.tmp`);
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
  | { readonly ok: true; readonly stat: BigIntStats; readonly renamed: boolean }
  | { readonly ok: false; readonly reason: 'changed'; readonly errno?: string | undefined }
  | { readonly ok: false; readonly reason: 'error'; readonly errno: string };

/** What a maker answers: made (undefined), a failure of its own, or 'EEXIST' (the temp name is taken: try another). */
export type MakeResult<F> = F | undefined | 'EEXIST';

export interface SwapOptions {
  /**
   * The inode the temp is a name of, when the maker knows it (a hard link to a store object): a
   * target that already is this inode needs no rename.
   */
  readonly madeInode?: { readonly dev: string; readonly ino: string };
}

const TEMP_TRIES = 8;

/** Make the temp: a fresh name until the maker finds one free (a few tries), then its answer. */
async function makeTemp<F>(target: string, make: (tmp: string) => Promise<MakeResult<F>>): Promise<{ tmp: string; failed: F | undefined }> {
  for (let i = 1; ; i++) {
    const tmp = swapTempPath(target);
    const r = await make(tmp);
    if (r !== 'EEXIST') return { tmp, failed: r };
    if (i >= TEMP_TRIES) throw Object.assign(new Error(`EEXIST: ${TEMP_TRIES} temp names taken in ${path.dirname(target)}`), { code: 'EEXIST' });
  }
}

/**
 * Replace `target` by the file `make(tmp)` creates at `tmp`. `make` returns undefined when it made
 * the file, or a failure of its own, passed back as it is (nothing is swapped). `unchanged(st)` is
 * the last look at `target` right before the rename; false leaves it alone ('changed'). The temp
 * never outlives the call. `stat` is the target's lstat taken right before the rename.
 */
export async function swapIn<F extends { readonly ok: false }>(
  target: string,
  make: (tmp: string) => Promise<MakeResult<F>>,
  unchanged: (st: BigIntStats) => boolean | Promise<boolean>,
  opts: SwapOptions = {},
): Promise<SwapOutcome | F> {
  let tmp: string | undefined;
  let done = false;
  try {
    const made = await makeTemp(target, make);
    tmp = made.tmp;
    if (made.failed) return made.failed;
    const now = await lstat(target, { bigint: true });
    if (!now.isFile() || !(await unchanged(now))) return { ok: false, reason: 'changed' };
    const same = opts.madeInode;
    if (same && same.dev === now.dev.toString() && same.ino === now.ino.toString()) return { ok: true, stat: now, renamed: false };
    await rename(tmp, target);
    done = true;
    return { ok: true, stat: now, renamed: true };
  } catch (err) {
    const code = errnoCode(err);
    return code === 'ENOENT' ? { ok: false, reason: 'changed', errno: code } : { ok: false, reason: 'error', errno: code ?? String(err) };
  } finally {
    if (!done && tmp !== undefined) await removeTemp(tmp);
  }
}

/** Remove a temp name; already gone (or never made) is fine. */
export async function removeTemp(tmp: string): Promise<void> {
  try {
    await unlink(tmp);
  } catch {
    // gone already, or never created
  }
}
