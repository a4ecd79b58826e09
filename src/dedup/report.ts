/** What `dedup` reports: its `--json` object, and how the plans are summarised for `--dry-run`. */
import type { Plan } from './plan.js';
import type { Failure } from './types.js';

export interface DedupReport {
  /** Pycs found (PEP 3147 pycs whose source exists). */
  files: number;
  /** Replaced by a store link in this run. */
  linked: number;
  /** Already linked before this run. */
  shared: number;
  /** Reason → count of the pycs not linked. */
  skipped: Record<string, number>;
  /** File bytes read in this run: each pyc read once, and the sources that needed hashing (or --fill's). */
  bytesRead: number;
  /** Allocated bytes no longer stored twice (negative: the run stored more than it freed, e.g. --fill's new pycs). */
  bytesSaved: number;
  objectsCreated: number;
  /** Files in __pycache__ folders left alone, by reason. */
  ignored: Record<string, number>;
  failures: Failure[];
  otherFilesystems: { mount: string; files: number; bytes: number }[];
  /** Link kind used per store root path. */
  linkKinds: Record<string, string>;
  roots: string[];
  /** Header policy used ('as-is' when storing byte for byte). */
  invalidation?: string;
  /**
   * --fill: venvs looked at, sources without a fresh pyc, bodies from the store / compiled, pycs
   * created (or put in place of stale ones), compiles avoided (bodies the store or this run had).
   */
  fill?: { venvs: number; sources: number; fromStore: number; compiled: number; filled: number; skipped: Record<string, number> };
  /** Sources recompiled by a real interpreter this run. */
  recompiled?: number;
  /** site-packages folders with sources and not one pyc (without --fill): `dedup --fill` would give them pycs. */
  withoutPycs?: { path: string; sources: number }[];
  /** The run stopped taking new work before the end: SIGINT/SIGTERM (interrupted), or a full filesystem (no-space). */
  stopped?: { reason: 'interrupted' | 'no-space'; message: string };
  dryRun: boolean;
  durationMs: number;
  /** Pycs that were shared under another header and were moved to the one --invalidation (or auto) chose. */
  headerMoved?: number;
  /** SIGINT/SIGTERM stopped the run between two files; what it linked is recorded (run again to finish). */
  interrupted?: boolean;
  /** --dry-run: the plan. */
  plan?: {
    objects: { object: string; storeRoot: string; new: boolean; invalidation: string; files: string[] }[];
    /** Files that would be linked (pycs replaced, and --fill's pycs created). */
    toLink: number;
    /** Of those, --fill's (pycs created, or put in place of stale ones). */
    toFill: number;
    newObjects: number;
    projectedBytesSaved: number;
  };
}

export function emptyReport(roots: readonly string[], dryRun: boolean): DedupReport {
  return {
    files: 0,
    linked: 0,
    shared: 0,
    skipped: {},
    bytesRead: 0,
    bytesSaved: 0,
    objectsCreated: 0,
    ignored: {},
    failures: [],
    otherFilesystems: [],
    linkKinds: {},
    roots: [...roots],
    dryRun,
    durationMs: 0,
    ...(dryRun ? { plan: { objects: [], toLink: 0, toFill: 0, newObjects: 0, projectedBytesSaved: 0 } } : {}),
  };
}

/** Count one more skip of `reason`. */
export function countSkip(report: DedupReport, reason: string): void {
  report.skipped[reason] = (report.skipped[reason] ?? 0) + 1;
}

/** Add one group's plan to a dry run's summary (`seen`: the summary's objects by store root and address). */
export function addToSummary(report: DedupReport, plan: Plan, seen: Map<string, number>): void {
  const sum = report.plan!;
  for (const o of plan.objects) {
    const id = `${o.root.id}:${o.key.hash}-${o.key.size}`;
    const at = seen.get(id);
    if (at !== undefined) {
      sum.objects[at]!.files.push(...o.links.map((l) => l.facts.subject.path));
      continue;
    }
    seen.set(id, sum.objects.length);
    sum.objects.push({
      object: `${o.key.hash}-${o.key.size}`,
      storeRoot: o.root.path,
      new: !o.existing,
      invalidation: o.variant.invalidation,
      files: o.links.map((l) => l.facts.subject.path),
    });
    if (!o.existing) sum.newObjects++;
  }
  sum.toLink += plan.toLink;
  for (const o of plan.objects) for (const l of o.links) if (l.facts.fill) sum.toFill++;
  sum.projectedBytesSaved += plan.projectedBytesSaved;
}
