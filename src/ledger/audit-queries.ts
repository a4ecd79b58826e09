/**
 * The ledger queries only `audit` and `verify` need, prepared once per
 * connection: the links of one object or of one address (every replica, every
 * store root), and forgetting a corrupt object with its links
 * (`verify --repair`). What they share with gc and unshare (every object, every
 * link, links under a folder, deletes by row id) is Ledger's; recording an
 * object's re-checked times is Ledger.reinodeObject.
 */
import type { Ledger, LinkRow } from './ledger.js';

export class AuditQueries {
  private readonly st;

  constructor(readonly ledger: Ledger) {
    const db = ledger.db;
    this.st = {
      linksOfObject: db.prepare<[number], LinkRow>('SELECT * FROM links WHERE object_id = ? ORDER BY id'),
      linksOfAddress: db.prepare<[string, number], LinkRow>(
        `SELECT l.* FROM links l JOIN objects o ON o.id = l.object_id
         WHERE o.hash = ? AND o.size = ? ORDER BY l.id`,
      ),
      deleteLinksOfObject: db.prepare<[number]>('DELETE FROM links WHERE object_id = ?'),
    };
  }

  linksOfObject(objectId: number): LinkRow[] {
    return this.st.linksOfObject.all(objectId);
  }

  /** Links to any object with this address (every replica, every store root). */
  linksOfAddress(hash: string, size: number): LinkRow[] {
    return this.st.linksOfAddress.all(hash, size);
  }

  /** Forget an object and every link to it (verify --repair, after the files were dealt with). */
  forgetObject(objectId: number): void {
    this.ledger.batch(() => {
      this.st.deleteLinksOfObject.run(objectId);
      this.ledger.forgetObjectById(objectId);
    });
  }
}
