import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PycstoreError } from '../../src/errors.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/ledger/migrations.js';
import { openLedger, schemaVersion } from '../../src/ledger/open.js';
import { ledgerPath } from '../../src/store/location.js';
import { runCli } from '../helpers/cli.js';

const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'pycstore-ledger-'));

describe('ledger', () => {
  it('migrates a new ledger to the current schema, in WAL mode with foreign keys', () => {
    const dir = tmp();
    const db = openLedger(dir);
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    db.close();
  });

  it('refuses a ledger written by a newer pycstore, with what to do', async () => {
    const dir = tmp();
    openLedger(dir).close();
    const raw = new Database(ledgerPath(dir));
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => openLedger(dir)).toThrow(PycstoreError);
    try {
      openLedger(dir);
    } catch (e) {
      expect((e as PycstoreError).code).toBe('ESTOREFORMAT');
      expect((e as PycstoreError).hint).toMatch(/upgrade pycstore/);
    }
    const r = await runCli(['--store', dir, 'status']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/newer pycstore/);
  });

  it('migrates a schema-1 ledger step by step, keeping its rows; a read-only open migrates only its in-memory copy', () => {
    const dir = tmp();
    const raw = new Database(ledgerPath(dir));
    raw.transaction(() => {
      MIGRATIONS[0]!(raw);
      raw.pragma('user_version = 1');
    })();
    raw.prepare("INSERT INTO roots (dir_id, added_at) VALUES (1, 42)").run();
    raw.close();
    const before = readFileSync(ledgerPath(dir));
    const ro = openLedger(dir, { readonly: true });
    expect(schemaVersion(ro)).toBe(SCHEMA_VERSION);
    ro.close();
    expect(readFileSync(ledgerPath(dir))).toEqual(before); // nothing written
    const db = openLedger(dir);
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(db.prepare('SELECT added_at FROM roots').get()).toEqual({ added_at: 42 });
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'sources'").get()).toBeDefined();
    db.close();
  });
});
