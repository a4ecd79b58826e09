/**
 * `dedup` for library callers: the CLI's flags as options, the `dedup --json` object as the result.
 * Which trees it covers comes from targets.ts (discovery composed with the scanner): with no `paths`,
 * every environment discovery finds plus the registered roots.
 */
import { availableParallelism } from 'node:os';
import type { InvalidationPolicy } from '../canonical/types.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { noRootsError } from '../dedup/collect.js';
import { emptyReport } from '../dedup/report.js';
import { runDedup, type DedupReport as ScanReport } from '../dedup/run.js';
import { PycstoreError, usageError } from '../errors.js';
import type { LinkMode } from '../fs/link.js';
import { probeReflink } from '../fs/reflink-probe.js';
import { openStoreReadOnly } from '../session/open.js';
import { preflightPrivateDir } from '../store/permissions.js';
import { existingFolder, outputOf, storeOf, type CommonOptions } from './common.js';
import { announce, findTargets, foundNothing, registeredRoots, type DiscoverySummary } from './targets.js';

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
  preflightArgs(opts, paths);
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
  if (!targets.discovery && targets.roots.length === 0 && registeredRoots(storeDir).length === 0) throw noRootsError(); // before the store is made
  preflightStore(opts, storeDir, linkMode, list(opts.storeRoot));
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

/** Refusals of the arguments themselves, before discovery: PATHs and --pycache-prefix must be existing folders. */
function preflightArgs(opts: DedupOptions, paths: readonly string[]): void {
  if (opts.fill && opts.byteIdentical) throw usageError('--fill needs canonical pycs: drop --byte-identical');
  for (const p of paths) existingFolder(p, { hint: 'give the path of a venv or of a folder holding venvs' });
  if (opts.pycachePrefix !== undefined) {
    if (!path.isAbsolute(opts.pycachePrefix)) throw usageError('--pycache-prefix needs an absolute path (as PYTHONPYCACHEPREFIX)');
    existingFolder(opts.pycachePrefix, { flag: '--pycache-prefix', hint: 'give the folder PYTHONPYCACHEPREFIX names; it must exist' });
  }
}

/**
 * Refusals of the store, made once there is work and before the store is opened, so that they
 * create nothing: the store (and --store-root folders) must pass the permission checks as far as
 * they exist, and `--link-mode reflink` needs store roots that can clone.
 */
function preflightStore(opts: DedupOptions, storeDir: string, linkMode: string, storeRoots: readonly string[]): void {
  if (opts.dryRun) return; // a dry run opens nothing for writing and writes no probe
  preflightPrivateDir(storeDir, 'store');
  for (const r of storeRoots) preflightPrivateDir(path.resolve(r), 'store root');
  if (linkMode === 'reflink') refuseWithoutReflinks([storeDir, ...storeRoots.map((r) => path.resolve(r)), ...registeredStoreRoots(storeDir)]);
}

function registeredStoreRoots(storeDir: string): string[] {
  const store = openStoreReadOnly(storeDir);
  if (!store) return [];
  try {
    return store.ledger.storeRoots().map((r) => r.path).filter((p) => existsSync(p));
  } finally {
    store.close();
  }
}

/** `--link-mode reflink`: every store root must be able to clone, or nothing is done at all. */
function refuseWithoutReflinks(roots: readonly string[]): void {
  for (const root of new Set(roots)) {
    const probe = probeReflink(root);
    if (probe.ok) continue;
    throw new PycstoreError('ENOREFLINK', `--link-mode reflink: the filesystem of ${root} can't make reflinks (cloning a file in ${probe.dir} failed: ${probe.why})`, {
      hint: 'use --link-mode auto (reflinks where the filesystem can, else hard links) or --link-mode hardlink; reflinks need XFS (reflink=1), btrfs, bcachefs, APFS or ReFS',
      data: { path: root, errno: probe.why },
    });
  }
}
