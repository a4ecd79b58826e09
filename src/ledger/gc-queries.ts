/**
 * The ledger statements gc and unshare need, prepared once per connection.
 * Kept apart from `ledger.ts` (which dedup owns): reads of whole tables for
 * gc's plan, the links under a folder for unshare, and deletes by row id.
 */
import type { Ledger, LinkRow, ObjectRow } from './ledger.js';

export interface SeenPathRow {
  readonly id: number;
  readonly dir_id: number;
  readonly name: string;
}

export interface ReflinkRefresh {
  readonly linkId: number;
  readonly fp: { readonly dev: string; readonly ino: string; readonly size: number; readonly mtimeNs: string; readonly ctimeNs: string };
}

export class GcQueries {
  readonly ledger: Ledger;
  private readonly st;

  constructor(ledger: Ledger) {
    this.ledger = ledger;
    const db = ledger.db;
    this.st = {
      links: db.prepare<[], LinkRow>('SELECT * FROM links ORDER BY id'),
      objects: db.prepare<[], ObjectRow>('SELECT * FROM objects ORDER BY id'),
      seen: db.prepare<[], SeenPathRow>('SELECT id, dir_id, name FROM seen ORDER BY id'),
      // Every link whose directory is `dir` or below it (the dirs tree, walked down).
      linksUnder: db.prepare<[number], LinkRow>(
        `WITH RECURSIVE sub(id) AS (SELECT ? UNION ALL SELECT d.id FROM dirs d JOIN sub ON d.parent = sub.id)
         SELECT l.* FROM links l JOIN sub ON l.dir_id = sub.id ORDER BY l.id`,
      ),
      linkById: db.prepare<[number], LinkRow>('SELECT * FROM links WHERE id = ?'),
      deleteLink: db.prepare<[number]>('DELETE FROM links WHERE id = ?'),
      deleteRoot: db.prepare<[number]>('DELETE FROM roots WHERE id = ?'),
      deleteSeen: db.prepare<[number]>('DELETE FROM seen WHERE id = ?'),
      deleteObject: db.prepare<[number]>('DELETE FROM objects WHERE id = ?'),
      linksOfObject: db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM links WHERE object_id = ?'),
      refreshLink: db.prepare<[string, string, number, string, string, number]>(
        'UPDATE links SET dev = ?, ino = ?, size = ?, mtime_ns = ?, ctime_ns = ? WHERE id = ?',
      ),
    };
  }

  links(): LinkRow[] {
    return this.st.links.all();
  }

  objects(): ObjectRow[] {
    return this.st.objects.all();
  }

  seen(): SeenPathRow[] {
    return this.st.seen.all();
  }

  /** Links at or below the absolute directory `dir` (none when the ledger never saw it). */
  linksUnder(dir: string): LinkRow[] {
    const id = this.ledger.dirId(dir, false);
    return id === undefined ? [] : this.st.linksUnder.all(id);
  }

  linkById(id: number): LinkRow | undefined {
    return this.st.linkById.get(id);
  }

  deleteLink(id: number): void {
    this.st.deleteLink.run(id);
  }

  deleteRoot(id: number): void {
    this.st.deleteRoot.run(id);
  }

  deleteSeen(id: number): void {
    this.st.deleteSeen.run(id);
  }

  /** Delete an object row; its link rows must be gone already (foreign key). */
  deleteObject(id: number): void {
    this.st.deleteObject.run(id);
  }

  linkCount(objectId: number): number {
    return this.st.linksOfObject.get(objectId)!.n;
  }

  /** A reflink whose metadata moved but whose content is still the object's: remember its new fingerprint. */
  refreshLink(r: ReflinkRefresh): void {
    this.st.refreshLink.run(r.fp.dev, r.fp.ino, r.fp.size, r.fp.mtimeNs, r.fp.ctimeNs, r.linkId);
  }
}
