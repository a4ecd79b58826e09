/** What `dedup` reports: its `--json` object, and how a plan is summarised for `--dry-run`. */
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
  /** File bytes read in this run. */
  bytesRead: number;
  /** Allocated bytes no longer stored twice (negative: the run stored more than it freed). */
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
  /** --fill: venvs looked at, sources without a fresh pyc, bodies from the store / compiled, pycs created. */
  fill?: { venvs: number; sources: number; fromStore: number; compiled: number; filled: number; skipped: Record<string, number> };
  /** Sources recompiled by a real interpreter this run. */
  recompiled?: number;
  dryRun: boolean;
  durationMs: number;
  /** Pycs that were shared under another header and were moved to the one --invalidation (or auto) chose. */
  headerMoved?: number;
  /** SIGINT/SIGTERM stopped the run between two files; what it linked is recorded (run again to finish). */
  interrupted?: boolean;
  /** --dry-run: the plan. */
  plan?: {
    objects: { object: string; storeRoot: string; new: boolean; invalidation: string; files: string[] }[];
    toLink: number;
    newObjects: number;
    projectedBytesSaved: number;
  };
}

export function emptyReport(roots: readonly string[], files: number, ignored: Record<string, number>, dryRun: boolean): DedupReport {
  return {
    files,
    linked: 0,
    shared: 0,
    skipped: {},
    bytesRead: 0,
    bytesSaved: 0,
    objectsCreated: 0,
    ignored,
    failures: [],
    otherFilesystems: [],
    linkKinds: {},
    roots: [...roots],
    dryRun,
    durationMs: 0,
  };
}

/** Count one more skip of `reason`. */
export function countSkip(report: DedupReport, reason: string): void {
  report.skipped[reason] = (report.skipped[reason] ?? 0) + 1;
}

export function planSummary(plan: Plan): NonNullable<DedupReport['plan']> {
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
