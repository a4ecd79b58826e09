/**
 * The dirs table as a tree: a directory path ↔ its row id, each looked up once
 * per connection (cached). Rows are created only inside a write transaction
 * (`ensure`); ids cached during a transaction that rolls back are forgotten.
 */
import type { Db } from './db.js';
import { chainPath, dirChain, type PathApi } from './paths.js';

export class DirTree {
  private readonly ids = new Map<string, number>();
  private readonly paths = new Map<number, string>();
  /** Paths cached by the open write transaction: forgotten if it rolls back. */
  private fresh: string[] = [];
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
    let id = 1;
    for (const name of dirChain(dir, this.p)) {
      let child = this.st.get.get(id, name)?.id;
      if (child === undefined) {
        if (!create) return undefined;
        child = Number(this.st.insert.run(id, name).lastInsertRowid);
      }
      id = child;
    }
    this.remember(dir, id, this.db.inTransaction);
    return id;
  }

  private remember(dir: string, id: number, inTransaction: boolean): void {
    this.ids.set(dir, id);
    this.paths.set(id, dir);
    if (inTransaction) this.fresh.push(dir);
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
    this.paths.set(id, p);
    this.ids.set(p, id);
    return p;
  }

  /** The write transaction committed: what it cached stands. */
  committed(): void {
    this.fresh = [];
  }

  /** The write transaction rolled back: forget the rows it created. */
  rolledBack(): void {
    for (const dir of this.fresh) {
      const id = this.ids.get(dir);
      this.ids.delete(dir);
      if (id !== undefined) this.paths.delete(id);
    }
    this.fresh = [];
  }
}
