/** `unshare` for library callers: the CLI's flags as options, the `unshare --json` object as the result. */
import { runUnshare, type UnshareReport } from '../unshare/run.js';
import { outputOf, storeOf, type CommonOptions } from './common.js';

export type { UnshareReport } from '../unshare/run.js';

export interface UnshareOptions extends CommonOptions {
  /** Venvs, folders or pyc files whose linked pycs get a private copy again. */
  readonly paths?: readonly string[];
  /** `--all`: every linked file the ledger knows (then no paths). */
  readonly all?: boolean;
  /** `--dry-run`: only plan. */
  readonly dryRun?: boolean;
}

/** Give linked pycs their own private copy again. */
export async function unshare(opts: UnshareOptions = {}): Promise<UnshareReport> {
  return runUnshare({ storeDir: storeOf(opts), paths: opts.paths ?? [], all: opts.all ?? false, dryRun: opts.dryRun ?? false, out: outputOf(opts), ...(opts.signal ? { signal: opts.signal } : {}) });
}
