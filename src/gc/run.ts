/**
 * `gc` as a library call: lock → observe → plan → (dry run: stop) → apply → record.
 *
 * The exclusive store lock is taken before anything is looked at, and the
 * clock for the grace period is read after it was granted: liveness is computed
 * from what the disk and ledger say once no dedup can be running.
 */
import { existsSync } from 'node:fs';
import { progressOf, type Output, type Progress } from '../util/output.js';
import { ledgerPath } from '../store/location.js';
import { openStore, openStoreReadOnly, recordedRun, type OpenStore, type WritableStore } from '../session/open.js';
import { formatCount } from '../util/format.js';
import { settle } from '../util/turn.js';
import { applyGc, type GcApplied, type GcFailure } from './apply.js';
import { objectName, observe } from './observe.js';
import { planGc, type DropReason, type GcPlan } from './plan.js';

export const DEFAULT_GRACE_MS = 3_600_000;

/** The one place the crash-test seam is read: gc SIGKILLs itself after deleting this many objects. */
export const KILL_AFTER_ENV = 'PYCSTORE_TEST_GC_KILL_AFTER';

export interface GcOptions {
  readonly storeDir: string;
  readonly graceMs?: number;
  readonly dryRun?: boolean;
  readonly out: Output;
  readonly env?: NodeJS.ProcessEnv;
  readonly now?: () => number;
  /** Aborted (SIGINT/SIGTERM) before the delete step starts: gc stops, having deleted nothing. */
  readonly signal?: AbortSignal;
}

export interface GcReport {
  store: string;
  /** false: there is no store (no ledger) at that path; nothing was created. */
  exists: boolean;
  dryRun: boolean;
  graceMs: number;
  objectsDeleted: number;
  /** Allocated bytes returned to the filesystem (an object's blocks count when its store name was the inode's last). */
  bytesFreed: number;
  linksDropped: number;
  linksDroppedByReason: Partial<Record<DropReason, number>>;
  rootsDropped: number;
  /** Objects with at least one live link. */
  objectsLive: number;
  /** Unused objects kept because they were used within the grace period. */
  objectsInGrace: number;
  /** Objects not checked (unreachable store root, or their file couldn't be stat-ed); kept. */
  objectsUnverified: number;
  /** Rows of objects whose file was already gone (e.g. a gc killed mid-delete), dropped. */
  missingObjectRows: number;
  /** Reflinks whose metadata moved but whose content still is their object's: fingerprint re-recorded. */
  linksRefreshed: number;
  /** Links that couldn't be checked; counted live. */
  linksUnverified: number;
  seenDropped: number;
  /** Object files the ledger never recorded, and temp files of objects being written, deleted. */
  unknownFilesDeleted: number;
  tempFilesDeleted: number;
  /** Unknown object files and temp files younger than the grace period, kept. */
  filesInGrace: number;
  unreachableStoreRoots: string[];
  failures: GcFailure[];
  /** Stopped by SIGINT/SIGTERM after looking, before deleting anything. */
  interrupted: boolean;
  durationMs: number;
  /** --dry-run: what gc would do. */
  plan?: Omit<GcApplied, 'failures'> & {
    objects: { object: string; path: string; allocated: number; lastUsed: string }[];
    links: { path: string; reason: DropReason }[];
    roots: string[];
    files: { path: string; kind: 'unknown-object' | 'temp' }[];
  };
}

function emptyReport(storeDir: string, dryRun: boolean, graceMs: number): GcReport {
  return {
    store: storeDir,
    exists: false,
    dryRun,
    graceMs,
    objectsDeleted: 0,
    bytesFreed: 0,
    linksDropped: 0,
    linksDroppedByReason: {},
    rootsDropped: 0,
    objectsLive: 0,
    objectsInGrace: 0,
    objectsUnverified: 0,
    missingObjectRows: 0,
    linksRefreshed: 0,
    linksUnverified: 0,
    seenDropped: 0,
    unknownFilesDeleted: 0,
    tempFilesDeleted: 0,
    filesInGrace: 0,
    unreachableStoreRoots: [],
    failures: [],
    interrupted: false,
    durationMs: 0,
  };
}

/** The kill switch, when the crash-test environment variable holds a positive whole number. */
function testKillAfter(env: NodeJS.ProcessEnv | undefined): number | undefined {
  const v = env?.[KILL_AFTER_ENV];
  if (v === undefined || !/^\d+$/.test(v) || Number(v) < 1) return undefined;
  return Number(v);
}

/** Lets a pending SIGINT/SIGTERM handler run (observing is synchronous), then asks whether it fired. */
async function interrupted(signal: AbortSignal | undefined): Promise<boolean> {
  if (!signal) return false;
  await settle();
  return signal.aborted;
}

function byReason(plan: GcPlan): Partial<Record<DropReason, number>> {
  const out: Partial<Record<DropReason, number>> = {};
  for (const d of plan.dropLinks) out[d.reason] = (out[d.reason] ?? 0) + 1;
  return out;
}

export async function runGc(opts: GcOptions): Promise<GcReport> {
  const started = Date.now();
  const dryRun = opts.dryRun ?? false;
  const graceMs = opts.graceMs ?? DEFAULT_GRACE_MS;
  const out = opts.out;
  const report = emptyReport(opts.storeDir, dryRun, graceMs);
  // gc never creates a store: collecting a mistyped path is a mistake, not an empty success.
  if (!existsSync(ledgerPath(opts.storeDir))) return report;
  if (dryRun) {
    const store = openStoreReadOnly(opts.storeDir);
    if (!store) return report;
    try {
      return await collect(store, report, opts, started);
    } finally {
      out.done();
      store.close();
    }
  }
  const store = openStore(opts.storeDir, { command: 'gc', lock: 'exclusive', onWait: (m) => out.note(m) });
  try {
    return await recordedRun(store, 'gc', Date.now, async () => collect(store, report, opts, started), (r) => ({
      exitCode: r.failures.length > 0 ? 1 : 0,
      figures: r,
    }));
  } finally {
    out.done();
    store.close();
  }
}

/** observe → plan → (dry run: the plan; interrupted: stop) → apply, under the lock. */
async function collect(store: OpenStore | WritableStore, report: GcReport, opts: GcOptions, started: number): Promise<GcReport> {
  const out = opts.out;
  report.exists = true;
  // Liveness is computed from here on, under the lock.
  const now = (opts.now ?? Date.now)();
  const seen = observe({
    ledger: store.ledger,
    storeDir: opts.storeDir,
    now,
    graceMs: report.graceMs,
    onProgress: stepProgress(out),
    onListError: (e) => out.warn(`${e.path}: cannot list it (${e.code}); what it holds is left for the next gc`),
  });
  for (const r of seen.storeRoots) {
    if (!r.usable) {
      report.unreachableStoreRoots.push(r.row.path);
      out.warn(`store root ${r.row.path}: ${r.why ?? 'not usable'}; its objects are kept and not checked (mount it and run pycstore gc again)`);
    }
  }
  const plan = planGc(seen.input);
  report.objectsLive = plan.live.length;
  report.objectsInGrace = plan.inGrace.length;
  report.objectsUnverified = plan.unverifiedObjects.length;
  report.linksUnverified = plan.unverifiedLinks.length;
  report.filesInGrace = plan.straysInGrace;
  report.linksDroppedByReason = byReason(plan);
  if (plan.unverifiedLinks.length > 0) {
    const first = plan.unverifiedLinks[0]!;
    out.warn(`${formatCount(plan.unverifiedLinks.length)} linked files could not be checked and count as in use, e.g. ${first.path}: ${first.why}`);
  }
  if (!('writer' in store)) report.plan = dryRunPlan(plan);
  else if (await interrupted(opts.signal)) report.interrupted = true; // looked, deleted nothing
  else Object.assign(report, applyGc(plan, { writer: store.writer, onProgress: stepProgress(out), killAfter: testKillAfter(opts.env) }));
  report.durationMs = Date.now() - started;
  return report;
}

function dryRunPlan(plan: GcPlan): NonNullable<GcReport['plan']> {
  return {
    objectsDeleted: plan.garbage.length,
    bytesFreed: plan.garbage.reduce((s, g) => s + g.freed, 0) + plan.strays.reduce((s, f) => s + f.freed, 0),
    linksDropped: plan.dropLinks.length,
    rootsDropped: plan.dropRoots.length,
    missingObjectRows: plan.missing.length,
    linksRefreshed: plan.refreshLinks.length,
    seenDropped: plan.dropSeen.length,
    unknownFilesDeleted: plan.strays.filter((s) => s.kind === 'unknown-object').length,
    tempFilesDeleted: plan.strays.filter((s) => s.kind === 'temp').length,
    objects: plan.garbage.map((g) => ({
      object: objectName(g.row),
      path: g.path,
      allocated: g.allocated,
      lastUsed: new Date(Math.max(g.row.used_at, g.row.created_at)).toISOString(),
    })),
    links: plan.dropLinks.map((d) => ({ path: d.path, reason: d.reason })),
    roots: plan.dropRoots.map((r) => r.path),
    files: plan.strays.map((s) => ({ path: s.path, kind: s.kind })),
  };
}

/** One progress line per step (progressOf), each with its own rate. */
function stepProgress(out: Output): (step: string, unit: string, done: number, total: number) => void {
  const steps = new Map<string, Progress>();
  return (step, unit, done, total) => {
    let p = steps.get(step);
    if (!p) steps.set(step, (p = progressOf(out, step, unit, total)));
    p.update(done);
  };
}
