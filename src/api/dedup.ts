/**
 * `dedup` for library callers: the CLI's flags as options, the `dedup --json` object as the result.
 * Which trees it covers comes from targets.ts (discovery composed with the scanner): with no `paths`,
 * every environment discovery finds plus the registered roots.
 */
import { availableParallelism } from 'node:os';
import type { InvalidationPolicy } from '../canonical/types.js';
import { emptyReport } from '../dedup/report.js';
import { runDedup, type DedupReport as ScanReport } from '../dedup/run.js';
import { usageError } from '../errors.js';
import type { LinkMode } from '../fs/link.js';
import { outputOf, storeOf, type CommonOptions } from './common.js';
import { announce, assertDirectories, findTargets, foundNothing, registeredRoots, type DiscoverySummary } from './targets.js';

/** The `dedup --json` object. */
export type DedupReport = ScanReport & {
  /** What discovery found before the work (absent with --no-discover). */
  discovery?: DiscoverySummary;
};

export interface DedupOptions extends CommonOptions {
  /** Trees to share: environments, or folders holding them. None: every environment found, plus the registered roots. */
  readonly paths?: readonly string[];
  /** `--no-discover`: no discovery; PATHs scanned as the trees they are, none = the registered roots only. */
  readonly noDiscover?: boolean;
  /** `--workspace` (repeatable): the folders searched for project environments (.venv, .tox, …), instead of the configured ones. */
  readonly workspace?: string | readonly string[];
  /** `--exclude` (repeatable): globs of folders neither searched nor scanned, besides the config file's. */
  readonly exclude?: string | readonly string[];
  /** `--dry-run`: only plan; nothing on disk changes, the ledger included. */
  readonly dryRun?: boolean;
  /** `--link-mode` (default: $PYCSTORE_LINK_MODE, else auto: reflink where the filesystem can, else hard link). */
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

const list = (v: string | readonly string[] | undefined): string[] => (v === undefined ? [] : typeof v === 'string' ? [v] : [...v]);

/** The link mode: the option (`--link-mode`) wins over $PYCSTORE_LINK_MODE; a bad value of either is a usage error naming it. */
export function linkModeOf(option: string | undefined, env: Readonly<Record<string, string | undefined>>): LinkMode {
  const fromEnv = env['PYCSTORE_LINK_MODE'];
  if (option === undefined && fromEnv !== undefined && fromEnv !== '') {
    if (!LINK_MODES.includes(fromEnv)) {
      throw usageError(`PYCSTORE_LINK_MODE must be auto, reflink or hardlink (got "${fromEnv}")`, 'fix or unset the variable, or pass --link-mode');
    }
    return fromEnv as LinkMode;
  }
  const mode = option ?? 'auto';
  if (!LINK_MODES.includes(mode)) {
    throw usageError(`--link-mode must be auto, reflink or hardlink (got "${mode}")`, 'symlinks are never used: py_compile refuses to write through them');
  }
  return mode as LinkMode;
}

/** Share the pycs of the given trees (none: of every environment found) through the store. Throws PycstoreError (code EUSAGE, …) on a refusal. */
export async function dedup(opts: DedupOptions = {}): Promise<DedupReport> {
  const linkMode = linkModeOf(opts.linkMode, process.env);
  const jobs = opts.jobs ?? availableParallelism();
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 256) throw usageError(`--jobs must be a whole number from 1 to 256 (got "${jobs}")`);
  const invalidation = opts.invalidation ?? 'auto';
  if (!POLICIES.includes(invalidation)) {
    throw usageError(`--invalidation must be auto, checked-hash, timestamp or unchecked-hash (got "${invalidation}")`);
  }
  const paths = opts.paths ?? [];
  assertDirectories(paths);
  const storeDir = storeOf(opts);
  const out = outputOf(opts);
  const targets = await findTargets({
    paths,
    discover: !opts.noDiscover,
    workspaces: list(opts.workspace),
    excludes: list(opts.exclude),
    registered: paths.length === 0 ? registeredRoots(storeDir) : [],
    out,
  });
  announce(out, targets);
  const discovery = targets.discovery ? { discovery: targets.discovery } : {};
  if (foundNothing(targets)) return { ...emptyReport([], opts.dryRun ?? false), ...discovery };
  const report = await runDedup({
    storeDir,
    paths: targets.roots,
    alsoRegistered: targets.alsoRegistered,
    descend: targets.descend,
    dryRun: opts.dryRun ?? false,
    linkMode,
    jobs,
    invalidation,
    fill: opts.fill ?? false,
    byteIdentical: opts.byteIdentical ?? false,
    pycachePrefix: opts.pycachePrefix,
    storeRoots: list(opts.storeRoot),
    out,
    signal: opts.signal,
  });
  return { ...report, ...discovery };
}
