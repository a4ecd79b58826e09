/**
 * `dedup` as a library call: scan → classify → analyze → plan → (dry run: stop) → apply → record.
 */
import { existsSync, statSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pLimit from 'p-limit';
import type { Output } from '../util/output.js';
import { PycstoreError, usageError } from '../errors.js';
import { mountPointOf } from '../fs/mounts.js';
import { initHash } from '../hash/xxhash.js';
import type { Ledger } from '../ledger/ledger.js';
import { addStoreRoot, currentStoreRoots, openStore, openStoreReadOnly, type OpenStore } from '../session/open.js';
import { formatBytes, formatCount } from '../util/format.js';
import { CanonicalCompiler } from '../python/compile.js';
import type { Fingerprint } from '../fs/fingerprint.js';
import { canonicalTransform } from '../canonical/transform.js';
import { analyzeCandidate, recompileWith, type Recover } from './analyze.js';
import { chooseVariants, timestampObjectsToLeave } from './policy.js';
import { analyzeFillTarget, findFillTargets, type FillSummary } from './fill.js';
import { applyPlan, type Failure, type LinkMode } from './apply.js';
import { ByteCache } from './rebuild.js';
import { classify } from './classify.js';
import { makePlan, type Plan, type StoreRootInfo } from './plan.js';
import { scanRoots, type Candidate, type ScanRoot } from '../python/scan.js';
import { rawTransform } from '../canonical/raw.js';
import type { InvalidationPolicy, Transform, Variant } from '../canonical/types.js';
import type { FileFacts, SkipReason } from './types.js';

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
  readonly out: Output;
  /** Test seam and the canonical-bytecode hook: how pycs become objects. */
  readonly transform?: Transform;
  /** Which variant each file becomes (the header policy); default: the first. */
  readonly choose?: (facts: readonly FileFacts[], ledger: Ledger | undefined) => Variant[];
  readonly now?: () => number;
  /** Test seam: runs between planning and acting (e.g. to change a file in the window). */
  readonly afterPlan?: (plan: Plan) => void | Promise<void>;
}

export interface DedupReport {
  files: number;
  linked: number;
  shared: number;
  skipped: Record<string, number>;
  bytesRead: number;
  bytesSaved: number;
  objectsCreated: number;
  ignored: Record<string, number>;
  failures: Failure[];
  otherFilesystems: { mount: string; files: number; bytes: number }[];
  linkKinds: Record<string, string>;
  roots: string[];
  /** Header policy used ('as-is' when storing byte for byte). */
  invalidation?: string;
  /** --fill: venvs looked at, sources without a fresh pyc, bodies from the store / compiled, pycs created. */
  fill?: { venvs: number; sources: number; fromStore: number; compiled: number; filled: number; skipped: Record<string, number> };
  /** Sources recompiled by a real interpreter this run. */
  recompiled?: number;
  dryRun: boolean;
  durationMs: number;
  plan?: {
    objects: { object: string; storeRoot: string; new: boolean; invalidation: string; files: string[] }[];
    toLink: number;
    newObjects: number;
    projectedBytesSaved: number;
  };
}

function resolveRoots(paths: readonly string[], ledger: Ledger | undefined, prefix: string | undefined): ScanRoot[] {
  if (paths.length === 0) {
    const registered = ledger?.roots() ?? [];
    if (registered.length === 0) {
      throw usageError('no PATH given and no roots registered yet', 'name the venvs or folders to deduplicate: pycstore dedup ~/.venvs');
    }
    return registered.filter((r) => existsSync(r.path)).map((r) => ({ path: r.path, pycachePrefix: prefix ?? r.pycache_prefix }));
  }
  return paths.map((p) => {
    const abs = path.resolve(p);
    let st;
    try {
      st = statSync(abs);
    } catch {
      throw usageError(`${p}: no such directory`, 'give the path of a venv or of a folder holding venvs');
    }
    if (!st.isDirectory()) throw usageError(`${p}: not a directory`, 'give the path of a venv or of a folder holding venvs');
    return { path: abs, pycachePrefix: prefix ?? null };
  });
}

export async function runDedup(opts: DedupOptions): Promise<DedupReport> {
  const started = Date.now();
  const now = opts.now ?? Date.now;
  const dryRun = opts.dryRun ?? false;
  const out = opts.out;
  const policy = opts.invalidation ?? 'auto';
  const compiler = new CanonicalCompiler();
  const transform = opts.transform ?? (opts.byteIdentical ? rawTransform : canonicalTransform({ policy, fallbackBody: (k) => compiler.body(k) }));
  const canonical = transform.name === 'canonical';
  const recover: Recover | undefined = canonical ? recompileWith(compiler) : undefined;
  if (policy === 'unchecked-hash') {
    out.warn('--invalidation unchecked-hash: these pycs are never checked against their source; an edited source keeps running the old code until its pyc is deleted');
  }
  if (opts.pycachePrefix !== undefined && !path.isAbsolute(opts.pycachePrefix)) {
    throw usageError('--pycache-prefix needs an absolute path (as PYTHONPYCACHEPREFIX)');
  }
  await initHash();

  const store: OpenStore | undefined = dryRun
    ? openStoreReadOnly(opts.storeDir)
    : openStore(opts.storeDir, { command: 'dedup', lock: 'shared', onWait: (m) => out.note(m) });
  try {
    const ledger = store?.ledger;
    const roots = resolveRoots(opts.paths, ledger, opts.pycachePrefix);
    let rootIds: number[] = [];
    if (store && !dryRun) {
      for (const r of opts.storeRoots ?? []) addStoreRoot(store, r);
      rootIds = roots.map((r) => store.ledger.addRoot(r.path, r.pycachePrefix, now()));
    }
    const storeRoots: StoreRootInfo[] = store
      ? currentStoreRoots(store, (m) => out.warn(m))
      : [{ id: 0, path: opts.storeDir, dev: devOfNearest(opts.storeDir) }];
    if (dryRun) {
      for (const r of opts.storeRoots ?? []) {
        storeRoots.push({ id: -1 - storeRoots.length, path: path.resolve(r), dev: devOfNearest(r) });
      }
    }

    // 1. Scan.
    const scan = scanRoots(roots, (files, dirs) => out.progress(`scanning: ${formatCount(dirs)} folders, ${formatCount(files)} pycs`));
    for (const e of scan.errors) out.warn(`${e.path}: ${e.reason}`);
    if (!dryRun) {
      for (const f of scan.leftovers) {
        try {
          unlinkSync(f); // a swap temp left by a crashed run: a spare name of a store object
        } catch {
          // gone
        }
      }
    }

    // 2. What the ledger already knows.
    const report: DedupReport = {
      files: scan.candidates.length,
      linked: 0,
      shared: 0,
      skipped: {},
      bytesRead: 0,
      bytesSaved: 0,
      objectsCreated: 0,
      ignored: scan.ignored,
      failures: [],
      otherFilesystems: [],
      linkKinds: {},
      roots: roots.map((r) => r.path),
      dryRun,
      durationMs: 0,
    };
    const skip = (reason: string): void => {
      report.skipped[reason] = (report.skipped[reason] ?? 0) + 1;
    };
    const toRead = [];
    /** Already-shared pycs by object id: candidates for moving to a checked-hash object (see 4). */
    const sharedByObject = new Map<number, Candidate[]>();
    const staleSeen: string[] = [];
    const fillProblems: string[] = [];
    const adopt: { path: string; objectId: number; fp: Fingerprint; rootIndex: number }[] = [];
    for (const cand of scan.candidates) {
      const c = classify(cand, ledger);
      if (c.state === 'shared') {
        report.shared++;
        const same = sharedByObject.get(c.object.id);
        if (same) same.push(cand);
        else sharedByObject.set(c.object.id, [cand]);
        if (c.adopt) adopt.push({ path: cand.path, objectId: c.object.id, fp: c.fp, rootIndex: cand.rootIndex });
      } else if (c.state === 'known-skip') skip(c.reason);
      else if (c.state === 'gone') skip('changed');
      else toRead.push(cand);
    }

    // 3. Read and analyze what is new or changed.
    const limit = pLimit(Math.max(1, opts.jobs ?? 8));
    const cache = new ByteCache(dryRun ? 0 : CACHE_BUDGET);
    let analyzed = 0;
    const facts: FileFacts[] = [];
    const skipsToRecord: { path: string; fp: Fingerprint; sourceFp: string; reason: SkipReason }[] = [];
    await Promise.all(
      toRead.map((cand) =>
        limit(async () => {
          const a = await analyzeCandidate(cand, transform, recover);
          report.bytesRead += a.bytesRead;
          analyzed++;
          out.progress(`reading: ${formatCount(analyzed)}/${formatCount(toRead.length)} pycs, ${formatBytes(report.bytesRead)}`);
          if (a.ok) {
            facts.push(a.facts);
            cache.put(cand.path, a.prepared);
          } else {
            skip(a.reason);
            if (a.reason === 'stale') staleSeen.push(cand.path);
            if (a.fp && a.reason !== 'changed' && a.reason !== 'unreadable') {
              skipsToRecord.push({ path: cand.path, fp: a.fp, sourceFp: a.sourceFp, reason: a.reason });
            }
          }
        }),
      ),
    );
    // 3b. --fill: sources with no fresh pyc.
    if (opts.fill) {
      if (!canonical) throw usageError('--fill needs canonical pycs (drop --byte-identical)');
      const known = new Set(scan.candidates.map((c) => c.path));
      const stale = new Set(staleSeen);
      const summary: FillSummary = { venvs: 0, targets: 0, fromStore: 0, compiled: 0, skipped: {}, unknownVersions: [] };
      const targets = findFillTargets(roots, known, stale, summary);
      for (const u of summary.unknownVersions) out.warn(`--fill: ${u}: not a Python version pycstore handles (3.8–3.15); not filled`);
      const storeRootPaths = new Map(storeRoots.map((r) => [r.id, r.path]));
      let done = 0;
      await Promise.all(
        targets.map((t) =>
          limit(async () => {
            const a = await analyzeFillTarget(t, { ledger, storeRoots: storeRootPaths, transform, compiler, summary });
            report.bytesRead += a.bytesRead;
            done++;
            out.progress(`filling: ${formatCount(done)}/${formatCount(targets.length)} sources without a pyc`);
            if (a.ok) {
              facts.push(a.facts);
              cache.put(t.cand.path, a.prepared);
            } else {
              summary.skipped[a.reason] = (summary.skipped[a.reason] ?? 0) + 1;
              if (a.reason === 'compile-error' || a.reason === 'no-interpreter') fillProblems.push(`${t.cand.source}: ${a.detail}`);
            }
          }),
        ),
      );
      report.fill = { venvs: summary.venvs, sources: summary.targets, fromStore: summary.fromStore, compiled: summary.compiled, filled: 0, skipped: summary.skipped };
    }
    facts.sort(byPath);

    // 4. Plan. With the auto header policy, code whose copies no longer agree on their source's mtime and
    // size goes checked-hash for all copies: the pycs already shared through a timestamp object of that
    // code are read again and moved to the checked-hash object too, so all copies share one object.
    const storedWithBody = (magic: number, bodyHash: string) =>
      (ledger?.objectsWithBody(magic, bodyHash) ?? []).map((o) => ({ id: o.id, invalidation: o.invalidation, key: { hash: o.hash, size: o.size } }));
    const choose = (): Variant[] =>
      opts.choose ? opts.choose(facts, ledger) : canonical ? chooseVariants(facts, policy, storedWithBody) : facts.map((f) => f.variants[0]!);
    let chosen = choose();
    if (!opts.choose && canonical && policy === 'auto' && ledger) {
      const leaving = timestampObjectsToLeave(facts, chosen, storedWithBody, ledger.timestampObjectsInConflict());
      const moving = [...leaving].flatMap((id) => sharedByObject.get(id) ?? []);
      if (moving.length > 0) {
        await Promise.all(
          moving.map((cand) =>
            limit(async () => {
              const a = await analyzeCandidate(cand, transform, recover);
              report.bytesRead += a.bytesRead;
              if (a.ok) {
                facts.push(a.facts);
                cache.put(cand.path, a.prepared);
                report.shared--;
              }
            }),
          ),
        );
        facts.sort(byPath);
        chosen = choose();
      }
    }
    const plan = makePlan({
      facts,
      chosen,
      storeRoots,
      objectExists: (key, rootId) => (ledger ? ledger.object(key, rootId, 0) !== undefined : false),
      storeUid: store?.uid ?? (process.geteuid?.() ?? 0),
    });
    for (const o of plan.otherFilesystems) {
      report.otherFilesystems.push({ mount: mountPointOf(o.example), files: o.files, bytes: o.bytes });
    }

    if (dryRun) {
      for (const s of plan.skips) skip(s.reason);
      report.plan = planSummary(plan);
    } else {
      await opts.afterPlan?.(plan);
      // 5. Act.
      const applied = await applyPlan(plan, {
        ledger: store!.ledger,
        transform,
        linkMode: opts.linkMode ?? 'auto',
        rootIds,
        now,
        cache,
        onProgress: (done, total) => out.progress(`linking: ${formatCount(done)}/${formatCount(total)} pycs`),
        onWarn: (m) => out.warn(m),
      });
      report.linked = applied.linked;
      report.bytesSaved = applied.bytesSaved;
      report.bytesRead += applied.bytesRead;
      report.objectsCreated = applied.objectsCreated;
      report.failures = applied.failures;
      if (report.fill) report.fill.filled = applied.filled;
      report.linkKinds = applied.linkKinds;
      for (const s of applied.skips) skip(s.reason);
      for (const f of applied.failures) skip(f.reason);
      const l = store!.ledger;
      const when = now();
      l.batch(() => {
        for (const a of adopt) l.recordLink(a.path, a.objectId, rootIds[a.rootIndex] ?? null, 'hardlink', a.fp, when);
        for (const s of skipsToRecord) l.recordSeen(s.path, s.fp, s.sourceFp, s.reason, when);
        for (const id of rootIds) l.markScanned(id, when);
        for (const f of facts) {
          if (f.sourceKey && canonical) {
            l.recordBody(f.header.version.magic, f.cand.name.optimization, f.cand.relName, f.sourceKey, f.variants[0]!.bodyHash);
          }
        }
      });
    }
    if (fillProblems.length) {
      out.warn(`--fill could not compile ${fillProblems.length} sources (CPython can't either; they stay without pyc), e.g. ${fillProblems[0]}`);
    }
    report.recompiled = compiler.compiled;
    report.invalidation = canonical ? policy : 'as-is';
    report.durationMs = Date.now() - started;
    if (store && !dryRun) {
      const runId = store.ledger.startRun('dedup', started);
      store.ledger.finishRun(runId, report.failures.length > 0 ? 1 : 0, { ...report, plan: undefined }, now());
    }
    return report;
  } finally {
    out.done();
    store?.close();
    await compiler.close();
  }
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

function planSummary(plan: Plan): NonNullable<DedupReport['plan']> {
  return {
    objects: plan.objects.map((o) => ({
      object: `${o.key.hash}-${o.key.size}`,
      storeRoot: o.root.path,
      new: !o.existing,
      invalidation: o.variant.invalidation,
      files: o.links.map((l) => l.facts.cand.path),
    })),
    toLink: plan.toLink,
    newObjects: plan.objects.filter((o) => !o.existing).length,
    projectedBytesSaved: plan.projectedBytesSaved,
  };
}
