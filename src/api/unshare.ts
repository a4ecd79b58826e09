/** `unshare` for library callers: the CLI's flags as options, the `unshare --json` object as the result. */
import { runUnshare, type UnshareReport } from '../unshare/run.js';
import path from 'node:path';
import { outputOf, storeOf, type CommonOptions, type Output } from './common.js';
import { enclosingEnvironment } from './targets.js';

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
  const out = outputOf(opts);
  const report = await runUnshare({ storeDir: storeOf(opts), paths: opts.paths ?? [], all: opts.all ?? false, dryRun: opts.dryRun ?? false, out, ...(opts.signal ? { signal: opts.signal } : {}) });
  if (!opts.dryRun) await warnRediscovered(opts.paths ?? [], opts.all ?? false, out);
  return report;
}

/** A bare `pycstore dedup` (and a scheduled one) finds environments by itself: say so, and how to keep one private. */
async function warnRediscovered(paths: readonly string[], all: boolean, out: Output): Promise<void> {
  const how = "to keep it private, add it to `exclude` in pycstore's config file (README, \"Finding environments\")";
  if (all) {
    out.warn(`a bare \`pycstore dedup\` (and a scheduled one) finds your environments again and shares them; ${how.replace('it', 'one')}`);
    return;
  }
  for (const p of paths) {
    const env = await enclosingEnvironment(path.resolve(p));
    if (env) out.warn(`${p} is in the environment ${env.path}, which a bare \`pycstore dedup\` (and a scheduled one) finds and shares again; ${how}`);
  }
}
