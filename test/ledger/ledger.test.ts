/**
 * The ledger directly: paths as a tree (POSIX, and Windows spelled with
 * path.win32), the one writer (batches, rollback, IMMEDIATE transactions that
 * wait for another process and say so), runs, the summary status shows, and
 * migrations (meta dropped; several processes migrating a new ledger at once).
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/ledger/migrations.js';
import { openLedger, schemaVersion } from '../../src/ledger/open.js';
import { chainPath, dirChain } from '../../src/ledger/paths.js';
import { ledgerPath } from '../../src/store/location.js';
import { REPO_ROOT } from '../helpers/interpreters.js';

const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'pycstore-ledger-'));
const fp = { dev: '1', ino: '2', size: 3, mtimeNs: '4', ctimeNs: '5' };

function rows(dir: string, sql: string): unknown[] {
  const db = new Database(ledgerPath(dir), { readonly: true });
  try {
    return db.prepare(sql).all();
  } finally {
    db.close();
  }
}

describe('paths', () => {
  it('POSIX: one row per folder under row 1 (/), mapped back', () => {
    const dir = tmp();
    const l = new Ledger(openLedger(dir));
    const w = l.writer();
    w.now((x) => {
      x.addRoot('/a/b/c', null, 1);
      x.addRoot('/a/b/d', '/prefix', 1);
    });
    expect(l.roots().map((r) => r.path)).toEqual(['/a/b/c', '/a/b/d']);
    expect(rows(dir, 'SELECT count(*) AS n FROM dirs')).toEqual([{ n: 5 }]); // "/", a, b, c, d
    expect(new Ledger(openLedger(dir)).roots().map((r) => r.path)).toEqual(['/a/b/c', '/a/b/d']); // a fresh connection reads them back
    expect(l.linksUnder('/x')).toEqual([]); // a folder it never saw
    l.close();
  });

  it('more folders than it caches: every one maps both ways, also after older ones left the cache, and a rollback forgets only its own', () => {
    const dir = tmp();
    const l = new Ledger(openLedger(dir));
    const w = l.writer();
    const paths = Array.from({ length: 20_000 }, (_, i) => `/venvs/v${i % 7}/lib/pkg-with-a-long-name-${i}/__pycache__`);
    const ids = w.now((x) => paths.map((p) => x.addRoot(p, null, 1)));
    const fresh = new Ledger(openLedger(dir));
    for (const l2 of [l, fresh]) expect(l2.roots().map((r) => r.path)).toEqual(paths);
    expect(() =>
      w.now((x) => {
        x.addRoot('/venvs/v0/lib/rolled-back', null, 1);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(w.now((x) => x.addRoot(paths[0]!, null, 1))).toBe(ids[0]); // evicted long ago: found again, the same row
    w.now((x) => x.addRoot('/venvs/v0/lib/after', null, 1));
    expect(l.roots().map((r) => r.path).slice(-1)).toEqual(['/venvs/v0/lib/after']);
    fresh.close();
    l.close();
  });

  it('Windows (path.win32): every drive root and UNC share is its own row, so C:\\x and D:\\x never meet', () => {
    expect(dirChain('C:\\x\\y', path.win32)).toEqual(['C:\\', 'x', 'y']);
    expect(dirChain('c:\\x', path.win32)).toEqual(['C:\\', 'x']); // drive letters are case-insensitive
    expect(dirChain('\\\\srv\\share\\x', path.win32)).toEqual(['\\\\srv\\share\\', 'x']);
    expect(dirChain('/a/b', path.posix)).toEqual(['a', 'b']);
    expect(dirChain('/', path.posix)).toEqual([]);
    expect(chainPath(['C:\\', 'x', 'y'], path.win32)).toBe('C:\\x\\y');
    expect(chainPath(['\\\\srv\\share\\', 'x'], path.win32)).toBe('\\\\srv\\share\\x');
    expect(chainPath([], path.posix)).toBe('/');
    expect(() => dirChain('x\\y', path.win32)).toThrow(/not an absolute path/);

    const l = new Ledger(openLedger(tmp()), { pathApi: path.win32 });
    const spelled = ['C:\\x', 'D:\\x', '\\\\srv\\share\\x', '\\\\srv\\other\\x', 'C:\\x\\y'];
    const ids = l.writer().now((w) => spelled.map((p) => w.addRoot(p, null, 1)));
    expect(new Set(ids).size).toBe(spelled.length);
    expect(l.roots().map((r) => r.path)).toEqual(spelled);
    l.close();
  });
});

describe('the writer', () => {
  it('queues writes and commits them in batches of its size, or at flush', () => {
    const dir = tmp();
    const l = new Ledger(openLedger(dir));
    const w = l.writer(2);
    w.add((x) => x.addRoot('/r1', null, 1));
    expect(w.pending).toBe(1);
    expect(rows(dir, 'SELECT count(*) AS n FROM roots')).toEqual([{ n: 0 }]); // not yet written
    w.add((x) => x.addRoot('/r2', null, 1)); // the batch is full: written
    expect(w.pending).toBe(0);
    expect(rows(dir, 'SELECT count(*) AS n FROM roots')).toEqual([{ n: 2 }]);
    w.add((x) => x.addRoot('/r3', null, 1));
    w.flush();
    expect(rows(dir, 'SELECT count(*) AS n FROM roots')).toEqual([{ n: 3 }]);
    l.close();
  });

  it('a transaction that throws writes nothing, and forgets the folder rows it made', () => {
    const dir = tmp();
    const l = new Ledger(openLedger(dir));
    const w = l.writer();
    expect(() =>
      w.now((x) => {
        x.addRoot('/p/q', null, 1);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(l.roots()).toEqual([]);
    expect(rows(dir, 'SELECT count(*) AS n FROM dirs')).toEqual([{ n: 1 }]);
    // The rolled-back ids are not reused from a cache: recording again makes real rows.
    w.now((x) => x.addRoot('/p/q', null, 1));
    expect(l.roots().map((r) => r.path)).toEqual(['/p/q']);
    l.close();
  });

  it('records objects once per address, also when another run recorded it first (no UNIQUE failure)', () => {
    const l = new Ledger(openLedger(tmp()));
    const w = l.writer();
    const root = w.now((x) => x.storeRoot('/store', '1'));
    const o = { key: { hash: '0123456789abcdef', size: 10 }, replica: 0, rootId: root.id, fp, allocated: 4096 };
    const a = w.now((x) => x.recordObject(o, 1));
    const b = w.now((x) => x.recordObject({ ...o, fp: { ...fp, ino: '9' } }, 2)); // written again: new inode
    expect(b.id).toBe(a.id);
    expect(b.ino).toBe('9');
    expect(l.objects()).toHaveLength(1);
    l.close();
  });

  it('waits for another process holding the write lock, and says so once', async () => {
    const dir = tmp();
    openLedger(dir).close();
    // Another process takes the write lock (BEGIN IMMEDIATE) and says so; it lets go only once this
    // one has said it is waiting (a flag file written from onWait), so the wait is certain, not timed.
    const flag = path.join(dir, 'you-may-commit');
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const D = require('better-sqlite3'); const fs = require('node:fs'); const db = new D(process.argv[1]);
         db.exec('BEGIN IMMEDIATE'); console.log('locked');
         const t = setInterval(() => { if (fs.existsSync(process.argv[2])) { db.exec('COMMIT'); db.close(); clearInterval(t); } }, 10);`,
        ledgerPath(dir),
        flag,
      ],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise((r) => holder.on('exit', r));
    try {
      await new Promise<void>((resolve) => createInterface({ input: holder.stdout! }).once('line', () => resolve()));
      const said: string[] = [];
      const onWait = (m: string): void => {
        said.push(m);
        writeFileSync(flag, '');
      };
      const l = new Ledger(openLedger(dir), { onWait });
      l.writer().now((x) => x.addRoot('/waited', null, 1)); // blocks until the other process commits
      expect(said).toEqual(['waiting for another pycstore to finish writing the ledger…']);
      expect(l.roots().map((r) => r.path)).toEqual(['/waited']);
      l.writer().now((x) => x.addRoot('/again', null, 1)); // no wait now, and nothing said again
      expect(said).toHaveLength(1);
      l.close();
    } finally {
      writeFileSync(flag, ''); // whatever happened above, the holder lets go and exits
      await exited;
    }
  });
});

describe('runs and the summary', () => {
  it('a run has a row from its start; an unfinished one has no exit code', () => {
    const l = new Ledger(openLedger(tmp()));
    const w = l.writer();
    const id = w.now((x) => x.startRun('dedup', 1000));
    expect(l.lastRun()).toMatchObject({ command: 'dedup', started_at: 1000, finished_at: null, exit_code: null });
    w.now((x) => x.finishRun(id, 1, { linked: 3 }, 2000));
    expect(l.lastRun()).toMatchObject({ command: 'dedup', finished_at: 2000, exit_code: 1 });
    expect(l.summary()).toEqual({ objects: 0, objectBytes: 0, objectAllocatedBytes: 0, links: 0, bytesSaved: 0 });
    l.close();
  });
});

/** A ledger migrated step by step up to schema `version`, as an older pycstore left it. */
function ledgerAtVersion(dir: string, version: number): Database.Database {
  const raw = new Database(ledgerPath(dir));
  for (let v = 0; v < version; v++) {
    raw.transaction(() => {
      MIGRATIONS[v]!(raw);
      raw.pragma(`user_version = ${v + 1}`);
    })();
  }
  return raw;
}

describe('migrations', () => {
  it('3 drops the meta table, which never held anything; rows stay', () => {
    const dir = tmp();
    const raw = ledgerAtVersion(dir, 2);
    raw.prepare("INSERT INTO roots (dir_id, added_at) VALUES (1, 42)").run();
    expect(raw.prepare("SELECT name FROM sqlite_master WHERE name = 'meta'").get()).toBeDefined();
    raw.close();
    const db = openLedger(dir);
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(SCHEMA_VERSION).toBe(4);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'meta'").get()).toBeUndefined();
    expect(db.prepare('SELECT added_at FROM roots').get()).toEqual({ added_at: 42 });
    db.close();
  });

  it('4 adds links.freed and links.header, NULL for the links already there (counted as their object\'s size)', () => {
    const dir = tmp();
    const raw = ledgerAtVersion(dir, 3);
    raw.prepare("INSERT INTO store_roots (id, path, dev) VALUES (1, '/s', '1')").run();
    raw
      .prepare(
        "INSERT INTO objects (id, hash, size, replica, root_id, dev, ino, mtime_ns, ctime_ns, allocated, magic, invalidation, body_hash, created_at, used_at) VALUES (1, 'h', 100, 0, 1, '1', '2', '0', '0', 4096, 3495, 'timestamp', 'b', 1, 1)",
      )
      .run();
    for (const name of ['a.pyc', 'b.pyc', 'c.pyc']) {
      raw.prepare("INSERT INTO links (dir_id, name, object_id, kind, dev, ino, size, mtime_ns, ctime_ns, linked_at) VALUES (1, ?, 1, 'hardlink', '1', '2', 100, '0', '0', 1)").run(name);
    }
    raw.close();
    const db = openLedger(dir);
    expect(schemaVersion(db)).toBe(4);
    expect(db.prepare('SELECT freed, header FROM links').all()).toEqual([0, 1, 2].map(() => ({ freed: null, header: null })));
    const l = new Ledger(db);
    expect(l.summary().bytesSaved).toBe(2 * 4096); // (3 links − 1) × 4096, as before the column
    l.close();
  });

  it('six processes opening a new ledger at once: one migrates, none fails', async () => {
    const dir = tmp();
    const opener = `import('${path.join(REPO_ROOT, 'dist', 'ledger', 'open.js')}').then(({ openLedger, schemaVersion }) => {
      const db = openLedger(process.argv[1], { onWait: (m) => console.error(m) }); console.log(schemaVersion(db)); db.close(); });`;
    const runs = Array.from({ length: 6 }, () =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const p = spawn(process.execPath, ['-e', opener, dir], { cwd: REPO_ROOT });
        let out = '';
        let err = '';
        p.stdout.on('data', (d: Buffer) => (out += d.toString()));
        p.stderr.on('data', (d: Buffer) => (err += d.toString()));
        p.on('close', (code) => resolve({ code, out, err }));
      }),
    );
    for (const r of await Promise.all(runs)) {
      expect(r.code, r.err).toBe(0);
      expect(r.out.trim()).toBe(String(SCHEMA_VERSION));
      expect(r.err).not.toMatch(/already exists|SqliteError/);
    }
  });
});
