/**
 * Carrying out a gc plan, in an order where a crash at any point leaves a
 * store the next gc finishes (STORE_FORMAT.md, "Crashes"):
 *
 * 1. one transaction: drop dead link rows, the rows of objects whose file is
 *    gone, roots whose folder is gone, seen rows of gone files; record the new
 *    fingerprints of reflinks that are still equal to their object;
 * 2. each garbage object: check it is still the inode that was observed,
 *    remove the file, then (in batches) its row: a crash in between leaves rows
 *    whose file is gone, which the next gc drops;
 * 3. unknown object files and temp files, then empty shard folders.
 *
 * Venv files are never touched: gc deletes only store files and ledger rows.
 */
import { rmdirSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../errors.js';
import { sameInode } from '../fs/fingerprint.js';
import { fileState } from '../fs/stat.js';
import type { LedgerWriter, LedgerWrites } from '../ledger/ledger.js';
import type { GcPlan } from './plan.js';

export interface GcFailure {
  readonly path: string;
  readonly reason: 'changed' | 'delete-error';
  readonly detail: string;
}

export interface GcApplied {
  objectsDeleted: number;
  bytesFreed: number;
  linksDropped: number;
  rootsDropped: number;
  missingObjectRows: number;
  linksRefreshed: number;
  seenDropped: number;
  unknownFilesDeleted: number;
  tempFilesDeleted: number;
  readonly failures: GcFailure[];
}

export interface ApplyGcOptions {
  readonly writer: LedgerWriter<LedgerWrites>;
  readonly onProgress?: (line: string) => void;
  /** Test seam (crash tests): SIGKILL this process right after deleting this many object files. */
  readonly killAfter?: number | undefined;
}

export function applyGc(plan: GcPlan, opts: ApplyGcOptions): GcApplied {
  const { writer } = opts;
  const res: GcApplied = {
    objectsDeleted: 0,
    bytesFreed: 0,
    linksDropped: 0,
    rootsDropped: 0,
    missingObjectRows: 0,
    linksRefreshed: 0,
    seenDropped: 0,
    unknownFilesDeleted: 0,
    tempFilesDeleted: 0,
    failures: [],
  };

  // 1. The ledger first: after this, no row says a garbage object is used.
  writer.now((w) => {
    for (const r of plan.refreshLinks) w.refreshLink(r.linkId, r.fp);
    for (const d of plan.dropLinks) w.forgetLinkById(d.row.id);
    for (const o of plan.missing) w.forgetObjectById(o.id);
    for (const r of plan.dropRoots) w.forgetRoot(r.id);
    for (const id of plan.dropSeen) w.forgetSeenById(id);
  });
  res.linksRefreshed = plan.refreshLinks.length;
  res.linksDropped = plan.dropLinks.length;
  res.missingObjectRows = plan.missing.length;
  res.rootsDropped = plan.dropRoots.length;
  res.seenDropped = plan.dropSeen.length;

  const touchedShards = new Set<string>();
  deleteGarbage(plan, opts, res, touchedShards);
  deleteStrays(plan, res, touchedShards);
  for (const dir of touchedShards) {
    try {
      rmdirSync(dir); // only when empty; the next object in that shard creates it again
    } catch {
      // not empty, or gone
    }
  }
  return res;
}

/** 2. Garbage objects: file, then row (rows in batches). */
function deleteGarbage(plan: GcPlan, opts: ApplyGcOptions, res: GcApplied, touchedShards: Set<string>): void {
  const { writer } = opts;
  const forget = (id: number): void => writer.add((w) => w.forgetObjectById(id));
  for (const g of plan.garbage) {
    opts.onProgress?.(`gc: deleting objects ${res.objectsDeleted + 1}/${plan.garbage.length}`);
    const now = fileState(g.path);
    if (now.kind === 'missing') {
      forget(g.row.id); // gone meanwhile: only the row is left to drop
      res.missingObjectRows++;
      continue;
    }
    if (now.kind !== 'present' || !sameInode(now.fp, g.fp)) {
      res.failures.push({ path: g.path, reason: 'changed', detail: 'the object file changed since gc looked at it; left alone (run gc again)' });
      continue;
    }
    try {
      unlinkSync(g.path);
    } catch (err) {
      res.failures.push({ path: g.path, reason: 'delete-error', detail: errnoCode(err) ?? String(err) });
      continue;
    }
    touchedShards.add(path.dirname(g.path));
    res.objectsDeleted++;
    res.bytesFreed += g.freed;
    forget(g.row.id);
    if (opts.killAfter !== undefined && res.objectsDeleted >= opts.killAfter) process.kill(process.pid, 'SIGKILL');
  }
  writer.flush();
}

/** 3. Files the ledger never knew (the caller then removes shard folders left empty). */
function deleteStrays(plan: GcPlan, res: GcApplied, touchedShards: Set<string>): void {
  for (const s of plan.strays) {
    const now = fileState(s.path);
    if (now.kind === 'missing') continue;
    if (now.kind !== 'present' || now.fp.ino !== s.fp.ino || now.mtimeMs !== s.mtimeMs) {
      res.failures.push({ path: s.path, reason: 'changed', detail: 'the file changed since gc looked at it; left alone (run gc again)' });
      continue;
    }
    try {
      unlinkSync(s.path);
    } catch (err) {
      res.failures.push({ path: s.path, reason: 'delete-error', detail: errnoCode(err) ?? String(err) });
      continue;
    }
    res.bytesFreed += s.freed;
    if (s.kind === 'temp') res.tempFilesDeleted++;
    else {
      res.unknownFilesDeleted++;
      touchedShards.add(path.dirname(s.path));
    }
  }
}
