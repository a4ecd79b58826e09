/**
 * `unshare` as a library call: resolve the paths → lock (shared, like dedup)
 * → the ledger's links under them → observe → plan → (dry run: stop) → copy
 * each still-shared file and drop its row → forget the roots being unshared.
 *
 * Objects are not deleted here: that is gc's job (`unshare --all` followed by
 * `gc --grace 0` leaves an empty store).
 */
import { existsSync, lstatSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { progressOf, type Output } from '../util/output.js';
import { usageError } from '../errors.js';
import { allocatedBytes } from '../fs/fingerprint.js';
import { findSwapLeftovers, removeSwapLeftovers } from '../fs/leftovers.js';
import { fileState, lstatFile } from '../fs/stat.js';
import type { Ledger, LedgerWriter, LedgerWrites } from '../ledger/ledger.js';
import type { LinkRow, RootRow } from '../ledger/rows.js';
import { storeRootStates } from '../session/roots.js';
import { pycMode } from '../pyc/mode.js';
import { parseCacheName, sourceForPrefix, sourceForPycache } from '../pyc/names.js';
import { ledgerPath, objectPath } from '../store/location.js';
import { openStore, openStoreReadOnly, recordedRun } from '../session/open.js';
import { formatCount } from '../util/format.js';
import { checkpointEvery } from '../util/turn.js';
import { makePrivateCopy } from './copy.js';
import { withRememberedHeader } from './header.js';
import { planUnshare, type ObservedUnshareLink, type Owner, type UnsharePlan } from './plan.js';

export interface UnshareOptions {
  readonly storeDir: string;
  readonly paths: readonly string[];
  readonly all: boolean;
  readonly dryRun?: boolean;
  readonly out: Output;
  /** Stop between two files when aborted (SIGINT/SIGTERM); every file done so far is recorded. */
  readonly signal?: AbortSignal;
}

export interface UnshareFailure {
  readonly path: string;
  readonly reason: 'changed' | 'error' | 'unverified';
  readonly detail: string;
}

export interface UnshareReport {
  store: string;
  dryRun: boolean;
  all: boolean;
  paths: string[];
  /** Files that shared a store object and now have a private copy. */
  unshared: number;
  /** Files in the ledger that were already files of their own (recompiled, replaced): only the row was dropped. */
  alreadyPrivate: number;
  /** Files in the ledger whose path is gone: only the row was dropped. */
  gone: number;
  linksDropped: number;
  /** Registered roots forgotten (at or under a folder unshared; all of them with --all). */
  rootsDropped: number;
  /** Allocated bytes the private copies take. */
  bytesAdded: number;
  failures: UnshareFailure[];
  /** Swap temps of a killed earlier run (`__pycache__/.pycstore-<pid>-*.tmp`) found in the folders unshared, removed (dry run: found). */
  leftoversRemoved: number;
  /** Stopped by SIGINT/SIGTERM before every file was done (the roots are then kept). */
  interrupted: boolean;
  durationMs: number;
  /** --dry-run: what unshare would do. */
  plan?: {
    unshared: number;
    alreadyPrivate: number;
    gone: number;
    linksDropped: number;
    rootsDropped: number;
    copy: string[];
    drop: { path: string; reason: 'gone' | 'private' }[];
    roots: string[];
  };
}

interface Target {
  readonly given: string;
  readonly abs: string;
  readonly kind: 'folder' | 'file' | 'missing';
}

function resolveTargets(paths: readonly string[]): Target[] {
  return paths.map((p) => {
    const abs = path.resolve(p);
    try {
      const st = statSync(abs); // follows a symlinked venv folder, as `cd` would
      return { given: p, abs, kind: st.isDirectory() ? 'folder' : 'file' };
    } catch {
      return { given: p, abs, kind: 'missing' };
    }
  });
}

/** A path as given and with symlinks resolved: dedup records paths as it was given them; the user may name them either way. */
function spellings(abs: string): Set<string> {
  const out = new Set([abs]);
  try {
    out.add(realpathSync(abs));
  } catch {
    // missing
  }
  return out;
}

/** The ledger's links a target names: every link under a folder, or the one at a file's path. */
function linksOf(t: Target, ledger: Ledger): LinkRow[] {
  const out: LinkRow[] = [];
  for (const p of spellings(t.abs)) {
    if (t.kind !== 'file') out.push(...ledger.linksUnder(p));
    if (t.kind !== 'folder') {
      const one = ledger.link(p);
      if (one) out.push(one);
    }
  }
  return out;
}

/** The source of a linked pyc (in __pycache__, or under the root's PYTHONPYCACHEPREFIX mirror). */
function sourceOf(pycPath: string, rootPrefix: string | null | undefined): string | undefined {
  const name = parseCacheName(path.basename(pycPath));
  if (name && path.basename(path.dirname(pycPath)) === '__pycache__') return sourceForPycache(pycPath, name);
  if (name && rootPrefix) return sourceForPrefix(rootPrefix, pycPath, name);
  return undefined;
}

/** Mode CPython gives a pyc it writes: the source's mode with owner-write, within 0666 (importlib _calc_mode). */
function modeFor(source: string | undefined, fallbackMode: number): number {
  let base = fallbackMode;
  if (source !== undefined) {
    try {
      base = statSync(source).mode; // importlib stats the source following symlinks
    } catch {
      // source gone: CPython would use 0o666
      base = 0o666;
    }
  }
  return pycMode(base);
}

type Inode = { readonly dev: string; readonly ino: string };

function observeLinks(rows: readonly LinkRow[], ledger: Ledger, storeDir: string, roots: readonly RootRow[]): ObservedUnshareLink[] {
  const storeRoots = new Map(storeRootStates(ledger, storeDir).map((r) => [r.row.id, r]));
  const prefixes = new Map(roots.map((r) => [r.id, r.pycache_prefix]));
  // Many links share one object and many files one folder: each object and each folder is looked at once.
  const inodesByObject = new Map<number, Inode[]>();
  const objectInodesOf = (objectId: number): Inode[] => {
    let inodes = inodesByObject.get(objectId);
    if (inodes) return inodes;
    inodes = [];
    const object = ledger.objectById(objectId);
    if (object) {
      inodes.push({ dev: object.dev, ino: object.ino });
      const root = storeRoots.get(object.root_id);
      if (root?.usable) {
        const of = fileState(objectPath(root.row.path, object, object.replica));
        if (of.kind === 'present') inodes.push({ dev: of.fp.dev, ino: of.fp.ino });
      }
    }
    inodesByObject.set(objectId, inodes);
    return inodes;
  };
  const folderOwners = new Map<string, Owner | undefined>();
  const folderOwnerOf = (dir: string): Owner | undefined => {
    if (!folderOwners.has(dir)) {
      let owner: Owner | undefined;
      try {
        const st = lstatSync(dir);
        owner = { uid: st.uid, gid: st.gid };
      } catch {
        // gone meanwhile: the copy step notices
      }
      folderOwners.set(dir, owner);
    }
    return folderOwners.get(dir);
  };

  const seen = new Set<number>();
  const out: ObservedUnshareLink[] = [];
  for (const row of rows) {
    if (seen.has(row.id)) continue;
    seen.add(row.id);
    const p = ledger.filePath(row.dir_id, row.name);
    const { file, stat } = lstatFile(p);
    // A hard link has the store's owner (root, for a system store); the private copy belongs to whoever
    // owns the __pycache__ folder, as a pyc CPython writes there would. A reflink kept the file's own owner.
    let owner: Owner | undefined;
    if (stat) owner = row.kind === 'hardlink' ? folderOwnerOf(path.dirname(p)) : { uid: Number(stat.uid), gid: Number(stat.gid) };
    const source = sourceOf(p, row.root_id === null ? null : prefixes.get(row.root_id));
    const mode = modeFor(source, stat ? Number(stat.mode) : 0o644);
    out.push({ row, path: p, file, objectInodes: objectInodesOf(row.object_id), mode, owner, source });
  }
  return out;
}

export async function runUnshare(opts: UnshareOptions): Promise<UnshareReport> {
  const started = Date.now();
  const dryRun = opts.dryRun ?? false;
  if (opts.all && opts.paths.length > 0) throw usageError('give either PATH... or --all, not both', 'see: pycstore unshare --help');
  if (!opts.all && opts.paths.length === 0) {
    throw usageError('name the venvs, folders or files to unshare, or --all', 'e.g.: pycstore unshare ~/.venvs/old   or   pycstore unshare --all');
  }
  const targets = resolveTargets(opts.paths);
  const report: UnshareReport = {
    store: opts.storeDir,
    dryRun,
    all: opts.all,
    paths: targets.map((t) => t.abs),
    unshared: 0,
    alreadyPrivate: 0,
    gone: 0,
    linksDropped: 0,
    rootsDropped: 0,
    bytesAdded: 0,
    failures: [],
    leftoversRemoved: 0,
    interrupted: false,
    durationMs: 0,
  };
  const missingTargets = targets.filter((t) => t.kind === 'missing');
  if (!existsSync(ledgerPath(opts.storeDir))) {
    if (missingTargets.length) throw usageError(`${missingTargets[0]!.given}: no such file or folder`);
    opts.out.note(`no store at ${opts.storeDir}: nothing is linked`);
    return report;
  }
  if (dryRun) {
    const store = openStoreReadOnly(opts.storeDir);
    if (!store) return report;
    try {
      const plan = planFor(store.ledger, targets, opts);
      report.leftoversRemoved = leftoversOf(plan).length;
      report.plan = dryRunPlan(plan, report);
      report.durationMs = Date.now() - started;
      return report;
    } finally {
      opts.out.done();
      store.close();
    }
  }
  const store = openStore(opts.storeDir, { command: 'unshare', lock: 'shared', onWait: (m) => opts.out.note(m) });
  try {
    return await recordedRun(
      store,
      'unshare',
      Date.now,
      async () => {
        const plan = planFor(store.ledger, targets, opts);
        report.leftoversRemoved = removeSwapLeftovers(leftoversOf(plan));
        await applyUnshare(plan, store.writer, report, opts);
        report.durationMs = Date.now() - started;
        return report;
      },
      (r) => ({ exitCode: r.failures.length > 0 ? 1 : 0, figures: r }),
    );
  } finally {
    opts.out.done();
    store.close();
  }
}

/** The ledger's links under the targets, observed on disk, and what to do with each. */
function planFor(ledger: Ledger, targets: readonly Target[], opts: UnshareOptions): UnsharePlan {
  const rows: LinkRow[] = [];
  if (opts.all) rows.push(...ledger.links());
  for (const t of targets) {
    const found = linksOf(t, ledger);
    if (found.length === 0) {
      if (t.kind === 'missing') throw usageError(`${t.given}: no such file or folder, and nothing linked there in the ledger`);
      opts.out.note(`${t.given}: no file there is linked to the store`);
    }
    rows.push(...found);
  }
  const roots = ledger.roots();
  const observed = observeLinks(rows, ledger, opts.storeDir, roots);
  const folders = targets.filter((t) => t.kind !== 'file').flatMap((t) => [...spellings(t.abs)]);
  const plan = planUnshare({ links: observed, roots, folders, all: opts.all, sep: path.sep });
  for (const e of plan.enclosingRoots) {
    opts.out.warn(
      `${e.path} is inside the registered root ${e.root}: a later \`pycstore dedup\` without PATH links it again ` +
        `(to stop that, unshare the whole root: pycstore unshare ${e.root})`,
    );
  }
  return plan;
}

/** Swap temps that a killed earlier run left in the folders of the files being unshared (their process is gone). */
function leftoversOf(plan: UnsharePlan): string[] {
  return findSwapLeftovers(new Set(plan.actions.map((a) => path.dirname(a.path))));
}

function dryRunPlan(plan: UnsharePlan, report: UnshareReport): NonNullable<UnshareReport['plan']> {
  const copy = plan.actions.filter((a) => a.action === 'copy').map((a) => a.path);
  const drop = plan.actions.flatMap((a) => (a.action === 'drop' ? [{ path: a.path, reason: a.reason }] : []));
  for (const a of plan.actions) if (a.action === 'skip') report.failures.push({ path: a.path, reason: 'unverified', detail: a.detail });
  return {
    unshared: copy.length,
    alreadyPrivate: drop.filter((d) => d.reason === 'private').length,
    gone: drop.filter((d) => d.reason === 'gone').length,
    linksDropped: copy.length + drop.length,
    rootsDropped: plan.dropRoots.length,
    copy,
    drop,
    roots: plan.dropRoots.map((r) => r.path),
  };
}

async function applyUnshare(plan: UnsharePlan, writer: LedgerWriter<LedgerWrites>, report: UnshareReport, opts: UnshareOptions): Promise<void> {
  const out = opts.out;
  const checkpoint = checkpointEvery(32);
  let done = 0;
  const progress = progressOf(out, 'unshare', 'files', plan.actions.length);
  for (const a of plan.actions) {
    await checkpoint();
    if (opts.signal?.aborted) {
      report.interrupted = true;
      return; // the rows of the files done are in the writer's batch (written when the store closes); the roots stay
    }
    progress.update(++done);
    if (a.action === 'skip') {
      report.failures.push({ path: a.path, reason: 'unverified', detail: a.detail });
      continue;
    }
    if (a.action === 'drop') {
      if (a.reason === 'gone') report.gone++;
      else report.alreadyPrivate++;
    } else {
      const r = await makePrivateCopy(a.path, a.fp, a.row.kind, a.mode, { uid: a.uid, gid: a.gid }, (b) => withRememberedHeader(b, a.row.header, a.source));
      if (!r.ok) {
        report.failures.push({ path: a.path, reason: r.reason, detail: `${r.detail}; left as it is (run pycstore unshare again)` });
        continue;
      }
      report.unshared++;
      report.bytesAdded += allocatedBytes(r.stat);
    }
    // The file is private (or gone) from here on: its row goes. A crash before this batch is written
    // leaves rows of files that are private already, which the next unshare drops.
    const id = a.row.id;
    writer.add((w) => w.forgetLinkById(id));
    report.linksDropped++;
  }
  writer.now((w) => plan.dropRoots.forEach((r) => w.forgetRoot(r.id)));
  report.rootsDropped = plan.dropRoots.length;
}
