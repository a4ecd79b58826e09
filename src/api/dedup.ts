/** `dedup` for library callers: the CLI's flags as options, the `dedup --json` object as the result. */
import { availableParallelism } from 'node:os';
import type { InvalidationPolicy } from '../canonical/types.js';
import { runDedup, type DedupReport } from '../dedup/run.js';
import { usageError } from '../errors.js';
import type { LinkMode } from '../fs/link.js';
import { outputOf, storeOf, type CommonOptions } from './common.js';

export type { DedupReport } from '../dedup/run.js';

export interface DedupOptions extends CommonOptions {
  /** Trees to share (venvs, or folders holding venvs). None: the roots earlier runs registered. */
  readonly paths?: readonly string[];
  /** `--dry-run`: only plan; nothing on disk changes, the ledger included. */
  readonly dryRun?: boolean;
  /** `--link-mode` (default auto: reflink where the filesystem can, else hard link). */
  readonly linkMode?: LinkMode;
  /** `--jobs`: worker threads reading and analysing pycs, 1–256 (default: the machine's cores). */
  readonly jobs?: number;
  /** `--invalidation`: the header of stored pycs (default auto). */
  readonly invalidation?: InvalidationPolicy;
  /** `--fill`: also give sources with no fresh pyc one. */
  readonly fill?: boolean;
  /** `--byte-identical`: store pycs byte for byte (only identical pycs are shared). */
  readonly byteIdentical?: boolean;
  /** `--pycache-prefix`: also scan this PYTHONPYCACHEPREFIX mirror tree (absolute). */
  readonly pycachePrefix?: string;
  /** `--store-root` (repeatable): store roots on other filesystems, registered for good. */
  readonly storeRoot?: string | readonly string[];
  /**
   * Stop early when it aborts (the CLI aborts it on SIGINT/SIGTERM): no new work starts, swaps under
   * way finish, every link made is recorded; the result has `stopped: { reason: 'interrupted' }`.
   */
  readonly signal?: AbortSignal;
}

const LINK_MODES: readonly string[] = ['auto', 'reflink', 'hardlink'];
const POLICIES: readonly string[] = ['auto', 'checked-hash', 'timestamp', 'unchecked-hash'];

/** Share the pycs of the given trees through the store. Throws PycstoreError (code EUSAGE, …) on a refusal. */
export async function dedup(opts: DedupOptions = {}): Promise<DedupReport> {
  const linkMode = opts.linkMode ?? 'auto';
  if (!LINK_MODES.includes(linkMode)) {
    throw usageError(`--link-mode must be auto, reflink or hardlink (got "${linkMode}")`, 'symlinks are never used: py_compile refuses to write through them');
  }
  const jobs = opts.jobs ?? availableParallelism();
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 256) throw usageError(`--jobs must be a whole number from 1 to 256 (got "${jobs}")`);
  const invalidation = opts.invalidation ?? 'auto';
  if (!POLICIES.includes(invalidation)) {
    throw usageError(`--invalidation must be auto, checked-hash, timestamp or unchecked-hash (got "${invalidation}")`);
  }
  const storeRoot = opts.storeRoot === undefined ? [] : typeof opts.storeRoot === 'string' ? [opts.storeRoot] : opts.storeRoot;
  return runDedup({
    storeDir: storeOf(opts),
    paths: opts.paths ?? [],
    dryRun: opts.dryRun ?? false,
    linkMode,
    jobs,
    invalidation,
    fill: opts.fill ?? false,
    byteIdentical: opts.byteIdentical ?? false,
    pycachePrefix: opts.pycachePrefix,
    storeRoots: storeRoot,
    out: outputOf(opts),
    signal: opts.signal,
  });
}
