/** One dedup run's settings, helpers and running totals, shared by its steps. */
import type { InvalidationPolicy, Transform } from '../canonical/types.js';
import type { Fingerprint } from '../fs/fingerprint.js';
import type { Ledger, LedgerWriter, LedgerWrites } from '../ledger/ledger.js';
import type { CanonicalCompiler } from '../python/compile.js';
import type { Output } from '../util/output.js';
import type { StoreRootInfo } from './plan.js';
import type { Analyzer, FillStore } from './pool.js';
import { countSkip, type DedupReport } from './report.js';
import type { FileTable } from './table.js';
import type { FillSummary, SkipReason } from './types.js';

/** Why a run stopped taking new work before the end. */
export type StopReason =
  | { readonly kind: 'interrupted' }
  | { readonly kind: 'no-space'; readonly root: string; readonly errno: string };

export interface RunContext {
  readonly out: Output;
  readonly dryRun: boolean;
  readonly policy: InvalidationPolicy;
  readonly transform: Transform;
  /** Bodies are canonical (raw bodies say nothing about a compilation, and have one header). */
  readonly canonical: boolean;
  readonly table: FileTable;
  /** Reads and judges the files (a pool of threads, or this one; --fill's targets may get a pool of their own: run.ts). */
  analyzer: Analyzer;
  /** Where --fill looks stored bodies up (undefined without --fill, or without a store). */
  readonly fillStore: FillStore | undefined;
  readonly compiler: CanonicalCompiler;
  /** Reads (undefined: a dry run with no store yet). */
  readonly ledger: Ledger | undefined;
  /** Every ledger write (undefined: a dry run). */
  readonly writer: LedgerWriter<LedgerWrites> | undefined;
  readonly storeRoots: readonly StoreRootInfo[];
  /** uid owning the store (0: a system store). */
  readonly storeUid: number;
  /** The scanned roots (a store object's links under them move with it). */
  readonly rootPaths: readonly string[];
  /** Ledger id of each scanned root, by rootIndex. */
  readonly rootIds: readonly number[];
  readonly report: DedupReport;
  /** --fill's counters (undefined without --fill). */
  readonly fill: FillSummary | undefined;
  /** Pycs judged stale (--fill puts fresh ones in their place). */
  readonly stale: Set<string>;
  /** The device of each folder --fill creates pycs in, looked up once per folder. */
  readonly folderDevs: Map<string, string>;
  readonly now: () => number;
  readonly signal: AbortSignal | undefined;
  /** Set when the run stops taking new work (interrupted, or the store's filesystem is full). */
  stop: StopReason | undefined;
  /** Pycs --fill created (or put in place of stale ones). */
  filled: number;
  /** Rows of the table whose group went through analysis. */
  analysed: number;
}

/** Should the run start no new work? */
export function stopping(run: RunContext): boolean {
  if (!run.stop && run.signal?.aborted) run.stop = { kind: 'interrupted' };
  return run.stop !== undefined;
}

/**
 * Count a skipped file, and remember why in the ledger when it was read and judged (not 'changed',
 * not 'unreadable'), so a rescan doesn't read it again while it and its source are unchanged.
 */
export function skipped(run: RunContext, path: string, reason: SkipReason | string, seen?: { fp: Fingerprint; sourceFp: string }): void {
  countSkip(run.report, reason);
  if (reason === 'stale') run.stale.add(path);
  if (!seen || !run.writer || reason === 'changed' || reason === 'unreadable') return;
  const when = run.now();
  run.writer.add((w) => w.recordSeen(path, seen.fp, seen.sourceFp, reason, when));
}
