/** `gc` for library callers: the CLI's flags as options, the `gc --json` object as the result. */
import { usageError } from '../errors.js';
import { DEFAULT_GRACE_MS, runGc, type GcReport } from '../gc/run.js';
import { parseDuration } from '../util/format.js';
import { outputOf, storeOf, type CommonOptions } from './common.js';

export type { GcReport } from '../gc/run.js';

export interface GcOptions extends CommonOptions {
  /** `--grace`: keep unused objects used less than this long ago: "90s", "30m", "1h", "2d", "1w", or milliseconds. Default 1 h. */
  readonly grace?: string | number;
  /** `--dry-run`: only plan; nothing changes, the ledger included. */
  readonly dryRun?: boolean;
}

export function graceMs(grace: string | number | undefined): number {
  if (grace === undefined) return DEFAULT_GRACE_MS;
  const ms = typeof grace === 'number' ? grace : parseDuration(grace);
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) {
    throw usageError(`--grace must be a duration like 90s, 30m, 1h, 2d or 0 (got "${grace}")`, 'see: pycstore gc --help');
  }
  return ms;
}

/** Delete the store objects no live link uses. Never creates a store (`exists: false` when there is none). */
export async function gc(opts: GcOptions = {}): Promise<GcReport> {
  return runGc({ storeDir: storeOf(opts), graceMs: graceMs(opts.grace), dryRun: opts.dryRun ?? false, out: outputOf(opts), env: process.env, ...(opts.signal ? { signal: opts.signal } : {}) });
}
