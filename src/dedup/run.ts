/**
 * `dedup` as a library call. A run streams through its steps (types.ts):
 * collect + classify folder by folder into a compact table of the files to
 * read; then the table's groups through analyze (worker threads) → choose →
 * plan → apply, a group linked as soon as it is read (stream.ts); then --fill's
 * targets the same way; then the last durability barrier and the record.
 */
import { availableParallelism } from 'node:os';
import { statSync } from 'node:fs';
import path from 'node:path';
import { rawTransform } from '../canonical/raw.js';
import { canonicalTransform } from '../canonical/transform.js';
import type { InvalidationPolicy, Transform } from '../canonical/types.js';
import { errnoCode, PycstoreError, usageError } from '../errors.js';
import type { LinkMode } from '../fs/link.js';
import { freeBytes, isNoSpaceCode } from '../fs/free-space.js';
import { initHash } from '../hash/xxhash.js';
import type { Ledger, LedgerWriter, LedgerWrites } from '../ledger/ledger.js';
import { CanonicalCompiler } from '../python/compile.js';
import type { FoundPyc, PycDir, ScanRoot } from '../python/scan.js';
import { addStoreRoot, openStore, openStoreReadOnly, recordedRun, type OpenStore, type WritableStore } from '../session/open.js';
import { usableStoreRoots } from '../session/roots.js';
import { ledgerPath } from '../store/location.js';
import { progressOf, type Output } from '../util/output.js';
import { formatBytes, formatCount } from '../util/format.js';
import { Applier } from './apply.js';
import type { ObjectStore } from './objects.js';
import { classifyDir, classifyWithoutLedger, multiLinkInode, settleMulti, type Classified, type ClassifyContext } from './classify.js';
import { collect, resolveRoots, type Collected } from './collect.js';
import { stopping, type RunContext } from './context.js';
import { addFillTargets, emptyFillSummary, fillReport } from './fill.js';
import type { Plan, StoreRootInfo } from './plan.js';
import { makeAnalyzer, MIN_FILES_FOR_WORKERS, type Analyzer, type FillStore } from './pool.js';
import { adopt, recordScanned } from './record.js';
import { countSkip, emptyReport, type DedupReport } from './report.js';
import { streamGroups, type StreamOptions } from './stream.js';
import { FileTable } from './table.js';

export type { DedupReport } from './report.js';

export interface DedupOptions {
  readonly storeDir: string;
  readonly paths: readonly string[];
  readonly dryRun?: boolean;
  readonly linkMode?: LinkMode;
  /** Worker threads analysing pycs (default: the machine's cores). */
  readonly jobs?: number;
  readonly pycachePrefix?: string | undefined;
  readonly storeRoots?: readonly string[];
  /** Header policy for canonical objects (default auto). */
  readonly invalidation?: InvalidationPolicy;
  /** Give every source in the scanned venvs that has no fresh pyc one, from the store or compiled once. */
  readonly fill?: boolean;
  /** Store pycs byte for byte instead of in canonical form (only byte-identical pycs are shared). */
  readonly byteIdentical?: boolean;
  /** Scan the registered roots too, besides `paths` (a bare dedup: the discovered environments and the registered roots). */
  readonly alsoRegistered?: boolean;
  /** Folders the scanner may enter (--exclude globs, conda package caches); node_modules and VCS folders never. */
  readonly descend?: ((dir: string) => boolean) | undefined;
  readonly out: Output;
  /**
   * Stop taking new work when it aborts: swaps under way finish (no temp left, no path missing),
   * every link made is recorded, and the report says `stopped: interrupted`.
   */
  readonly signal?: AbortSignal | undefined;
  /** Test seam and the canonical-bytecode hook: how pycs become objects. */
  readonly transform?: Transform;
  readonly now?: () => number;
  /** Test seam: runs after each group is planned, before it is applied (e.g. to change a file in the window). */
  readonly afterPlan?: (plan: Plan) => void | Promise<void>;
}

/** A run's settings, fixed before the store is opened. */
interface Setup {
  readonly opts: DedupOptions;
  readonly out: Output;
  readonly dryRun: boolean;
  readonly policy: InvalidationPolicy;
  readonly transform: Transform;
  readonly compiler: CanonicalCompiler;
  readonly now: () => number;
  readonly started: number;
}

export async function runDedup(opts: DedupOptions): Promise<DedupReport> {
  const s = setUp(opts);
  await initHash();
  try {
    if (s.dryRun) {
      const store = openStoreReadOnly(opts.storeDir);
      try {
        return await dedupIn(s, store);
      } finally {
        store?.close();
      }
    }
    const store = openStore(opts.storeDir, { command: 'dedup', lock: 'shared', onWait: (m) => s.out.note(m) });
    try {
      return await recordedRun(store, 'dedup', s.now, () => dedupIn(s, store), (r) => ({
        exitCode: r.failures.length > 0 || r.stopped?.reason === 'no-space' ? 1 : r.stopped ? 130 : 0,
        figures: { ...r, plan: undefined },
      }));
    } catch (err) {
      throw ledgerFull(err, opts.storeDir) ?? err;
    } finally {
      store.close();
    }
  } finally {
    s.out.done();
    await s.compiler.close();
  }
}

function setUp(opts: DedupOptions): Setup {
  const policy = opts.invalidation ?? 'auto';
  const transform = opts.transform ?? (opts.byteIdentical ? rawTransform : canonicalTransform(policy));
  if (policy === 'unchecked-hash') {
    opts.out.warn('--invalidation unchecked-hash: these pycs are never checked against their source; an edited source keeps running the old code until its pyc is deleted');
  }
  if (opts.pycachePrefix !== undefined && !path.isAbsolute(opts.pycachePrefix)) {
    throw usageError('--pycache-prefix needs an absolute path (as PYTHONPYCACHEPREFIX)');
  }
  if (opts.fill && transform.name !== 'canonical') throw usageError('--fill needs canonical pycs (drop --byte-identical)');
  return {
    opts,
    out: opts.out,
    dryRun: opts.dryRun ?? false,
    policy,
    transform,
    compiler: new CanonicalCompiler(),
    now: opts.now ?? Date.now,
    started: Date.now(),
  };
}

/** The store roots files can be linked into: the usable ones (after registering --store-root), or for a dry run what they would be. */
function storeRootsFor(s: Setup, store: OpenStore | WritableStore | undefined): StoreRootInfo[] {
  const extra = s.opts.storeRoots ?? [];
  if (store && 'writer' in store) for (const r of extra) addStoreRoot(store, r);
  const roots: StoreRootInfo[] = store
    ? usableStoreRoots(store.ledger, store.dir, (root, why) => s.out.warn(`store root ${root}: ${why}; files on its filesystem are skipped`))
    : [{ id: 0, path: s.opts.storeDir, dev: devOfNearest(s.opts.storeDir) }];
  if (s.dryRun) for (const r of extra) roots.push({ id: -1 - roots.length, path: path.resolve(r), dev: devOfNearest(r) });
  return roots;
}

/** Where classified pycs go: counted, adopted, or into the table. */
interface Sink {
  readonly s: Setup;
  readonly writer: LedgerWriter<LedgerWrites> | undefined;
  readonly rootIds: readonly number[];
  readonly table: FileTable;
  readonly report: DedupReport;
}

function place(k: Sink, p: FoundPyc, c: Classified, when: number): void {
  if (c.state === 'shared') {
    k.report.shared++;
    if (c.adopt && k.writer) adopt(k.writer, p.path, c.objectId, p.stat!.fp, k.rootIds[p.rootIndex] ?? null, when);
  } else if (c.state === 'known-skip') countSkip(k.report, c.reason);
  else if (c.state === 'gone') countSkip(k.report, 'changed');
  else {
    if (c.moved) k.report.headerMoved = (k.report.headerMoved ?? 0) + 1;
    k.table.add({ path: p.path, source: p.source, rootIndex: p.rootIndex, relName: p.relName, name: p.name });
  }
}

/** Which shared objects' files move to another header (classify.ts): auto's conflicts, or every header but --invalidation's. */
function movesOf(s: Setup, ledger: Ledger): (objectId: number) => boolean {
  if (s.transform.name !== 'canonical') return () => false;
  if (s.policy === 'auto') {
    const conflicts = new Set(ledger.timestampObjectsInConflict());
    return (id) => conflicts.has(id);
  }
  const moves = new Map<number, boolean>();
  return (id) => {
    let m = moves.get(id);
    if (m === undefined) {
      const o = ledger.objectById(id);
      m = o !== undefined && o.invalidation !== s.policy;
      moves.set(id, m);
    }
    return m;
  };
}

/**
 * Steps 1 and 2: the scan, each folder classified as it comes (in batches, one read transaction each); the
 * files to read go to the table. Pycs with other names that are no store object wait for the end of the
 * scan (linked-elsewhere needs every name in the run counted); there are few of them.
 */
function scanAndClassify(k: Sink, roots: readonly ScanRoot[], store: OpenStore | undefined): Collected {
  const ledger = store?.ledger;
  const ctx: ClassifyContext | undefined = ledger && { ledger, inodes: ledger.objectInodes(), moves: movesOf(k.s, ledger) };
  const names = new Map<string, number>();
  const multi: { readonly p: FoundPyc; readonly c: Extract<Classified, { state: 'read' | 'known-skip' }> }[] = [];
  let batch: PycDir[] = [];
  let files = 0;
  const classifyBatch = (): void => {
    const dirs = batch;
    batch = [];
    files = 0;
    const classes: Classified[][] = ctx ? ctx.ledger.reading(() => dirs.map((d) => classifyDir(d, ctx))) : dirs.map(classifyWithoutLedger);
    const when = k.s.now();
    dirs.forEach((d, i) =>
      d.pycs.forEach((p, j) => {
        const c = classes[i]![j]!;
        const inode = multiLinkInode(p);
        if (inode !== undefined) names.set(inode, (names.get(inode) ?? 0) + 1);
        if ((c.state === 'read' || c.state === 'known-skip') && c.multi) multi.push({ p, c });
        else place(k, p, c, when);
      }),
    );
  };
  const scanning = progressOf(k.s.out, 'scanning', 'folders');
  const collected = collect(
    roots,
    { removeLeftovers: !k.s.dryRun, descend: k.s.opts.descend, onProgress: (n, dirs) => scanning.update(dirs, `${formatCount(n)} pycs`) },
    (d) => {
      batch.push(d);
      files += d.pycs.length;
      if (files >= 1024) classifyBatch();
    },
  );
  classifyBatch();
  const when = k.s.now();
  for (const { p, c } of multi) place(k, p, settleMulti(p, c, names), when);
  // A folder the scan could not read hides pycs from the run: a failure (exit 1), each with its path.
  for (const e of collected.errors) k.report.failures.push({ path: e.path, reason: 'unreadable', detail: e.reason });
  k.report.files = collected.files;
  k.report.ignored = collected.ignored;
  return collected;
}

async function dedupIn(s: Setup, store: OpenStore | WritableStore | undefined): Promise<DedupReport> {
  const { opts } = s;
  const writer = store && 'writer' in store ? store.writer : undefined;
  const roots = resolveRoots(opts.paths, store?.ledger.roots() ?? [], opts.pycachePrefix, opts.alsoRegistered ?? false);
  const storeRoots = storeRootsFor(s, store);
  const rootIds = writer ? writer.now((w) => roots.map((r) => w.addRoot(r.path, r.pycachePrefix, s.now()))) : [];
  const report = emptyReport(roots.map((r) => r.path), s.dryRun);
  const table = new FileTable();
  const collected = scanAndClassify({ s, writer, rootIds, table, report }, roots, store);
  const fillStore: FillStore | undefined =
    opts.fill && store ? { lookup: store.ledger, roots: new Map(storeRoots.map((r) => [r.id, r.path])), ledgerFile: writer ? ledgerPath(store.dir) : undefined } : undefined;
  const analyzerFor = (files: number): Analyzer => makeAnalyzer({ jobs: opts.jobs ?? availableParallelism(), transform: s.transform, policy: s.policy, files, store: fillStore });
  const analyzer = analyzerFor(table.size);
  const run: RunContext = {
    out: s.out,
    dryRun: s.dryRun,
    policy: s.policy,
    transform: s.transform,
    canonical: s.transform.name === 'canonical',
    table,
    analyzer,
    fillStore,
    compiler: s.compiler,
    ledger: store?.ledger,
    writer,
    storeRoots,
    storeUid: store?.uid ?? process.geteuid?.() ?? 0,
    rootPaths: roots.map((r) => r.path),
    rootIds,
    report,
    fill: opts.fill ? emptyFillSummary() : undefined,
    stale: new Set(),
    folderDevs: new Map(),
    now: s.now,
    signal: opts.signal,
    stop: undefined,
    filled: 0,
    analysed: 0,
  };
  const applier = writer ? new Applier(run, opts.linkMode ?? 'auto') : undefined;
  try {
    await streamAll(s, run, roots, applier, analyzerFor);
  } catch (err) {
    throw noSpaceError(err, run, applier?.objects) ?? err;
  } finally {
    await run.analyzer.close();
  }
  return finishReport(s, run, collected, applier);
}

/** Steps 3 to 5 for the table's groups, then --fill's, then the last barrier and the record. */
async function streamAll(s: Setup, run: RunContext, roots: readonly ScanRoot[], applier: Applier | undefined, analyzerFor: (files: number) => Analyzer): Promise<void> {
  const ledger: Ledger | undefined = run.ledger;
  const opts: StreamOptions = {
    plan: {
      storeRoots: run.storeRoots,
      objectExists: (key, rootId) => (ledger ? ledger.object(key, rootId, 0) !== undefined : false),
      storeUid: run.storeUid,
    },
    applier,
    afterPlan: s.opts.afterPlan,
    summary: new Map(),
  };
  try {
    await streamGroups(run, run.table.groups(0), opts);
    if (run.fill && !stopping(run)) {
      const from = run.table.size;
      addFillTargets(run.table, roots, run.stale, run.fill, (e) => s.out.warn(`${e.path}: cannot read directory: ${e.code}`));
      for (const u of run.fill.unknownVersions) s.out.warn(`--fill: ${u}: not a Python version pycstore handles (3.8–3.15); not filled`);
      // A run with few pycs read them in this thread; its --fill targets may be many: they get a pool.
      if (run.analyzer.threads === 0 && run.table.size - from >= MIN_FILES_FOR_WORKERS) {
        await run.analyzer.close();
        run.analyzer = analyzerFor(run.table.size - from);
      }
      await streamGroups(run, run.table.groups(from), opts);
    }
  } finally {
    await applier?.finish();
    run.writer?.flush();
  }
  recordScanned(run);
}

function finishReport(s: Setup, run: RunContext, collected: Collected, applier: Applier | undefined): DedupReport {
  const report = run.report;
  if (run.fill) {
    report.fill = fillReport(run.fill, run.filled);
    if (run.fill.problems.length) {
      s.out.warn(`--fill could not compile ${run.fill.problems.length} sources (CPython can't either; they stay without pyc), e.g. ${run.fill.problems[0]}`);
    }
  } else if (collected.withoutPycs.length > 0) report.withoutPycs = [...collected.withoutPycs];
  if (run.stop) report.stopped = stopMessage(run, applier?.objects);
  if (run.stop?.kind === 'interrupted') report.interrupted = true;
  report.recompiled = s.compiler.compiled;
  report.invalidation = run.canonical ? s.policy : 'as-is';
  report.durationMs = Date.now() - s.started;
  return report;
}

/** The one line a stopped run ends with. */
function stopMessage(run: RunContext, objects: ObjectStore | undefined): NonNullable<DedupReport['stopped']> {
  const done = `${formatCount(run.report.linked + run.filled)} linked so far`;
  if (run.stop!.kind === 'interrupted') return { reason: 'interrupted', message: `interrupted: ${done}; run again to finish` };
  const { root, errno } = run.stop as Extract<RunContext['stop'], { kind: 'no-space' }>;
  return {
    reason: 'no-space',
    message: `no space left on the filesystem of the store ${root} (${errno}): ${done}; about ${formatBytes(spaceNeeded(run, objects))} more is needed there — free some space (or put the store elsewhere: --store DIR), then run the same command again`,
  };
}

/** What the rest of the run would take: new objects at the rate of the files analysed so far (at least the one that didn't fit), and a MiB for the ledger. */
function spaceNeeded(run: RunContext, objects: ObjectStore | undefined): number {
  const left = Math.max(0, run.table.size - run.analysed);
  const rate = run.analysed > 0 && objects ? objects.bytesTaken / run.analysed : 0;
  return Math.max(objects?.noRoomFor ?? 0, Math.ceil(rate * left)) + 1024 * 1024;
}

/** The ledger's own writes met a full disk before or after the work (recording the run, registering roots): one line with what it needs. */
function ledgerFull(err: unknown, storeDir: string): unknown {
  if (err instanceof PycstoreError) return undefined; // said already (noSpaceError)
  const code = errnoCode(err);
  if (!isNoSpaceCode(code)) return undefined;
  return new PycstoreError('ENOSPC', `no space left on the filesystem of the store ${storeDir} (${formatBytes(freeBytes(storeDir) ?? 0)} free, ${code}): about ${formatBytes(1024 * 1024)} more is needed there for the ledger`, {
    hint: 'free some space there (or put the store elsewhere: --store DIR), then run the same command again: what was linked so far is recorded',
    cause: err,
  });
}

/** A full disk met outside the object writes (the ledger's own writes: SQLITE_FULL): the same one line, as an ENOSPC error. */
function noSpaceError(err: unknown, run: RunContext, objects: ObjectStore | undefined): PycstoreError | undefined {
  const code = errnoCode(err);
  if (!isNoSpaceCode(code)) return undefined;
  const root = run.storeRoots[0]?.path ?? '';
  const done = `${formatCount(run.report.linked + run.filled)} linked so far`;
  return new PycstoreError('ENOSPC', `no space left on the filesystem of the store ${root} (${formatBytes(freeBytes(root) ?? 0)} free, ${code}): ${done}; about ${formatBytes(spaceNeeded(run, objects))} more is needed there`, {
    hint: 'free some space there (or put the store elsewhere: --store DIR), then run the same command again: what was linked so far is recorded',
    cause: err,
  });
}

function devOfNearest(p: string): string {
  let cur = path.resolve(p);
  for (;;) {
    try {
      return statSync(cur, { bigint: true }).dev.toString();
    } catch {
      const parent = path.dirname(cur);
      if (parent === cur) throw new PycstoreError('EINTERNAL', `cannot stat any parent of ${p}`);
      cur = parent;
    }
  }
}
