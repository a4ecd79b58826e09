/**
 * Typed access to the ledger: statements prepared once per connection, paths
 * mapped to (dir_id, name) through the dirs table, writes batched by the caller
 * in `ledger.batch(fn)` (a better-sqlite3 transaction, no await inside).
 */
import path from 'node:path';
import type { Fingerprint } from '../fs/fingerprint.js';
import type { ObjectKey } from '../hash/key.js';
import type { Db } from './open.js';

export type LinkKind = 'hardlink' | 'reflink';

export interface ObjectRow {
  readonly id: number;
  readonly hash: string;
  readonly size: number;
  readonly replica: number;
  readonly root_id: number;
  readonly dev: string;
  readonly ino: string;
  readonly mtime_ns: string;
  readonly ctime_ns: string;
  readonly allocated: number;
  readonly magic: number | null;
  readonly invalidation: string | null;
  readonly body_hash: string | null;
  readonly created_at: number;
  readonly used_at: number;
}

export interface LinkRow {
  readonly id: number;
  readonly dir_id: number;
  readonly name: string;
  readonly object_id: number;
  readonly root_id: number | null;
  readonly kind: LinkKind;
  readonly dev: string;
  readonly ino: string;
  readonly size: number;
  readonly mtime_ns: string;
  readonly ctime_ns: string;
  readonly linked_at: number;
}

export interface SeenRow {
  readonly dev: string;
  readonly ino: string;
  readonly size: number;
  readonly mtime_ns: string;
  readonly ctime_ns: string;
  readonly source_fp: string | null;
  readonly outcome: string;
}

export interface StoreRootRow {
  readonly id: number;
  readonly path: string;
  readonly dev: string;
}

export interface RootRow {
  readonly id: number;
  readonly dir_id: number;
  readonly path: string;
  readonly pycache_prefix: string | null;
  readonly added_at: number;
  readonly scanned_at: number | null;
}

export interface NewObject {
  readonly key: ObjectKey;
  readonly replica: number;
  readonly rootId: number;
  readonly fp: Fingerprint;
  readonly allocated: number;
  readonly magic?: number | undefined;
  readonly invalidation?: string | undefined;
  readonly bodyHash?: string | undefined;
}

/** The (dev, ino, size, mtime_ns, ctime_ns) a row recorded: a link's right after the swap, an object's as last verified, a seen file's. */
export function recordedFingerprint(row: {
  readonly dev: string;
  readonly ino: string;
  readonly size: number;
  readonly mtime_ns: string;
  readonly ctime_ns: string;
}): Fingerprint {
  return { dev: row.dev, ino: row.ino, size: row.size, mtimeNs: row.mtime_ns, ctimeNs: row.ctime_ns };
}

function splitPath(p: string): { dir: string; name: string } {
  return { dir: path.dirname(p), name: path.basename(p) };
}

export class Ledger {
  readonly db: Db;
  private readonly dirCache = new Map<string, number>();
  private readonly dirPathCache = new Map<number, string>();
  private readonly st;

  constructor(db: Db) {
    this.db = db;
    this.st = {
      dirGet: db.prepare<[number, string], { id: number }>('SELECT id FROM dirs WHERE parent = ? AND name = ?'),
      dirInsert: db.prepare<[number, string]>('INSERT INTO dirs (parent, name) VALUES (?, ?)'),
      dirRow: db.prepare<[number], { parent: number | null; name: string }>('SELECT parent, name FROM dirs WHERE id = ?'),
      storeRootByPath: db.prepare<[string], StoreRootRow>('SELECT * FROM store_roots WHERE path = ?'),
      storeRootInsert: db.prepare<[string, string]>('INSERT INTO store_roots (path, dev) VALUES (?, ?)'),
      storeRootUpdateDev: db.prepare<[string, number]>('UPDATE store_roots SET dev = ? WHERE id = ?'),
      storeRoots: db.prepare<[], StoreRootRow>('SELECT * FROM store_roots ORDER BY id'),
      objGet: db.prepare<[string, number, number, number], ObjectRow>(
        'SELECT * FROM objects WHERE hash = ? AND size = ? AND root_id = ? AND replica = ?',
      ),
      objById: db.prepare<[number], ObjectRow>('SELECT * FROM objects WHERE id = ?'),
      objAll: db.prepare<[], ObjectRow>('SELECT * FROM objects ORDER BY id'),
      objDelete: db.prepare<[number]>('DELETE FROM objects WHERE id = ?'),
      objAny: db.prepare<[string, number], { id: number }>('SELECT id FROM objects WHERE hash = ? AND size = ? LIMIT 1'),
      objByInode: db.prepare<[string, string], ObjectRow>('SELECT * FROM objects WHERE dev = ? AND ino = ?'),
      objInsert: db.prepare(
        `INSERT INTO objects (hash, size, replica, root_id, dev, ino, mtime_ns, ctime_ns, allocated, magic, invalidation, body_hash, created_at, used_at)
         VALUES (@hash, @size, @replica, @root_id, @dev, @ino, @mtime_ns, @ctime_ns, @allocated, @magic, @invalidation, @body_hash, @now, @now)`,
      ),
      objTouch: db.prepare<[number, number]>('UPDATE objects SET used_at = ? WHERE id = ?'),
      objReinode: db.prepare<[string, string, string, string, number, number]>(
        'UPDATE objects SET dev = ?, ino = ?, mtime_ns = ?, ctime_ns = ?, allocated = ? WHERE id = ?',
      ),
      linkGet: db.prepare<[number, string], LinkRow>('SELECT * FROM links WHERE dir_id = ? AND name = ?'),
      linkUpsert: db.prepare(
        `INSERT INTO links (dir_id, name, object_id, root_id, kind, dev, ino, size, mtime_ns, ctime_ns, linked_at)
         VALUES (@dir_id, @name, @object_id, @root_id, @kind, @dev, @ino, @size, @mtime_ns, @ctime_ns, @now)
         ON CONFLICT (dir_id, name) DO UPDATE SET object_id = excluded.object_id, root_id = excluded.root_id, kind = excluded.kind,
           dev = excluded.dev, ino = excluded.ino, size = excluded.size, mtime_ns = excluded.mtime_ns, ctime_ns = excluded.ctime_ns,
           linked_at = excluded.linked_at`,
      ),
      linkDelete: db.prepare<[number, string]>('DELETE FROM links WHERE dir_id = ? AND name = ?'),
      linkDeleteById: db.prepare<[number]>('DELETE FROM links WHERE id = ?'),
      linkAll: db.prepare<[], LinkRow>('SELECT * FROM links ORDER BY id'),
      // Every link in the subtree of a dirs row (the dirs_child index serves the recursion).
      linksUnder: db.prepare<[number], LinkRow>(
        `WITH RECURSIVE sub(id) AS (SELECT ? UNION ALL SELECT d.id FROM dirs d JOIN sub ON d.parent = sub.id)
         SELECT l.* FROM links l JOIN sub ON l.dir_id = sub.id ORDER BY l.id`,
      ),
      seenGet: db.prepare<[number, string], SeenRow>('SELECT * FROM seen WHERE dir_id = ? AND name = ?'),
      seenUpsert: db.prepare(
        `INSERT INTO seen (dir_id, name, dev, ino, size, mtime_ns, ctime_ns, source_fp, outcome, seen_at)
         VALUES (@dir_id, @name, @dev, @ino, @size, @mtime_ns, @ctime_ns, @source_fp, @outcome, @now)
         ON CONFLICT (dir_id, name) DO UPDATE SET dev = excluded.dev, ino = excluded.ino, size = excluded.size,
           mtime_ns = excluded.mtime_ns, ctime_ns = excluded.ctime_ns, source_fp = excluded.source_fp,
           outcome = excluded.outcome, seen_at = excluded.seen_at`,
      ),
      seenDelete: db.prepare<[number, string]>('DELETE FROM seen WHERE dir_id = ? AND name = ?'),
      rootGet: db.prepare<[number], { id: number }>('SELECT id FROM roots WHERE dir_id = ?'),
      rootInsert: db.prepare<[number, string | null, number]>('INSERT INTO roots (dir_id, pycache_prefix, added_at) VALUES (?, ?, ?)'),
      rootUpdatePrefix: db.prepare<[string | null, number]>('UPDATE roots SET pycache_prefix = ? WHERE id = ?'),
      rootScanned: db.prepare<[number, number]>('UPDATE roots SET scanned_at = ? WHERE id = ?'),
      roots: db.prepare<[], Omit<RootRow, 'path'>>('SELECT * FROM roots ORDER BY id'),
      rootDelete: db.prepare<[number]>('DELETE FROM roots WHERE id = ?'),
      sourceGet: db.prepare<[number, number, string, string], { body_hash: string }>(
        'SELECT body_hash FROM sources WHERE magic = ? AND optimization = ? AND rel_name = ? AND source_hash = ?',
      ),
      sourcePut: db.prepare<[number, number, string, string, string]>(
        'INSERT OR REPLACE INTO sources (magic, optimization, rel_name, source_hash, body_hash) VALUES (?, ?, ?, ?, ?)',
      ),
      objByBody: db.prepare<[number, string], ObjectRow>('SELECT * FROM objects WHERE magic = ? AND body_hash = ? ORDER BY replica LIMIT 1'),
      objsByBody: db.prepare<[number, string], ObjectRow>('SELECT * FROM objects WHERE magic = ? AND body_hash = ?'),
      objsTimestampInConflict: db.prepare<[], { id: number }>(
        `SELECT o.id FROM objects o WHERE o.invalidation = 'timestamp' AND EXISTS (
           SELECT 1 FROM objects x WHERE x.magic = o.magic AND x.body_hash = o.body_hash
             AND (x.invalidation = 'checked-hash' OR (x.invalidation = 'timestamp' AND (x.hash <> o.hash OR x.size <> o.size))))`,
      ),
      runStart: db.prepare<[string, number]>('INSERT INTO runs (command, started_at) VALUES (?, ?)'),
      runFinish: db.prepare<[number, number, string, number]>('UPDATE runs SET finished_at = ?, exit_code = ?, figures = ? WHERE id = ?'),
    };
  }

  /** Run `fn` in one transaction (synchronous: no await inside). */
  batch<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    this.db.close();
  }

  // --- paths -----------------------------------------------------------------

  /** The dirs row of an absolute directory path, created if `create`. */
  dirId(dir: string, create: true): number;
  dirId(dir: string, create: false): number | undefined;
  dirId(dir: string, create: boolean): number | undefined {
    const cached = this.dirCache.get(dir);
    if (cached !== undefined) return cached;
    if (!path.isAbsolute(dir)) throw new Error(`not an absolute path: ${dir}`);
    const parentPath = path.dirname(dir);
    let id: number | undefined;
    if (parentPath === dir) {
      id = 1; // filesystem root
    } else {
      const parent = create ? this.dirId(parentPath, true) : this.dirId(parentPath, false);
      if (parent === undefined) return undefined;
      const name = path.basename(dir);
      id = this.st.dirGet.get(parent, name)?.id;
      if (id === undefined) {
        if (!create) return undefined;
        id = Number(this.st.dirInsert.run(parent, name).lastInsertRowid);
      }
    }
    this.dirCache.set(dir, id);
    this.dirPathCache.set(id, dir);
    return id;
  }

  dirPath(id: number): string {
    const cached = this.dirPathCache.get(id);
    if (cached !== undefined) return cached;
    const row = this.st.dirRow.get(id);
    if (!row) throw new Error(`ledger: no dirs row ${id}`);
    const p = row.parent === null ? path.parse(process.cwd()).root : path.join(this.dirPath(row.parent), row.name);
    this.dirPathCache.set(id, p);
    this.dirCache.set(p, id);
    return p;
  }

  filePath(dirId: number, name: string): string {
    return path.join(this.dirPath(dirId), name);
  }

  // --- store roots -------------------------------------------------------------

  storeRoot(rootPath: string, dev: string): StoreRootRow {
    const row = this.st.storeRootByPath.get(rootPath);
    if (row) {
      if (row.dev !== dev) {
        this.st.storeRootUpdateDev.run(dev, row.id);
        return { ...row, dev };
      }
      return row;
    }
    const id = Number(this.st.storeRootInsert.run(rootPath, dev).lastInsertRowid);
    return { id, path: rootPath, dev };
  }

  storeRoots(): StoreRootRow[] {
    return this.st.storeRoots.all();
  }

  // --- objects -----------------------------------------------------------------

  object(key: ObjectKey, rootId: number, replica: number): ObjectRow | undefined {
    return this.st.objGet.get(key.hash, key.size, rootId, replica);
  }

  /** Is there an object with this address in any store root? */
  hasObject(key: ObjectKey): boolean {
    return this.st.objAny.get(key.hash, key.size) !== undefined;
  }

  objectById(id: number): ObjectRow | undefined {
    return this.st.objById.get(id);
  }

  /** Every object row (all store roots, all replicas). */
  objects(): ObjectRow[] {
    return this.st.objAll.all();
  }

  /** Delete an object row; its link rows must be gone already (foreign key). */
  forgetObjectById(id: number): void {
    this.st.objDelete.run(id);
  }

  objectByInode(dev: string, ino: string): ObjectRow | undefined {
    return this.st.objByInode.get(dev, ino);
  }

  insertObject(o: NewObject, now: number): ObjectRow {
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

  /** The object file was written again (it had gone missing): record its new inode. */
  reinodeObject(id: number, fp: Fingerprint, allocated: number): void {
    this.st.objReinode.run(fp.dev, fp.ino, fp.mtimeNs, fp.ctimeNs, allocated, id);
  }

  touchObject(id: number, now: number): void {
    this.st.objTouch.run(now, id);
  }

  // --- links and seen ------------------------------------------------------------

  link(filePath: string): LinkRow | undefined {
    const { dir, name } = splitPath(filePath);
    const dirId = this.dirId(dir, false);
    return dirId === undefined ? undefined : this.st.linkGet.get(dirId, name);
  }

  recordLink(filePath: string, objectId: number, rootId: number | null, kind: LinkKind, fp: Fingerprint, now: number): void {
    const { dir, name } = splitPath(filePath);
    const dirId = this.dirId(dir, true);
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
    });
    this.st.seenDelete.run(dirId, name);
  }

  forgetLink(filePath: string): void {
    const { dir, name } = splitPath(filePath);
    const dirId = this.dirId(dir, false);
    if (dirId !== undefined) this.st.linkDelete.run(dirId, name);
  }

  forgetLinkById(id: number): void {
    this.st.linkDeleteById.run(id);
  }

  links(): LinkRow[] {
    return this.st.linkAll.all();
  }

  /** Links at or below the absolute directory `dir` (none when the ledger never saw it). */
  linksUnder(dir: string): LinkRow[] {
    const id = this.dirId(dir, false);
    return id === undefined ? [] : this.st.linksUnder.all(id);
  }

  seen(filePath: string): SeenRow | undefined {
    const { dir, name } = splitPath(filePath);
    const dirId = this.dirId(dir, false);
    return dirId === undefined ? undefined : this.st.seenGet.get(dirId, name);
  }

  recordSeen(filePath: string, fp: Fingerprint, sourceFp: string | null, outcome: string, now: number): void {
    const { dir, name } = splitPath(filePath);
    const dirId = this.dirId(dir, true);
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

  forgetSeen(filePath: string): void {
    const { dir, name } = splitPath(filePath);
    const dirId = this.dirId(dir, false);
    if (dirId !== undefined) this.st.seenDelete.run(dirId, name);
  }

  // --- roots ---------------------------------------------------------------------

  addRoot(rootPath: string, pycachePrefix: string | null, now: number): number {
    const dirId = this.dirId(rootPath, true);
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

  roots(): RootRow[] {
    return this.st.roots.all().map((r) => ({ ...r, path: this.dirPath(r.dir_id) }));
  }

  forgetRoot(id: number): void {
    this.st.rootDelete.run(id);
  }

  // --- compilations ----------------------------------------------------------------

  bodyFor(magic: number, optimization: number, relName: string, sourceHash: string): string | undefined {
    return this.st.sourceGet.get(magic, optimization, relName, sourceHash)?.body_hash;
  }

  recordBody(magic: number, optimization: number, relName: string, sourceHash: string, bodyHash: string): void {
    this.st.sourcePut.run(magic, optimization, relName, sourceHash, bodyHash);
  }

  /** Every object (any header, any store root, any replica) carrying this marshal body. */
  objectsWithBody(magic: number, bodyHash: string): ObjectRow[] {
    return this.st.objsByBody.all(magic, bodyHash);
  }

  /** Timestamp objects whose code (magic, body) the store also holds under another header. */
  timestampObjectsInConflict(): number[] {
    return this.st.objsTimestampInConflict.all().map((r) => r.id);
  }

  objectWithBody(magic: number, bodyHash: string): ObjectRow | undefined {
    return this.st.objByBody.get(magic, bodyHash);
  }

  // --- runs ----------------------------------------------------------------------

  startRun(command: string, now: number): number {
    return Number(this.st.runStart.run(command, now).lastInsertRowid);
  }

  finishRun(id: number, exitCode: number, figures: unknown, now: number): void {
    this.st.runFinish.run(now, exitCode, JSON.stringify(figures), id);
  }
}
