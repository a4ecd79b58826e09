/**
 * The two questions `dedup --fill` asks the ledger for each source — which body
 * did this compilation give, and which object carries that body — as one
 * interface the Ledger answers, and a read-only connection of its own that
 * answers it in a worker thread (dedup/pool.ts), beside the run's writer.
 */
import Database from 'better-sqlite3';
import { BUSY_TIMEOUT_MS } from './db.js';
import type { ObjectRow } from './rows.js';

/** The statements, one text for the Ledger's connection and a worker's. */
export const LOOKUP_SQL = {
  bodyFor: 'SELECT body_hash FROM sources WHERE magic = ? AND optimization = ? AND rel_name = ? AND source_hash = ?',
  objectsWithBody: 'SELECT * FROM objects WHERE magic = ? AND body_hash = ? ORDER BY replica',
} as const;

export interface BodyLookup {
  /** The body hash the compilation (magic, optimization, relative name, source key) gave, when recorded. */
  bodyFor(magic: number, optimization: number, relName: string, sourceKey: string): string | undefined;
  /** The objects carrying this marshal body (any header, any store root), first replicas first. */
  objectsWithBody(magic: number, bodyHash: string): ObjectRow[];
}

/** A read-only connection to the ledger file `file` (in WAL mode, open for writing elsewhere) answering BodyLookup. */
export function openBodyLookup(file: string): BodyLookup & { close(): void } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  const bodyFor = db.prepare<[number, number, string, string], { body_hash: string }>(LOOKUP_SQL.bodyFor);
  const objectsWithBody = db.prepare<[number, string], ObjectRow>(LOOKUP_SQL.objectsWithBody);
  return {
    bodyFor: (magic, optimization, relName, sourceKey) => bodyFor.get(magic, optimization, relName, sourceKey)?.body_hash,
    objectsWithBody: (magic, bodyHash) => objectsWithBody.all(magic, bodyHash),
    close: () => db.close(),
  };
}
