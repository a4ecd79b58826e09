/**
 * Typed access to the ledger: statements prepared once per connection, paths
 * mapped to (dir_id, name) through the dirs table (ledger/dirs.ts). Reads are
 * methods here; writes go only through `writer()` (ledger/writer.ts): short
 * IMMEDIATE transactions with nothing awaited inside. The connection itself is
 * private.
 */
import path from 'node:path';
import type { ObjectKey } from '../hash/key.js';
import { DirTree } from './dirs.js';
import type { Db } from './db.js';
import type { PathApi } from './paths.js';
import type { DirLinkRow, LedgerSummary, LinkRow, ObjectRow, RootRow, RunRow, SeenPathRow, SeenRow, StoreRootRow } from './rows.js';
import { immediate } from './db.js';
import { LOOKUP_SQL, type BodyLookup } from './lookup.js';
import { LedgerWriter } from './writer.js';
import { LedgerWrites } from './writes.js';

export type { LedgerWriter } from './writer.js';
export type { LedgerWrites } from './writes.js';

function prepare(db: Db) {
  return {
    storeRootByPath: db.prepare<[string], StoreRootRow>('SELECT * FROM store_roots WHERE path = ?'),
    storeRoots: db.prepare<[], StoreRootRow>('SELECT * FROM store_roots ORDER BY id'),
    objGet: db.prepare<[string, number, number, number], ObjectRow>('SELECT * FROM objects WHERE hash = ? AND size = ? AND root_id = ? AND replica = ?'),
    objById: db.prepare<[number], ObjectRow>('SELECT * FROM objects WHERE id = ?'),
    objAll: db.prepare<[], ObjectRow>('SELECT * FROM objects ORDER BY id'),
    objAny: db.prepare<[string, number], { id: number }>('SELECT id FROM objects WHERE hash = ? AND size = ? LIMIT 1'),
    objByInode: db.prepare<[string, string], ObjectRow>('SELECT * FROM objects WHERE dev = ? AND ino = ?'),
    objsByBody: db.prepare<[number, string], ObjectRow>(LOOKUP_SQL.objectsWithBody),
    objsTimestampInConflict: db.prepare<[], { id: number }>(
      `SELECT o.id FROM objects o WHERE o.invalidation = 'timestamp' AND EXISTS (
         SELECT 1 FROM objects x WHERE x.magic = o.magic AND x.body_hash = o.body_hash
           AND (x.invalidation = 'checked-hash' OR (x.invalidation = 'timestamp' AND (x.hash <> o.hash OR x.size <> o.size))))`,
    ),
    linkGet: db.prepare<[number, string], LinkRow>('SELECT * FROM links WHERE dir_id = ? AND name = ?'),
    // The links of one folder with what a rescan compares them with: their object's inode and size.
    linksInDir: db.prepare<[number], DirLinkRow>(
      `SELECT l.name, l.object_id, l.kind, l.dev, l.ino, l.size, l.mtime_ns, l.ctime_ns,
              o.dev AS object_dev, o.ino AS object_ino, o.size AS object_size, o.invalidation AS object_invalidation
       FROM links l JOIN objects o ON o.id = l.object_id WHERE l.dir_id = ?`,
    ),
    seenInDir: db.prepare<[number], SeenRow & { name: string }>(
      'SELECT name, dev, ino, size, mtime_ns, ctime_ns, source_fp, outcome FROM seen WHERE dir_id = ?',
    ),
    objInodes: db.prepare<[], { id: number; dev: string; ino: string; size: number }>('SELECT id, dev, ino, size FROM objects'),
    linkAll: db.prepare<[], LinkRow>('SELECT * FROM links ORDER BY id'),
    // Every link in the subtree of a dirs row (the dirs_child index serves the recursion).
    linksUnder: db.prepare<[number], LinkRow>(
      `WITH RECURSIVE sub(id) AS (SELECT ? UNION ALL SELECT d.id FROM dirs d JOIN sub ON d.parent = sub.id)
       SELECT l.* FROM links l JOIN sub ON l.dir_id = sub.id ORDER BY l.id`,
    ),
    linksOfObject: db.prepare<[number], LinkRow>('SELECT * FROM links WHERE object_id = ? ORDER BY id'),
    linksOfAddress: db.prepare<[string, number], LinkRow>(
      'SELECT l.* FROM links l JOIN objects o ON o.id = l.object_id WHERE o.hash = ? AND o.size = ? ORDER BY l.id',
    ),
    seenGet: db.prepare<[number, string], SeenRow>('SELECT * FROM seen WHERE dir_id = ? AND name = ?'),
    seenAll: db.prepare<[], SeenPathRow>('SELECT id, dir_id, name FROM seen ORDER BY id'),
    roots: db.prepare<[], Omit<RootRow, 'path'>>('SELECT * FROM roots ORDER BY id'),
    sourceGet: db.prepare<[number, number, string, string], { body_hash: string }>(LOOKUP_SQL.bodyFor),
    objectTotals: db.prepare<[], { n: number; bytes: number; alloc: number }>(
      'SELECT count(*) AS n, coalesce(sum(size), 0) AS bytes, coalesce(sum(allocated), 0) AS alloc FROM objects',
    ),
    linkCount: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM links'),
    saved: db.prepare<[], { saved: number }>(
      // Σ over links of the blocks each freed (the object's allocation when not known) − Σ objects' blocks.
      `SELECT coalesce(sum(coalesce(l.freed, o.allocated)), 0) - (SELECT coalesce(sum(allocated), 0) FROM objects) AS saved
       FROM links l JOIN objects o ON o.id = l.object_id`,
    ),
    lastRun: db.prepare<[], RunRow>('SELECT command, started_at, finished_at, exit_code FROM runs ORDER BY id DESC LIMIT 1'),
  };
}

export interface LedgerOptions {
  /** Told once when a write has to wait for another process's write transaction. */
  readonly onWait?: (message: string) => void;
  /** The path module paths are spelled with (tests use path.win32). */
  readonly pathApi?: PathApi;
}

export class Ledger implements BodyLookup {
  readonly #db: Db;
  readonly #dirs: DirTree;
  readonly #writes: LedgerWrites;
  readonly #st;
  readonly #onWait: ((message: string) => void) | undefined;
  #waited = false;

  constructor(db: Db, opts: LedgerOptions = {}) {
    this.#db = db;
    this.#dirs = new DirTree(db, opts.pathApi ?? path);
    this.#writes = new LedgerWrites(db, this.#dirs);
    this.#st = prepare(db);
    this.#onWait = opts.onWait;
  }

  /** A writer: the only way to change the ledger (queued ops in IMMEDIATE batches). */
  writer(batchSize = 256): LedgerWriter<LedgerWrites> {
    return new LedgerWriter<LedgerWrites>(<T>(fn: (w: LedgerWrites) => T): T => this.#transact(fn), batchSize);
  }

  #transact<T>(fn: (w: LedgerWrites) => T): T {
    const out = immediate(this.#db, () => fn(this.#writes), {
      onWait: () => {
        if (this.#waited) return;
        this.#waited = true;
        this.#onWait?.('waiting for another pycstore to finish writing the ledger…');
      },
      onRollback: () => this.#dirs.rolledBack(),
    });
    this.#dirs.committed();
    return out;
  }

  close(): void {
    this.#db.close();
  }

  /**
   * Run `fn` (reads only, nothing awaited) in one read transaction: one snapshot and one lock for
   * many lookups instead of one per statement. Never inside a write.
   */
  reading<T>(fn: () => T): T {
    if (this.#db.inTransaction) return fn();
    return this.#db.transaction(fn).deferred();
  }

  // --- paths -----------------------------------------------------------------

  dirPath(id: number): string {
    return this.#dirs.path(id);
  }

  filePath(dirId: number, name: string): string {
    return this.#dirs.filePath(dirId, name);
  }

  private at<R>(filePath: string, get: (dirId: number, name: string) => R | undefined): R | undefined {
    const { dir, name } = this.#dirs.split(filePath);
    const dirId = this.#dirs.find(dir);
    return dirId === undefined ? undefined : get(dirId, name);
  }

  // --- store roots -------------------------------------------------------------

  storeRootAt(rootPath: string): StoreRootRow | undefined {
    return this.#st.storeRootByPath.get(rootPath);
  }

  storeRoots(): StoreRootRow[] {
    return this.#st.storeRoots.all();
  }

  // --- objects -----------------------------------------------------------------

  object(key: ObjectKey, rootId: number, replica: number): ObjectRow | undefined {
    return this.#st.objGet.get(key.hash, key.size, rootId, replica);
  }

  /** Is there an object with this address in any store root? */
  hasObject(key: ObjectKey): boolean {
    return this.#st.objAny.get(key.hash, key.size) !== undefined;
  }

  objectById(id: number): ObjectRow | undefined {
    return this.#st.objById.get(id);
  }

  /** Every object row (all store roots, all replicas). */
  objects(): ObjectRow[] {
    return this.#st.objAll.all();
  }

  objectByInode(dev: string, ino: string): ObjectRow | undefined {
    return this.#st.objByInode.get(dev, ino);
  }

  /** Every object (any header, any store root, any replica) carrying this marshal body. */
  objectsWithBody(magic: number, bodyHash: string): ObjectRow[] {
    return this.#st.objsByBody.all(magic, bodyHash);
  }

  /** Timestamp objects whose code (magic, body) the store also holds under another header. */
  timestampObjectsInConflict(): number[] {
    return this.#st.objsTimestampInConflict.all().map((r) => r.id);
  }

  // --- links and seen ------------------------------------------------------------

  link(filePath: string): LinkRow | undefined {
    return this.at(filePath, (d, n) => this.#st.linkGet.get(d, n));
  }

  links(): LinkRow[] {
    return this.#st.linkAll.all();
  }

  /** Links at or below the absolute directory `dir` (none when the ledger never saw it). */
  linksUnder(dir: string): LinkRow[] {
    const id = this.#dirs.find(dir);
    return id === undefined ? [] : this.#st.linksUnder.all(id);
  }

  /** The links recorded in the folder `dir` (with their object's inode), by file name. */
  linksIn(dir: string): Map<string, DirLinkRow> {
    const id = this.#dirs.find(dir);
    const out = new Map<string, DirLinkRow>();
    if (id !== undefined) for (const r of this.#st.linksInDir.all(id)) out.set(r.name, r);
    return out;
  }

  /** The seen rows of the folder `dir`, by file name. */
  seenIn(dir: string): Map<string, SeenRow> {
    const id = this.#dirs.find(dir);
    const out = new Map<string, SeenRow>();
    if (id !== undefined) for (const r of this.#st.seenInDir.all(id)) out.set(r.name, r);
    return out;
  }

  /** Every object's inode ("dev:ino") → its id and size: for recognising files hard-linked outside pycstore. */
  objectInodes(): Map<string, { readonly id: number; readonly size: number }> {
    const out = new Map<string, { id: number; size: number }>();
    for (const r of this.#st.objInodes.iterate()) out.set(`${r.dev}:${r.ino}`, { id: r.id, size: r.size });
    return out;
  }

  linksOfObject(objectId: number): LinkRow[] {
    return this.#st.linksOfObject.all(objectId);
  }

  /** Links to any object with this address (every replica, every store root). */
  linksOfAddress(hash: string, size: number): LinkRow[] {
    return this.#st.linksOfAddress.all(hash, size);
  }

  seen(filePath: string): SeenRow | undefined {
    return this.at(filePath, (d, n) => this.#st.seenGet.get(d, n));
  }

  /** Every seen row's id and path (gc sweeps those of files that are gone). */
  seenRows(): SeenPathRow[] {
    return this.#st.seenAll.all();
  }

  // --- roots, compilations, runs ------------------------------------------------------

  roots(): RootRow[] {
    return this.#st.roots.all().map((r) => ({ ...r, path: this.dirPath(r.dir_id) }));
  }

  bodyFor(magic: number, optimization: number, relName: string, sourceHash: string): string | undefined {
    return this.#st.sourceGet.get(magic, optimization, relName, sourceHash)?.body_hash;
  }

  /** What the store holds and saves, from the ledger alone. */
  summary(): LedgerSummary {
    const o = this.#st.objectTotals.get()!;
    return {
      objects: o.n,
      objectBytes: o.bytes,
      objectAllocatedBytes: o.alloc,
      links: this.#st.linkCount.get()!.n,
      bytesSaved: this.#st.saved.get()!.saved,
    };
  }

  /** The run started last (finished or not: a run killed before its end has no exit code). */
  lastRun(): RunRow | undefined {
    return this.#st.lastRun.get();
  }
}
