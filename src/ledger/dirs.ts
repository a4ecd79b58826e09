/**
 * The dirs table as a tree: a directory path ↔ its row id, looked up once per
 * connection while it is in use (the directories used lately are cached: a run
 * over 300,000 pycs doesn't keep every path it wrote). Rows are created only
 * inside a write transaction (`ensure`); ids cached during a transaction that
 * rolls back are forgotten.
 */
import { ownString, RecentMap } from '../util/compact.js';
import type { Db } from './db.js';
import { chainPath, dirChain, type PathApi } from './paths.js';

/** Directories cached per generation (RecentMap), each way. */
const CACHED = 4096;

export class DirTree {
  private readonly ids = new RecentMap<string, number>(CACHED);
  private readonly paths = new RecentMap<number, string>(CACHED);
  /** Paths cached by the open write transaction: forgotten if it rolls back. */
  private fresh: { dir: string; id: number }[] = [];
  /** Directories found missing since the last write committed (rows may appear only by writing). */
  private readonly missing = new Set<string>();
  private readonly st;

  constructor(
    private readonly db: Db,
    private readonly p: PathApi,
  ) {
    this.st = {
      get: db.prepare<[number, string], { id: number }>('SELECT id FROM dirs WHERE parent = ? AND name = ?'),
      insert: db.prepare<[number, string]>('INSERT INTO dirs (parent, name) VALUES (?, ?)'),
      row: db.prepare<[number], { parent: number | null; name: string }>('SELECT parent, name FROM dirs WHERE id = ?'),
    };
  }

  /** The row of an absolute directory, or undefined when the ledger never recorded it. */
  find(dir: string): number | undefined {
    return this.lookup(dir, false);
  }

  /** The row of an absolute directory, created (with its parents) if needed. Inside a write transaction only. */
  ensure(dir: string): number {
    return this.lookup(dir, true)!;
  }

  private lookup(dir: string, create: boolean): number | undefined {
    const cached = this.ids.get(dir);
    if (cached !== undefined) return cached;
    if (!create && this.missing.has(dir)) return undefined;
    const parent = this.p.dirname(dir);
    // A filesystem root, or a spelling to normalise first: the whole chain from row 1.
    if (parent === dir || this.p.normalize(dir) !== dir || dir.endsWith(this.p.sep)) return this.lookupChain(dir, create);
    const parentId = this.lookup(parent, create);
    const id = parentId === undefined ? undefined : this.child(parentId, this.p.basename(dir), create);
    if (id === undefined) {
      this.missing.add(dir);
      return undefined;
    }
    this.remember(dir, id, this.db.inTransaction);
    return id;
  }

  /** The row `name` under `parentId`, created if asked (inside a write transaction). */
  private child(parentId: number, name: string, create: boolean): number | undefined {
    const found = this.st.get.get(parentId, name)?.id;
    if (found !== undefined || !create) return found;
    return Number(this.st.insert.run(parentId, name).lastInsertRowid);
  }

  /** Walk from row 1 down the whole chain of names (roots, and spellings that aren't normalised). */
  private lookupChain(dir: string, create: boolean): number | undefined {
    let id = 1;
    for (const name of dirChain(dir, this.p)) {
      const child = this.child(id, name, create);
      if (child === undefined) return undefined;
      id = child;
    }
    this.remember(dir, id, this.db.inTransaction);
    return id;
  }

  private remember(path: string, id: number, inTransaction: boolean): void {
    const dir = ownString(path);
    this.ids.set(dir, id);
    this.paths.set(id, dir);
    if (inTransaction) this.fresh.push({ dir, id });
  }

  /** A file path as (directory, name). */
  split(filePath: string): { dir: string; name: string } {
    return { dir: this.p.dirname(filePath), name: this.p.basename(filePath) };
  }

  /** The absolute path of a file recorded as (dirs row, name). */
  filePath(dirId: number, name: string): string {
    return this.p.join(this.path(dirId), name);
  }

  /** The absolute path of a dirs row. */
  path(id: number): string {
    const cached = this.paths.get(id);
    if (cached !== undefined) return cached;
    const names: string[] = [];
    for (let cur = id; cur !== 1; ) {
      const row = this.st.row.get(cur);
      if (!row) throw new Error(`ledger: no dirs row ${cur}`);
      names.unshift(row.name);
      cur = row.parent ?? 1;
    }
    const p = chainPath(names, this.p);
    this.remember(p, id, false);
    return p;
  }

  /** The write transaction committed: what it cached stands. */
  committed(): void {
    this.fresh = [];
    this.missing.clear();
  }

  /** The write transaction rolled back: forget the rows it created. */
  rolledBack(): void {
    this.missing.clear();
    for (const { dir, id } of this.fresh) {
      this.ids.delete(dir);
      this.paths.delete(id);
    }
    this.fresh = [];
  }
}
