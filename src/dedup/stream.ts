/**
 * The streaming part of a run: the groups of the table (table.ts) go through
 * analyze → choose → plan → apply as soon as their files are read, with two
 * bounds: the files being analysed (enough to keep every worker busy) and the
 * files planned but not yet linked (when that backlog is full, the new objects
 * waiting for their durability barrier are flushed at once). Memory is the
 * groups in flight, not the run.
 */
import { formatCount } from '../util/format.js';
import type { Applier } from './apply.js';
import { stopping, type RunContext } from './context.js';
import { chooseObjects, judgeMembers } from './group.js';
import { planGroup, type Plan, type PlanContext } from './plan.js';
import { recordBodies } from './record.js';
import { addToSummary } from './report.js';
import type { Groups } from './table.js';
import { progressOf } from '../util/output.js';
import type { Bodies } from './types.js';

/**
 * Files being read and judged at most (per worker thread, and at least): enough to keep a thread
 * busy (tasks go in batches of 16), no more — what is in flight outlives the engine's young
 * collections and is only freed by the full ones, so a longer way in flight is a bigger heap.
 */
const ANALYSIS_PER_THREAD = 128;
/** Files planned and not yet linked at most (their new objects wait for a barrier: DURABLE_FILES). */
const LINK_BACKLOG = 1024;

export interface StreamOptions {
  readonly plan: PlanContext;
  /** Applies a plan (none for a dry run). */
  readonly applier: Applier | undefined;
  /** Test seam: runs after each group is planned, before it is applied. */
  readonly afterPlan?: ((plan: Plan) => void | Promise<void>) | undefined;
  /** A dry run's summary index (see addToSummary). */
  readonly summary: Map<string, number>;
}

/** Counts of files in flight, and a way to wait until they change. */
class Flow {
  analyzing = 0;
  backlog = 0;
  groups = 0;
  private wake: (() => void) | undefined;
  changed(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
  next(): Promise<void> {
    return new Promise((r) => (this.wake = r));
  }
}

/** One group, from its members' rows to its files linked. */
async function processGroup(run: RunContext, ids: Int32Array, flow: Flow, opts: StreamOptions): Promise<void> {
  let analyzing = ids.length;
  let backlog = 0;
  const analysed = (): void => {
    flow.analyzing -= analyzing;
    analyzing = 0;
    flow.changed();
  };
  try {
    const applying = await startGroup(run, ids, opts, (toLink) => {
      backlog = toLink;
      flow.backlog += backlog;
    });
    analysed();
    await applying?.done;
  } finally {
    analysed();
    flow.backlog -= backlog;
    flow.groups--;
    flow.changed();
  }
}

/**
 * A group analysed, planned, and its plan applied up to where it waits (for its new objects'
 * durability barrier, and its links). What is left to wait for comes back wrapped: this frame, with
 * the group's bodies, is gone by then — the bodies are let go of once their objects are written,
 * not kept until the barrier.
 */
async function startGroup(run: RunContext, ids: Int32Array, opts: StreamOptions, planned: (toLink: number) => void): Promise<{ readonly done: Promise<void> } | undefined> {
  const subjects = Array.from(ids, (i) => run.table.subject(i));
  const bodies: Bodies = new Map();
  const facts = await judgeMembers(run, subjects, bodies);
  const chosen = stopping(run) ? [] : await chooseObjects(run, facts, bodies);
  recordBodies(run, facts);
  const plan = planGroup(chosen, opts.plan);
  await opts.afterPlan?.(plan);
  if (!opts.applier) {
    addToSummary(run.report, plan, opts.summary);
    countPlanSkips(run, plan);
    return undefined;
  }
  planned(plan.toLink);
  return { done: opts.applier.apply(plan) }; // its new objects join their batch now, before `analyzing` drops
}

function countPlanSkips(run: RunContext, plan: Plan): void {
  for (const s of plan.skips) run.report.skipped[s.reason] = (run.report.skipped[s.reason] ?? 0) + 1;
  for (const c of plan.collisions) run.report.skipped[c.reason] = (run.report.skipped[c.reason] ?? 0) + 1;
}

/** Run every group of `groups` through the pipeline; resolves when all are done (or the run stopped and what was under way is). */
export async function streamGroups(run: RunContext, groups: Groups, opts: StreamOptions): Promise<void> {
  const flow = new Flow();
  const maxAnalyzing = ANALYSIS_PER_THREAD * Math.max(1, run.analyzer.threads);
  const errors: unknown[] = [];
  const progress = throttled(run);
  for (let g = 0; g < groups.count && !stopping(run) && errors.length === 0; g++) {
    const ids = groups.members(g);
    // Room to read this group, and links keeping up. New objects are flushed by batches (objects.ts); a backlog
    // over the bound flushes now: its files may all wait for one object's barrier (65,000 copies of one pyc).
    for (;;) {
      if (flow.backlog > LINK_BACKLOG) opts.applier?.kick();
      else if (flow.analyzing === 0 || flow.analyzing + ids.length <= maxAnalyzing) break;
      await flow.next();
    }
    flow.analyzing += ids.length;
    flow.groups++;
    run.analysed += ids.length;
    progress(g, groups.count);
    processGroup(run, ids, flow, opts).catch((err: unknown) => void errors.push(err));
  }
  while (flow.groups > 0) {
    if (flow.analyzing <= 0) opts.applier?.kick();
    await flow.next();
  }
  if (errors.length > 0) throw errors[0];
}

/** The progress line (util/output.ts's shape), at most every 100 ms (strings are built only then). */
function throttled(run: RunContext): (g: number, of: number) => void {
  const line = progressOf(run.out, 'deduplicating', 'pycs');
  let last = 0;
  return () => {
    const now = Date.now();
    if (now - last < 100) return;
    last = now;
    const r = run.report;
    line.update(run.analysed, `${formatCount(r.linked)} linked, ${formatCount(r.shared)} already shared`, run.table.size);
  };
}
