/**
 * Checks of command-line arguments that need the filesystem, made before a
 * command opens (or creates) anything, so that a usage error leaves nothing
 * behind. Each throws EUSAGE with what to give instead.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { usageError } from '../errors.js';

/** `given` must name an existing folder (following symlinks, as `cd` would); returns it absolute. */
export function existingFolder(given: string, what: { flag?: string; hint: string }): string {
  const abs = path.resolve(given);
  const label = what.flag ? `${what.flag} ${given}` : given;
  let isDir: boolean;
  try {
    isDir = statSync(abs).isDirectory();
  } catch {
    throw usageError(`${label}: no such directory`, what.hint);
  }
  if (!isDir) throw usageError(`${label}: not a directory`, what.hint);
  return abs;
}
