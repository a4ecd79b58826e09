/** `dedup` for library callers: the CLI's flags as options, the `dedup --json` object as the result. */
import type { InvalidationPolicy } from '../canonical/types.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { runDedup, type DedupReport } from '../dedup/run.js';
import { PycstoreError, usageError } from '../errors.js';
import type { LinkMode } from '../fs/link.js';
import { probeReflink } from '../fs/reflink-probe.js';
import { openStoreReadOnly } from '../session/open.js';
import { ledgerPath } from '../store/location.js';
import { preflightPrivateDir } from '../store/permissions.js';
import { existingFolder, outputOf, storeOf, type CommonOptions } from './common.js';

export type { DedupReport } from '../dedup/run.js';

export interface DedupOptions extends CommonOptions {
  /** Trees to share (venvs, or folders holding venvs). None: the roots earlier runs registered. */
  readonly paths?: readonly string[];
  /** `--dry-run`: only plan; nothing on disk changes, the ledger included. */
  readonly dryRun?: boolean;
  /** `--link-mode` (default auto: reflink where the filesystem can, else hard link). */
  readonly linkMode?: LinkMode;
  /** `--jobs`: files read at once, 1–256 (default 8). */
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
}

const LINK_MODES: readonly string[] = ['auto', 'reflink', 'hardlink'];
const POLICIES: readonly string[] = ['auto', 'checked-hash', 'timestamp', 'unchecked-hash'];

/** Share the pycs of the given trees through the store. Throws PycstoreError (code EUSAGE, …) on a refusal. */
export async function dedup(opts: DedupOptions = {}): Promise<DedupReport> {
  const linkMode = opts.linkMode ?? 'auto';
  if (!LINK_MODES.includes(linkMode)) {
    throw usageError(`--link-mode must be auto, reflink or hardlink (got "${linkMode}")`, 'symlinks are never used: py_compile refuses to write through them');
  }
  const jobs = opts.jobs ?? 8;
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 256) throw usageError(`--jobs must be a whole number from 1 to 256 (got "${jobs}")`);
  const invalidation = opts.invalidation ?? 'auto';
  if (!POLICIES.includes(invalidation)) {
    throw usageError(`--invalidation must be auto, checked-hash, timestamp or unchecked-hash (got "${invalidation}")`);
  }
  const storeRoot = opts.storeRoot === undefined ? [] : typeof opts.storeRoot === 'string' ? [opts.storeRoot] : opts.storeRoot;
  const storeDir = storeOf(opts);
  preflight(opts, storeDir, linkMode, storeRoot);
  return runDedup({
    storeDir,
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
  });
}

/**
 * Every refusal that needs no work, made before the store is opened, so that it creates nothing:
 * PATHs and --pycache-prefix must be existing folders, a store with no roots needs a PATH, the
 * store (and --store-root folders) must pass the permission checks as far as they exist, and
 * `--link-mode reflink` needs store roots that can clone.
 */
function preflight(opts: DedupOptions, storeDir: string, linkMode: string, storeRoots: readonly string[]): void {
  if (opts.fill && opts.byteIdentical) throw usageError('--fill needs canonical pycs: drop --byte-identical');
  const paths = opts.paths ?? [];
  for (const p of paths) existingFolder(p, { hint: 'give the path of a venv or of a folder holding venvs' });
  if (opts.pycachePrefix !== undefined) {
    if (!path.isAbsolute(opts.pycachePrefix)) throw usageError('--pycache-prefix needs an absolute path (as PYTHONPYCACHEPREFIX)');
    existingFolder(opts.pycachePrefix, { flag: '--pycache-prefix', hint: 'give the folder PYTHONPYCACHEPREFIX names; it must exist' });
  }
  if (paths.length === 0 && !existsSync(ledgerPath(storeDir))) {
    throw usageError('no PATH given and no roots registered yet', 'name the venvs or folders to deduplicate: pycstore dedup ~/.venvs');
  }
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
