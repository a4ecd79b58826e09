/**
 * The ledger statements only gc needs, prepared once per connection: the seen
 * rows to sweep, and re-recording a moved reflink's fingerprint. The reads and
 * deletes gc shares with unshare, audit and verify (every object, every link,
 * deletes by row id) are Ledger's.
 */
import type { Fingerprint } from '../fs/fingerprint.js';
import type { Ledger } from './ledger.js';

export interface SeenPathRow {
  readonly id: number;
  readonly dir_id: number;
  readonly name: string;
}

export interface ReflinkRefresh {
  readonly linkId: number;
  readonly fp: Fingerprint;
}

export class GcQueries {
  private readonly st;

  constructor(ledger: Ledger) {
    const db = ledger.db;
    this.st = {
      seen: db.prepare<[], SeenPathRow>('SELECT id, dir_id, name FROM seen ORDER BY id'),
      deleteSeen: db.prepare<[number]>('DELETE FROM seen WHERE id = ?'),
      refreshLink: db.prepare<[string, string, number, string, string, number]>(
        'UPDATE links SET dev = ?, ino = ?, size = ?, mtime_ns = ?, ctime_ns = ? WHERE id = ?',
      ),
    };
  }

  seen(): SeenPathRow[] {
    return this.st.seen.all();
  }

  deleteSeen(id: number): void {
    this.st.deleteSeen.run(id);
  }

  /** A reflink whose metadata moved but whose content is still the object's: remember its new fingerprint. */
  refreshLink(r: ReflinkRefresh): void {
    this.st.refreshLink.run(r.fp.dev, r.fp.ino, r.fp.size, r.fp.mtimeNs, r.fp.ctimeNs, r.linkId);
  }
}
