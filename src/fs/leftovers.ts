/**
 * Swap temp names (`__pycache__/.pycstore-<pid>-<hex>.tmp`) left behind by a
 * pycstore process that was killed between writing the temp and renaming it
 * over the venv file. Such a temp is a spare name of a store object (dedup) or
 * a private copy nobody uses (unshare); the venv file itself is intact either
 * way. Only temps whose process is gone are removed: a running pycstore may be
 * about to rename its own.
 */
import { readdirSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { swapTempOwner } from './swap.js';

/** Is a process with this pid running (or existing under another user)? */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The leftover swap temps in these folders: their owner is gone. */
export function findSwapLeftovers(dirs: Iterable<string>): string[] {
  const out: string[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue; // gone or unreadable: nothing of ours to find there
    }
    for (const name of names) {
      const pid = swapTempOwner(name);
      if (pid !== undefined && pid !== process.pid && !processAlive(pid)) out.push(path.join(dir, name));
    }
  }
  return out;
}

/** Remove them; returns how many were removed. */
export function removeSwapLeftovers(files: readonly string[]): number {
  let removed = 0;
  for (const f of files) {
    try {
      unlinkSync(f);
      removed++;
    } catch {
      // gone meanwhile
    }
  }
  return removed;
}
