/** What every library call shares: where the store is, where its messages go, argument checks. */
import { statSync } from 'node:fs';
import path from 'node:path';
import { usageError } from '../errors.js';
import { defaultStoreDir } from '../store/location.js';
import { makeOutput, type Output } from '../util/output.js';

export type { Output } from '../util/output.js';

export interface CommonOptions {
  /** The store directory (`--store`). Default: $PYCSTORE_HOME, else the user cache dir (~/.cache/pycstore on Linux). */
  readonly store?: string;
  /**
   * Where warnings and notes go (what the CLI prints on stderr). Default: stderr, without a
   * progress line; `memoryOutput()` collects them instead.
   */
  readonly output?: Output;
  /**
   * Cancellation (the CLI aborts it on SIGINT/SIGTERM): dedup, gc, unshare and verify stop at their
   * next safe point, record what they did and return their report with `interrupted: true`.
   */
  readonly signal?: AbortSignal;
}

export function storeOf(opts: CommonOptions): string {
  return defaultStoreDir(opts.store, process.env);
}

export function outputOf(opts: CommonOptions): Output {
  return opts.output ?? makeOutput({ progress: false });
}

/**
 * `given` must name an existing folder (following symlinks, as `cd` would); returns it absolute.
 * Checked before anything is opened or created, so that a usage error leaves nothing behind.
 */
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
