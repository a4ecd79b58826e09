/**
 * The ledger queries of `audit` and `verify`, prepared once per connection.
 * Kept apart from ledger.ts (which dedup, gc and unshare share): reads for
 * audit (links under a directory, links of an address, every object) and the
 * few writes of `verify --repair` (forget an object with its links, forget a
 * link whose file is gone). Recording an object's re-checked times uses
 * Ledger.reinodeObject.
 */
import type { Ledger, LinkRow, ObjectRow } from './ledger.js';

/** A link row with its object's address, for "which paths share this file's object". */
export interface AddressLinkRow extends LinkRow {
  readonly hash: string;
  readonly object_size: number;
  readonly replica: number;
  readonly object_root_id: number;
}

export class AuditQueries {
  private readonly st;

  constructor(readonly ledger: Ledger) {
    const db = ledger.db;
    this.st = {
      objects: db.prepare<[], ObjectRow>('SELECT * FROM objects ORDER BY id'),
      linksOfObject: db.prepare<[number], LinkRow>('SELECT * FROM links WHERE object_id = ? ORDER BY id'),
      linkCountOfObject: db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM links WHERE object_id = ?'),
      linksOfAddress: db.prepare<[string, number], AddressLinkRow>(
        `SELECT l.*, o.hash AS hash, o.size AS object_size, o.replica AS replica, o.root_id AS object_root_id
         FROM links l JOIN objects o ON o.id = l.object_id
         WHERE o.hash = ? AND o.size = ? ORDER BY l.id`,
      ),
      // Every link in the subtree of a dirs row (the dirs_child index serves the recursion).
      linksUnder: db.prepare<[number], LinkRow>(
        `WITH RECURSIVE sub(id) AS (SELECT ? UNION ALL SELECT d.id FROM dirs d JOIN sub ON d.parent = sub.id)
         SELECT l.* FROM links l JOIN sub ON l.dir_id = sub.id ORDER BY l.id`,
      ),
      allLinks: db.prepare<[], LinkRow>('SELECT * FROM links ORDER BY id'),
      deleteLinksOfObject: db.prepare<[number]>('DELETE FROM links WHERE object_id = ?'),
      deleteObject: db.prepare<[number]>('DELETE FROM objects WHERE id = ?'),
      deleteLink: db.prepare<[number]>('DELETE FROM links WHERE id = ?'),
    };
  }

  /** Every object row (all store roots, all replicas). */
  objects(): ObjectRow[] {
    return this.st.objects.all();
  }

  linksOfObject(objectId: number): LinkRow[] {
    return this.st.linksOfObject.all(objectId);
  }

  linkCountOfObject(objectId: number): number {
    return this.st.linkCountOfObject.get(objectId)?.n ?? 0;
  }

  /** Links to any object with this address (every replica, every store root). */
  linksOfAddress(hash: string, size: number): AddressLinkRow[] {
    return this.st.linksOfAddress.all(hash, size);
  }

  /** Links whose path lies under the directory `dir` (absolute); none if the ledger never saw it. */
  linksUnder(dir: string): LinkRow[] {
    const id = this.ledger.dirId(dir, false);
    return id === undefined ? [] : this.st.linksUnder.all(id);
  }

  allLinks(): LinkRow[] {
    return this.st.allLinks.all();
  }

  /** Forget an object and every link to it (verify --repair, after the files were dealt with). */
  forgetObject(objectId: number): void {
    this.ledger.batch(() => {
      this.st.deleteLinksOfObject.run(objectId);
      this.st.deleteObject.run(objectId);
    });
  }

  /** Forget one link row (its file is gone). */
  forgetLinkRow(linkId: number): void {
    this.st.deleteLink.run(linkId);
  }
}
