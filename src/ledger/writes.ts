/**
 * Every statement that changes the ledger, prepared once per connection. An
 * instance is handed out only inside a write transaction (Ledger's writer,
 * ledger/writer.ts): nothing writes the ledger any other way.
 */
import type { Fingerprint } from '../fs/fingerprint.js';
import type { Invalidation } from '../pyc/header.js';
import type { LinkKind } from '../fs/link.js';
import type { DirTree } from './dirs.js';
import type { Db } from './db.js';
import type { NewObject, ObjectRow, StoreRootRow } from './rows.js';

function prepare(db: Db) {
  return {
    storeRootByPath: db.prepare<[string], StoreRootRow>('SELECT * FROM store_roots WHERE path = ?'),
    storeRootInsert: db.prepare<[string, string]>('INSERT INTO store_roots (path, dev) VALUES (?, ?)'),
    storeRootUpdateDev: db.prepare<[string, number]>('UPDATE store_roots SET dev = ? WHERE id = ?'),
    objGet: db.prepare<[string, number, number, number], ObjectRow>('SELECT * FROM objects WHERE hash = ? AND size = ? AND root_id = ? AND replica = ?'),
    objById: db.prepare<[number], ObjectRow>('SELECT * FROM objects WHERE id = ?'),
    objInsert: db.prepare(
      `INSERT INTO objects (hash, size, replica, root_id, dev, ino, mtime_ns, ctime_ns, allocated, magic, invalidation, body_hash, created_at, used_at)
       VALUES (@hash, @size, @replica, @root_id, @dev, @ino, @mtime_ns, @ctime_ns, @allocated, @magic, @invalidation, @body_hash, @now, @now)`,
    ),
    objDelete: db.prepare<[number]>('DELETE FROM objects WHERE id = ?'),
    objTouch: db.prepare<[number, number]>('UPDATE objects SET used_at = ? WHERE id = ?'),
    objReinode: db.prepare<[string, string, string, string, number, number]>(
      'UPDATE objects SET dev = ?, ino = ?, mtime_ns = ?, ctime_ns = ?, allocated = ? WHERE id = ?',
    ),
    linkUpsert: db.prepare(
      `INSERT INTO links (dir_id, name, object_id, root_id, kind, dev, ino, size, mtime_ns, ctime_ns, linked_at, freed, header)
       VALUES (@dir_id, @name, @object_id, @root_id, @kind, @dev, @ino, @size, @mtime_ns, @ctime_ns, @now, @freed, @header)
       ON CONFLICT (dir_id, name) DO UPDATE SET object_id = excluded.object_id, root_id = excluded.root_id, kind = excluded.kind,
         dev = excluded.dev, ino = excluded.ino, size = excluded.size, mtime_ns = excluded.mtime_ns, ctime_ns = excluded.ctime_ns,
         linked_at = excluded.linked_at, freed = excluded.freed, header = coalesce(links.header, excluded.header)`,
    ),
    linkDeleteById: db.prepare<[number]>('DELETE FROM links WHERE id = ?'),
    linksDeleteOfObject: db.prepare<[number]>('DELETE FROM links WHERE object_id = ?'),
    linkRefresh: db.prepare<[string, string, number, string, string, number]>(
      'UPDATE links SET dev = ?, ino = ?, size = ?, mtime_ns = ?, ctime_ns = ? WHERE id = ?',
    ),
    seenUpsert: db.prepare(
      `INSERT INTO seen (dir_id, name, dev, ino, size, mtime_ns, ctime_ns, source_fp, outcome, seen_at)
       VALUES (@dir_id, @name, @dev, @ino, @size, @mtime_ns, @ctime_ns, @source_fp, @outcome, @now)
       ON CONFLICT (dir_id, name) DO UPDATE SET dev = excluded.dev, ino = excluded.ino, size = excluded.size,
         mtime_ns = excluded.mtime_ns, ctime_ns = excluded.ctime_ns, source_fp = excluded.source_fp,
         outcome = excluded.outcome, seen_at = excluded.seen_at`,
    ),
    seenDelete: db.prepare<[number, string]>('DELETE FROM seen WHERE dir_id = ? AND name = ?'),
    seenDeleteById: db.prepare<[number]>('DELETE FROM seen WHERE id = ?'),
    rootGet: db.prepare<[number], { id: number }>('SELECT id FROM roots WHERE dir_id = ?'),
    rootInsert: db.prepare<[number, string | null, number]>('INSERT INTO roots (dir_id, pycache_prefix, added_at) VALUES (?, ?, ?)'),
    rootUpdatePrefix: db.prepare<[string | null, number]>('UPDATE roots SET pycache_prefix = ? WHERE id = ?'),
    rootScanned: db.prepare<[number, number]>('UPDATE roots SET scanned_at = ? WHERE id = ?'),
    rootDelete: db.prepare<[number]>('DELETE FROM roots WHERE id = ?'),
    sourcePut: db.prepare<[number, number, string, string, string]>(
      'INSERT OR REPLACE INTO sources (magic, optimization, rel_name, source_hash, body_hash) VALUES (?, ?, ?, ?, ?)',
    ),
    runStart: db.prepare<[string, number]>('INSERT INTO runs (command, started_at) VALUES (?, ?)'),
    runFinish: db.prepare<[number, number, string | null, number]>('UPDATE runs SET finished_at = ?, exit_code = ?, figures = ? WHERE id = ?'),
  };
}

export class LedgerWrites {
  private readonly st;

  constructor(
    db: Db,
    private readonly dirs: DirTree,
  ) {
    this.st = prepare(db);
  }

  private place(filePath: string): { dirId: number; name: string } {
    const { dir, name } = this.dirs.split(filePath);
    return { dirId: this.dirs.ensure(dir), name };
  }

  // --- store roots ---------------------------------------------------------------

  /** The store root at `rootPath`, registered (or its device updated). */
  storeRoot(rootPath: string, dev: string): StoreRootRow {
    const row = this.st.storeRootByPath.get(rootPath);
    if (row) {
      if (row.dev === dev) return row;
      this.st.storeRootUpdateDev.run(dev, row.id);
      return { ...row, dev };
    }
    const id = Number(this.st.storeRootInsert.run(rootPath, dev).lastInsertRowid);
    return { id, path: rootPath, dev };
  }

  // --- objects -------------------------------------------------------------------

  /**
   * Record an object file at its address: its row, inserted, or — when another run recorded the
   * address first (or the file was written again) — the existing row with this inode.
   */
  recordObject(o: NewObject, now: number): ObjectRow {
    const row = this.st.objGet.get(o.key.hash, o.key.size, o.rootId, o.replica);
    if (row) {
      if (row.dev !== o.fp.dev || row.ino !== o.fp.ino) this.reinodeObject(row.id, o.fp, o.allocated);
      return this.st.objById.get(row.id)!;
    }
    const info = this.st.objInsert.run({
      hash: o.key.hash,
      size: o.key.size,
      replica: o.replica,
      root_id: o.rootId,
      dev: o.fp.dev,
      ino: o.fp.ino,
      mtime_ns: o.fp.mtimeNs,
      ctime_ns: o.fp.ctimeNs,
      allocated: o.allocated,
      magic: o.magic ?? null,
      invalidation: o.invalidation ?? null,
      body_hash: o.bodyHash ?? null,
      now,
    });
    return this.st.objById.get(Number(info.lastInsertRowid))!;
  }

  /** The object's file as it is now (written again, or re-verified): its inode, times and blocks. */
  reinodeObject(id: number, fp: Fingerprint, allocated: number): void {
    this.st.objReinode.run(fp.dev, fp.ino, fp.mtimeNs, fp.ctimeNs, allocated, id);
  }

  touchObject(id: number, now: number): void {
    this.st.objTouch.run(now, id);
  }

  /** Delete an object row; its link rows must be gone already (foreign key). */
  forgetObjectById(id: number): void {
    this.st.objDelete.run(id);
  }

  /** Forget an object and every link to it (verify --repair, after the files were dealt with). */
  forgetObjectWithLinks(id: number): void {
    this.st.linksDeleteOfObject.run(id);
    this.st.objDelete.run(id);
  }

  // --- links and seen --------------------------------------------------------------

  /**
   * `freed`: the allocated bytes replacing this file gave back; `header`: the header kind it had before
   * (kept from the first link of this path). Null: not known (e.g. a link adopted from a killed run).
   */
  recordLink(
    filePath: string,
    objectId: number,
    rootId: number | null,
    kind: LinkKind,
    fp: Fingerprint,
    now: number,
    was: { freed: number | null; header: Invalidation | null } = { freed: null, header: null },
  ): void {
    const { dirId, name } = this.place(filePath);
    this.st.linkUpsert.run({
      dir_id: dirId,
      name,
      object_id: objectId,
      root_id: rootId,
      kind,
      dev: fp.dev,
      ino: fp.ino,
      size: fp.size,
      mtime_ns: fp.mtimeNs,
      ctime_ns: fp.ctimeNs,
      now,
      freed: was.freed,
      header: was.header,
    });
    this.st.seenDelete.run(dirId, name);
  }

  forgetLinkById(id: number): void {
    this.st.linkDeleteById.run(id);
  }

  /** A reflink whose metadata moved but whose content is still the object's: remember its new fingerprint. */
  refreshLink(linkId: number, fp: Fingerprint): void {
    this.st.linkRefresh.run(fp.dev, fp.ino, fp.size, fp.mtimeNs, fp.ctimeNs, linkId);
  }

  recordSeen(filePath: string, fp: Fingerprint, sourceFp: string | null, outcome: string, now: number): void {
    const { dirId, name } = this.place(filePath);
    this.st.seenUpsert.run({
      dir_id: dirId,
      name,
      dev: fp.dev,
      ino: fp.ino,
      size: fp.size,
      mtime_ns: fp.mtimeNs,
      ctime_ns: fp.ctimeNs,
      source_fp: sourceFp,
      outcome,
      now,
    });
  }

  forgetSeenById(id: number): void {
    this.st.seenDeleteById.run(id);
  }

  // --- roots -------------------------------------------------------------------------

  addRoot(rootPath: string, pycachePrefix: string | null, now: number): number {
    const dirId = this.dirs.ensure(rootPath);
    const row = this.st.rootGet.get(dirId);
    if (row) {
      if (pycachePrefix !== null) this.st.rootUpdatePrefix.run(pycachePrefix, row.id);
      return row.id;
    }
    return Number(this.st.rootInsert.run(dirId, pycachePrefix, now).lastInsertRowid);
  }

  markScanned(rootId: number, now: number): void {
    this.st.rootScanned.run(now, rootId);
  }

  forgetRoot(id: number): void {
    this.st.rootDelete.run(id);
  }

  // --- compilations and runs ---------------------------------------------------------------

  recordBody(magic: number, optimization: number, relName: string, sourceHash: string, bodyHash: string): void {
    this.st.sourcePut.run(magic, optimization, relName, sourceHash, bodyHash);
  }

  startRun(command: string, now: number): number {
    return Number(this.st.runStart.run(command, now).lastInsertRowid);
  }

  finishRun(id: number, exitCode: number, figures: unknown, now: number): void {
    this.st.runFinish.run(now, exitCode, figures === undefined ? null : JSON.stringify(figures), id);
  }
}
