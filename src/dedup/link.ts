/**
 * Apply, part B: each planned file of an object that exists (and is durable)
 * replaced by a link to it, after one last look right before the swap (the
 * swap's own: the file's fingerprint unchanged since it was read — its bytes
 * were compared with the object's then — and, where the header comes from the
 * source, the source unchanged too). The links of one object are made one
 * after another (an object at the hard-link limit continues in a replica,
 * store/replicas.ts); different objects' links run side by side. Link rows are
 * queued on the ledger writer as they are made.
 */
import { chownSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { allocatedBytes, fingerprintOf, sameFingerprint, type Fingerprint } from '../fs/fingerprint.js';
import type { Linker, LinkerOutcome } from '../fs/link.js';
import { tryLstat } from '../fs/stat.js';
import { keyString } from '../hash/key.js';
import { pycMode } from '../pyc/mode.js';
import { objectPath } from '../store/location.js';
import { nextReplica } from '../store/replicas.js';
import { skipped, stopping, type RunContext } from './context.js';
import { sourceState } from './group.js';
import { objectFingerprint, type ObjectState, type ObjectStore } from './objects.js';
import type { Chosen } from './types.js';
import type { Invalidation } from '../pyc/header.js';

/** What linking one file needs (the plan's facts and bodies are let go of before it waits). */
export interface LinkJob {
  readonly path: string;
  /** Its fingerprint when it was read (a --fill target that doesn't exist: none). */
  readonly fp: Fingerprint;
  readonly nlink: number;
  readonly allocated: number;
  readonly rootIndex: number;
  readonly source: string;
  readonly sourceFp: string;
  /** The object's header names the source (kind changed, or --fill): the source must be unchanged right before the swap. */
  readonly checkSource: boolean;
  readonly fill: { readonly stale: boolean; readonly mode: number } | undefined;
  /** The header kind the file had (the ledger remembers it for unshare); null for a pyc --fill creates. */
  readonly header: Invalidation | null;
}

export function jobOf(c: Chosen): LinkJob {
  const f = c.facts;
  return {
    path: f.subject.path,
    fp: f.stat.fp,
    nlink: f.stat.nlink,
    allocated: f.stat.allocated,
    rootIndex: f.subject.rootIndex,
    source: f.subject.source,
    sourceFp: f.source.fp,
    checkSource: f.fill !== undefined || c.variant.invalidation !== f.header.invalidation,
    fill: f.fill ? { stale: f.fill.stale, mode: pycMode(f.source.mode) } : undefined,
    header: f.fill ? null : f.header.invalidation,
  };
}

/** What part B works with, besides the run. */
export interface LinkContext {
  readonly run: RunContext;
  readonly objects: ObjectStore;
  readonly linkerOf: (root: ObjectState['root']) => Linker;
  /** Inodes with other names, some of them replaced by this run (their ctime moved because of us), and how many of each (link.ts: lastName). */
  readonly replaced: Map<string, number>;
}

/** Link `jobs` to the object, after whatever links to it are under way. */
export function linkToObject(state: ObjectState, jobs: readonly LinkJob[], ctx: LinkContext): Promise<void> {
  const run = state.queue.then(async () => {
    for (const job of jobs) {
      if (stopping(ctx.run)) return; // no new work once the run stops; what is under way finishes
      await linkFile(job, state, ctx);
    }
    recordTimes(state, ctx);
  });
  state.queue = run;
  return run;
}

/** Is the file still what was read (its ctime may have moved by our own swaps of its other names), and its source too where that matters? */
function stillAsRead(job: LinkJob, ctx: LinkContext): (now: Fingerprint) => boolean {
  return (now) => {
    const ours = ctx.replaced.has(`${job.fp.dev}:${job.fp.ino}`);
    if (!sameFingerprint(ours ? { ...now, ctimeNs: job.fp.ctimeNs } : now, job.fp)) return false;
    return !job.checkSource || sourceState(job.source)?.fp === job.sourceFp;
  };
}

/** A --fill target that doesn't exist yet: its source unchanged, its __pycache__ made (owned like its package folder). */
function readyToCreate(job: LinkJob): boolean {
  if (sourceState(job.source)?.fp !== job.sourceFp) return false;
  const dir = path.dirname(job.path);
  if (!tryLstat(dir)) {
    mkdirSync(dir, { recursive: true });
    const parent = statSync(path.dirname(dir));
    if (process.platform !== 'win32' && process.geteuid?.() === 0) chownSync(dir, parent.uid, parent.gid);
  }
  return true;
}

async function linkFile(job: LinkJob, state: ObjectState, ctx: LinkContext): Promise<void> {
  const linker = ctx.linkerOf(state.root);
  const refused = linker.refused();
  if (refused) return failed(job, state, refused as Extract<LinkerOutcome, { ok: false }>, ctx);
  const create = job.fill !== undefined && !job.fill.stale;
  if (create && !readyToCreate(job)) return skipped(ctx.run, job.path, 'changed');
  for (;;) {
    const object = { path: objectPath(state.root.path, state.key, state.row.replica), fp: objectFingerprint(state.row) };
    const out = create ? await linker.create(object, job.path, job.fill!.mode) : await linker.replace(object, job.path, stillAsRead(job, ctx));
    if (out.ok) return linked(job, state, out, ctx);
    if (out.reason === 'emlink' && !state.freshReplica) {
      await startReplica(state, ctx);
      continue;
    }
    return failed(job, state, out, ctx);
  }
}

function linked(job: LinkJob, state: ObjectState, out: Extract<LinkerOutcome, { ok: true }>, ctx: LinkContext): void {
  const { run } = ctx;
  state.freshReplica = false;
  if (job.fill) run.filled++;
  else run.report.linked++;
  const freed = lastName(job, ctx) ? job.allocated : 0;
  run.report.bytesSaved += freed;
  const header = job.header;
  const now = run.now();
  const objectId = state.row.id;
  const rootId = run.rootIds[job.rootIndex] ?? null;
  const touch = !state.touched;
  state.touched = true;
  run.writer!.add((w) => {
    w.recordLink(job.path, objectId, rootId, out.kind, out.fp, now, { freed, header });
    if (touch) w.touchObject(objectId, now);
  });
}

/**
 * Count a replaced name of the file's inode; true when it was the inode's last name (its blocks come
 * back: a single name at once, a `cp -al` pair on the second). Only inodes with other names are
 * remembered (a run of 300,000 single-name pycs keeps no entry), until their last name is replaced.
 */
function lastName(job: LinkJob, ctx: LinkContext): boolean {
  if (job.nlink <= 1) return job.nlink === 1;
  const inode = `${job.fp.dev}:${job.fp.ino}`;
  const n = (ctx.replaced.get(inode) ?? 0) + 1;
  if (n < job.nlink) ctx.replaced.set(inode, n);
  else ctx.replaced.delete(inode);
  return n === job.nlink;
}

/** The object hit the filesystem's hard-link limit: go on with a replica (made durable before it is linked to). */
async function startReplica(state: ObjectState, ctx: LinkContext): Promise<void> {
  const bytes = readFileBytes(objectPath(state.root.path, state.key, state.row.replica));
  const { replica, put } = await nextReplica(state.root.path, state.key, bytes, state.row.replica);
  const known = ctx.run.ledger?.object(state.key, state.root.id, replica);
  state.row = known && known.ino === put.stat.ino.toString() ? known : ctx.objects.record(state, replica, put.stat);
  state.freshReplica = true;
  if (put.created) {
    ctx.run.report.bytesSaved -= allocatedBytes(put.stat);
    ctx.run.out.warn(`object ${keyString(state.key)} reached the filesystem's hard-link limit; started replica ${replica}`);
  }
}

function readFileBytes(p: string): Uint8Array {
  const b = readFileSync(p);
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

function noReflink(state: ObjectState, out: LinkerOutcome): string {
  return `the filesystem of ${state.root.path} can't make reflinks (${(!out.ok && out.errno) || 'unsupported'}); use --link-mode auto or hardlink`;
}

function failed(job: LinkJob, state: ObjectState, out: Extract<LinkerOutcome, { ok: false }>, ctx: LinkContext): void {
  const { run } = ctx;
  const fail = (reason: 'no-reflink' | 'link-error' | 'other-filesystem', detail: string): void => {
    run.report.failures.push({ path: job.path, reason, detail });
    run.report.skipped[reason] = (run.report.skipped[reason] ?? 0) + 1;
  };
  if (out.reason === 'no-space') {
    run.stop ??= { kind: 'no-space', root: state.root.path, errno: out.errno ?? 'ENOSPC' };
    skipped(run, job.path, 'no-space');
  } else if (out.reason === 'no-reflink') fail('no-reflink', noReflink(state, out));
  else if (out.reason === 'emlink') fail('link-error', `${out.errno ?? 'EMLINK'} even on a new replica of the object`);
  else if (out.reason === 'changed' || out.reason === 'exists') skipped(run, job.path, 'changed');
  else if (out.reason === 'xdev') {
    fail('other-filesystem', `cross-device link (${out.errno}): the file and ${state.root.path} are on different mounts; add a store root on its mount with --store-root`);
  } else if (out.errno === 'EPERM' && out.kind === 'hardlink') {
    fail('link-error', `EPERM: the kernel refused a hard link to the store object (fs.protected_hardlinks: the store's objects must be owned by the user running pycstore)`);
  } else fail('link-error', out.errno ?? out.reason);
}

/**
 * Adding links moved the object's ctime; its content was checked before linking, so record the new
 * ctime (unless the mtime moved too: then verify must look at it).
 */
function recordTimes(state: ObjectState, ctx: LinkContext): void {
  const row = state.row;
  const after = tryLstat(objectPath(state.root.path, state.key, row.replica));
  if (!after || after.mtimeNs.toString() !== row.mtime_ns || after.ino.toString() !== row.ino) return;
  const id = row.id;
  const fp = fingerprintOf(after);
  const alloc = allocatedBytes(after);
  state.row = { ...row, ctime_ns: fp.ctimeNs };
  ctx.run.writer!.add((w) => w.reinodeObject(id, fp, alloc));
}

