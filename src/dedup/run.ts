/**
 * `dedup` as a library call, driving its steps over the whole run:
 * collect → classify → analyze (+ fill) → plan → (dry run: stop) → apply → record.
 * Each step lives in its own module and takes one item at a time (types.ts).
 */
import { statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pLimit from 'p-limit';
import { rawTransform } from '../canonical/raw.js';
import { canonicalTransform } from '../canonical/transform.js';
import type { InvalidationPolicy, Transform, Variant } from '../canonical/types.js';
import { PycstoreError, usageError } from '../errors.js';
import { makeLinker, type Linker, type LinkMode } from '../fs/link.js';
import { mountPointOf } from '../fs/mounts.js';
import { initHash } from '../hash/xxhash.js';
import type { Ledger } from '../ledger/ledger.js';
import { CanonicalCompiler } from '../python/compile.js';
import type { Candidate } from '../python/scan.js';
import { addStoreRoot, openStore, openStoreReadOnly, recordedRun, type OpenStore, type WritableStore } from '../session/open.js';
import { usableStoreRoots } from '../session/roots.js';
import { progressOf, type Output } from '../util/output.js';
import { formatBytes, formatCount } from '../util/format.js';
import { analyzeCandidate, recompileWith, type Recover } from './analyze.js';
import { applyPlan } from './apply.js';
import { classifyAll, type ClassifiedAll } from './classify.js';
import { collect } from './collect.js';
import { analyzeFillTarget, findFillTargets, type FillSummary } from './fill.js';
import { makePlan, type Plan, type StoreRootInfo } from './plan.js';
import { chooseVariants, timestampObjectsToLeave } from './policy.js';
import { ByteCache, TouchedInodes } from './rebuild.js';
import { recordLearnt, type SeenSkip } from './record.js';
import { countSkip, emptyReport, planSummary, type DedupReport } from './report.js';
import type { FileFacts } from './types.js';

export type { DedupReport } from './report.js';

/** What the transform made of each pyc while planning (the checked canonical body), kept for the apply step (else redone). */
const CACHE_BUDGET = Math.min(512 * 1024 * 1024, Math.floor(os.totalmem() / 16));

export interface DedupOptions {
  readonly storeDir: string;
  readonly paths: readonly string[];
  readonly dryRun?: boolean;
  readonly linkMode?: LinkMode;
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
  readonly descend?: (dir: string) => boolean;
  readonly out: Output;
  /** Test seam and the canonical-bytecode hook: how pycs become objects. */
  readonly transform?: Transform;
  readonly now?: () => number;
  /** Test seam: runs between planning and acting (e.g. to change a file in the window). */
  readonly afterPlan?: (plan: Plan) => void | Promise<void>;
  /** SIGINT/SIGTERM: stop reading, or linking between two files; what is linked is recorded. */
  readonly signal?: AbortSignal | undefined;
}

/** One dedup run's settings and helpers, shared by its steps. */
interface Run {
  readonly opts: DedupOptions;
  readonly out: Output;
  readonly dryRun: boolean;
  readonly policy: InvalidationPolicy;
  readonly transform: Transform;
  readonly canonical: boolean;
  readonly compiler: CanonicalCompiler;
  readonly recover: Recover | undefined;
  readonly limit: ReturnType<typeof pLimit>;
  readonly cache: ByteCache;
  readonly now: () => number;
  readonly started: number;
}

export async function runDedup(opts: DedupOptions): Promise<DedupReport> {
  const run = setUp(opts);
  await initHash();
  try {
    if (run.dryRun) {
      const store = openStoreReadOnly(opts.storeDir);
      try {
        return await dedupIn(run, store);
      } finally {
        store?.close();
      }
    }
    const store = openStore(opts.storeDir, { command: 'dedup', lock: 'shared', onWait: (m) => run.out.note(m) });
    try {
      return await recordedRun(store, 'dedup', run.now, () => dedupIn(run, store), (r) => ({
        exitCode: r.failures.length > 0 ? 1 : 0,
        figures: { ...r, plan: undefined },
      }));
    } finally {
      store.close();
    }
  } finally {
    run.out.done();
    await run.compiler.close();
  }
}

function setUp(opts: DedupOptions): Run {
  const policy = opts.invalidation ?? 'auto';
  const compiler = new CanonicalCompiler();
  const transform = opts.transform ?? (opts.byteIdentical ? rawTransform : canonicalTransform({ policy, fallbackBody: (k) => compiler.body(k) }));
  const canonical = transform.name === 'canonical';
  const dryRun = opts.dryRun ?? false;
  if (policy === 'unchecked-hash') {
    opts.out.warn('--invalidation unchecked-hash: these pycs are never checked against their source; an edited source keeps running the old code until its pyc is deleted');
  }
  if (opts.pycachePrefix !== undefined && !path.isAbsolute(opts.pycachePrefix)) {
    throw usageError('--pycache-prefix needs an absolute path (as PYTHONPYCACHEPREFIX)');
  }
  return {
    opts,
    out: opts.out,
    dryRun,
    policy,
    transform,
    canonical,
    compiler,
    recover: canonical ? recompileWith(compiler) : undefined,
    limit: pLimit(Math.max(1, opts.jobs ?? 8)),
    cache: new ByteCache(dryRun ? 0 : CACHE_BUDGET),
    now: opts.now ?? Date.now,
    started: Date.now(),
  };
}

async function dedupIn(run: Run, store: OpenStore | WritableStore | undefined): Promise<DedupReport> {
  const { opts, out } = run;
  const writable = store && 'writer' in store ? store : undefined;
  const ledger = store?.ledger;
  const scanning = progressOf(out, 'scanning', 'folders');
  const collected = collect({
    paths: opts.paths,
    registered: ledger?.roots() ?? [],
    alsoRegistered: opts.alsoRegistered ?? false,
    pycachePrefix: opts.pycachePrefix,
    removeLeftovers: !run.dryRun,
    ...(opts.descend ? { descend: opts.descend } : {}),
    onProgress: (files, dirs) => scanning.update(dirs, `${formatCount(files)} pycs`),
  });
  const storeRoots = storeRootsFor(run, store);
  const report = emptyReport(collected.roots.map((r) => r.path), collected.candidates.length, collected.ignored, run.dryRun);
  // A folder the scan could not read hides pycs from the run: a failure (exit 1), each with its path.
  for (const e of collected.errors) report.failures.push({ path: e.path, reason: 'unreadable', detail: e.reason });
  const rootIds = writable ? writable.writer.now((w) => collected.roots.map((r) => w.addRoot(r.path, r.pycachePrefix, run.now()))) : [];

  const classes = classifyAll(collected.candidates, ledger);
  report.shared = classes.sharedCount;
  for (const r of classes.skipped) countSkip(report, r);
  const read = await analyzeAll(run, classes.toRead, report);
  if (opts.fill) await fillAll(run, collected, read, ledger, storeRoots, report);
  read.facts.sort(byPath);
  const plan = await planRun(run, read.facts, classes, ledger, storeRoots, store?.uid, report);
  for (const o of plan.otherFilesystems) report.otherFilesystems.push({ mount: mountPointOf(o.example), files: o.files, bytes: o.bytes });

  if (!writable) {
    for (const s of plan.skips) countSkip(report, s.reason);
    report.plan = planSummary(plan);
  } else {
    await opts.afterPlan?.(plan);
    if (!opts.signal?.aborted) await applyAll(run, plan, writable, rootIds, report);
    if (opts.signal?.aborted) report.interrupted = true;
    recordLearnt(writable.writer, { adopt: classes.adopt, seen: read.seen, rootIds, facts: read.facts, canonical: run.canonical }, run.now());
  }
  if (read.fillProblems.length) {
    out.warn(`--fill could not compile ${read.fillProblems.length} sources (CPython can't either; they stay without pyc), e.g. ${read.fillProblems[0]}`);
  }
  report.recompiled = run.compiler.compiled;
  report.invalidation = run.canonical ? run.policy : 'as-is';
  report.durationMs = Date.now() - run.started;
  return report;
}

/** The store roots files can be linked into: the usable ones (after registering --store-root), or for a dry run what they would be. */
function storeRootsFor(run: Run, store: OpenStore | WritableStore | undefined): StoreRootInfo[] {
  const extra = run.opts.storeRoots ?? [];
  if (store && 'writer' in store) for (const r of extra) addStoreRoot(store, r);
  const roots: StoreRootInfo[] = store
    ? usableStoreRoots(store.ledger, store.dir, (root, why) => run.out.warn(`store root ${root}: ${why}; files on its filesystem are skipped`))
    : [{ id: 0, path: run.opts.storeDir, dev: devOfNearest(run.opts.storeDir) }];
  if (run.dryRun) for (const r of extra) roots.push({ id: -1 - roots.length, path: path.resolve(r), dev: devOfNearest(r) });
  return roots;
}

/** What reading the files established. */
interface Read {
  readonly facts: FileFacts[];
  /** Skips to remember in the ledger. */
  readonly seen: SeenSkip[];
  /** Pycs found stale (--fill puts fresh ones in their place). */
  readonly stale: Set<string>;
  readonly fillProblems: string[];
}

async function analyzeAll(run: Run, toRead: readonly Candidate[], report: DedupReport): Promise<Read> {
  const read: Read = { facts: [], seen: [], stale: new Set(), fillProblems: [] };
  let analyzed = 0;
  const reading = progressOf(run.out, 'reading', 'pycs', toRead.length);
  await Promise.all(
    toRead.map((cand) =>
      run.limit(async () => {
        if (run.opts.signal?.aborted) return; // stop reading: nothing is linked after an interrupt
        const a = await analyzeCandidate(cand, run.transform, run.recover);
        report.bytesRead += a.bytesRead;
        analyzed++;
        reading.update(analyzed, formatBytes(report.bytesRead));
        if (a.ok) {
          read.facts.push(a.facts);
          run.cache.put(cand.path, a.prepared);
          return;
        }
        countSkip(report, a.reason);
        if (a.reason === 'stale') read.stale.add(cand.path);
        if (a.fp && a.reason !== 'changed' && a.reason !== 'unreadable') read.seen.push({ path: cand.path, fp: a.fp, sourceFp: a.sourceFp, reason: a.reason });
      }),
    ),
  );
  return read;
}

/** --fill: sources with no fresh pyc join the facts as files to create. */
async function fillAll(
  run: Run,
  collected: { readonly roots: readonly { path: string; pycachePrefix: string | null }[]; readonly candidates: readonly Candidate[] },
  read: Read,
  ledger: Ledger | undefined,
  storeRoots: readonly StoreRootInfo[],
  report: DedupReport,
): Promise<void> {
  if (!run.canonical) throw usageError('--fill needs canonical pycs (drop --byte-identical)');
  const known = new Set(collected.candidates.map((c) => c.path));
  const summary: FillSummary = { venvs: 0, targets: 0, fromStore: 0, compiled: 0, skipped: {}, unknownVersions: [] };
  const targets = findFillTargets(collected.roots, known, read.stale, summary, (e) => run.out.warn(`${e.path}: cannot read directory: ${e.code}`));
  for (const u of summary.unknownVersions) run.out.warn(`--fill: ${u}: not a Python version pycstore handles (3.8–3.15); not filled`);
  const storeRootPaths = new Map(storeRoots.map((r) => [r.id, r.path]));
  let done = 0;
  const filling = progressOf(run.out, 'filling', 'sources without a pyc', targets.length);
  await Promise.all(
    targets.map((t) =>
      run.limit(async () => {
        const a = await analyzeFillTarget(t, { ledger, storeRoots: storeRootPaths, transform: run.transform, compiler: run.compiler, summary });
        report.bytesRead += a.bytesRead;
        done++;
        filling.update(done);
        if (a.ok) {
          read.facts.push(a.facts);
          run.cache.put(t.cand.path, a.prepared);
        } else {
          summary.skipped[a.reason] = (summary.skipped[a.reason] ?? 0) + 1;
          if (a.reason === 'compile-error' || a.reason === 'no-interpreter') read.fillProblems.push(`${t.cand.source}: ${a.detail}`);
        }
      }),
    ),
  );
  report.fill = { venvs: summary.venvs, sources: summary.targets, fromStore: summary.fromStore, compiled: summary.compiled, filled: 0, skipped: summary.skipped };
}

/**
 * The plan. With the auto header policy, code whose copies no longer agree on their source's mtime and
 * size goes checked-hash for all copies: the pycs already shared through a timestamp object of that
 * code are read again and moved to the checked-hash object too, so all copies share one object.
 */
async function planRun(
  run: Run,
  facts: FileFacts[],
  classes: ClassifiedAll,
  ledger: Ledger | undefined,
  storeRoots: readonly StoreRootInfo[],
  storeUid: number | undefined,
  report: DedupReport,
): Promise<Plan> {
  const storedWithBody = (magic: number, bodyHash: string) =>
    (ledger?.objectsWithBody(magic, bodyHash) ?? []).map((o) => ({ id: o.id, invalidation: o.invalidation, key: { hash: o.hash, size: o.size } }));
  const choose = (fs: readonly FileFacts[]): Variant[] => (run.canonical ? chooseVariants(fs, run.policy, storedWithBody) : fs.map((f) => f.variants[0]!));
  const moving = run.canonical && ledger ? sharedToMove(run, facts, choose, classes, ledger, storedWithBody) : [];
  await Promise.all(
    moving.map((cand) =>
      run.limit(async () => {
        const a = await analyzeCandidate(cand, run.transform, run.recover);
        report.bytesRead += a.bytesRead;
        if (!a.ok) return;
        facts.push(a.facts);
        run.cache.put(cand.path, a.prepared);
        report.shared--;
        report.headerMoved = (report.headerMoved ?? 0) + 1;
      }),
    ),
  );
  if (moving.length > 0) facts.sort(byPath);
  return makePlan(facts, {
    storeRoots,
    objectExists: (key, rootId) => (ledger ? ledger.object(key, rootId, 0) !== undefined : false),
    storeUid: storeUid ?? process.geteuid?.() ?? 0,
    choose,
  });
}

/**
 * Shared pycs whose header the policy moves, read again to be linked to the object of the new header:
 * auto moves the timestamp objects whose copies disagree (policy.ts); an explicit --invalidation X
 * moves every shared pyc whose object has another header than X.
 */
function sharedToMove(
  run: Run,
  facts: FileFacts[],
  choose: (fs: readonly FileFacts[]) => Variant[],
  classes: ClassifiedAll,
  ledger: Ledger,
  storedWithBody: Parameters<typeof timestampObjectsToLeave>[2],
): Candidate[] {
  if (run.policy === 'auto') {
    const leaving = timestampObjectsToLeave(facts, choose(facts), storedWithBody, ledger.timestampObjectsInConflict());
    return [...leaving].flatMap((id) => classes.shared.get(id) ?? []);
  }
  return [...classes.shared].flatMap(([id, cands]) => (ledger.objectById(id)?.invalidation === run.policy ? [] : cands));
}

async function applyAll(run: Run, plan: Plan, store: WritableStore, rootIds: readonly number[], report: DedupReport): Promise<void> {
  const linkers = new Map<number, Linker>();
  let done = 0;
  const linking = progressOf(run.out, 'linking', 'pycs', plan.toLink);
  const applied = await applyPlan(plan, {
    ledger: store.ledger,
    writer: store.writer,
    transform: run.transform,
    linkerOf: (root) => linkers.get(root.id) ?? linkers.set(root.id, makeLinker(run.opts.linkMode ?? 'auto')).get(root.id)!,
    rootIds,
    now: run.now,
    cache: run.cache,
    inodes: new TouchedInodes(),
    onProgress: (n) => {
      done += n;
      linking.update(done);
    },
    onWarn: (m) => run.out.warn(m),
    signal: run.opts.signal,
  });
  report.linked = applied.linked;
  report.bytesSaved = applied.bytesSaved;
  report.bytesRead += applied.bytesRead;
  report.objectsCreated = applied.objectsCreated;
  report.failures.push(...applied.failures);
  if (report.fill) report.fill.filled = applied.filled;
  report.linkKinds = applied.linkKinds;
  for (const s of applied.skips) countSkip(report, s.reason);
  for (const f of applied.failures) countSkip(report, f.reason);
}

const byPath = (a: FileFacts, b: FileFacts): number => (a.cand.path < b.cand.path ? -1 : a.cand.path > b.cand.path ? 1 : 0);

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
