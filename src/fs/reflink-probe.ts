/**
 * Can this filesystem clone (FICLONE, what `--link-mode reflink` needs)? Found
 * out by doing it once: a small temp file in the folder is cloned the way the
 * linker clones objects (copyFileSync with COPYFILE_FICLONE_FORCE), and both
 * files are removed. Nothing else is left behind.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, copyFileSync, existsSync, openSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../errors.js';

/**
 * The probe's two files in `dir`: `.pycstore-probe-<pid>-<12 hex>.tmp` and its `.clone.tmp` (never
 * `.pyc`; the pid says whose they are). This function is their one owner.
 */
export function reflinkProbePaths(dir: string): { readonly source: string; readonly clone: string } {
  const base = path.join(dir, `.pycstore-probe-${process.pid}-${randomBytes(6).toString('hex')}`);
  return { source: `${base}.tmp`, clone: `${base}.clone.tmp` };
}

export type ReflinkProbe = { readonly ok: true; readonly dir: string } | { readonly ok: false; readonly dir: string; readonly why: string };

/** The folder itself if it exists, else the nearest existing one above it (where it would be created). */
export function nearestExisting(dir: string): string {
  let cur = path.resolve(dir);
  while (!existsSync(cur) && path.dirname(cur) !== cur) cur = path.dirname(cur);
  return cur;
}

export function probeReflink(dir: string): ReflinkProbe {
  const where = nearestExisting(dir);
  const { source, clone } = reflinkProbePaths(where);
  try {
    const fd = openSync(source, 'wx', 0o600);
    try {
      writeSync(fd, Buffer.from('pycstore reflink probe\n'));
    } finally {
      closeSync(fd);
    }
    copyFileSync(source, clone, constants.COPYFILE_FICLONE_FORCE | constants.COPYFILE_EXCL);
    return { ok: true, dir: where };
  } catch (err) {
    return { ok: false, dir: where, why: errnoCode(err) ?? String(err) };
  } finally {
    for (const f of [clone, source]) {
      try {
        unlinkSync(f);
      } catch {
        // never made
      }
    }
  }
}
