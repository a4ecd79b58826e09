/**
 * Ledger schema, one migration function per `PRAGMA user_version`. Each runs in
 * its own transaction and leaves user_version at its number. Never edit a
 * released migration: add the next one. STORE_FORMAT.md documents the schema.
 */
import type Database from 'better-sqlite3';

export type Migration = (db: Database.Database) => void;

export const MIGRATIONS: readonly Migration[] = [
  // 1: the first schema.
  (db) => {
    db.exec(`
      CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );

      -- Paths stored compactly: one row per directory, linked to its parent.
      -- Row 1 is the filesystem root "/" (name '' and no parent).
      CREATE TABLE dirs (
        id     INTEGER PRIMARY KEY,
        parent INTEGER REFERENCES dirs(id),
        name   TEXT NOT NULL
      );
      CREATE UNIQUE INDEX dirs_child ON dirs(parent, name);
      INSERT INTO dirs (id, parent, name) VALUES (1, NULL, '');

      -- Directories that hold objects-v1/: the main store, plus one per other filesystem.
      CREATE TABLE store_roots (
        id   INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        dev  TEXT NOT NULL
      );

      CREATE TABLE objects (
        id           INTEGER PRIMARY KEY,
        hash         TEXT NOT NULL,          -- xxh64 of the whole file, 16 hex digits
        size         INTEGER NOT NULL,
        replica      INTEGER NOT NULL DEFAULT 0,
        root_id      INTEGER NOT NULL REFERENCES store_roots(id),
        dev          TEXT NOT NULL,          -- the object file's inode, as written
        ino          TEXT NOT NULL,
        mtime_ns     TEXT NOT NULL,
        ctime_ns     TEXT NOT NULL,
        allocated    INTEGER NOT NULL,       -- st_blocks * 512
        magic        INTEGER,                -- pyc facts, for canonical headers and --fill
        invalidation TEXT,                   -- 'timestamp' | 'checked-hash' | 'unchecked-hash'
        body_hash    TEXT,                   -- xxh64 of the marshal body
        created_at   INTEGER NOT NULL,       -- ms since epoch
        used_at      INTEGER NOT NULL,       -- ms; refreshed whenever a run links to it
        UNIQUE (hash, size, root_id, replica)
      );
      CREATE INDEX objects_inode ON objects(dev, ino);
      CREATE INDEX objects_body ON objects(magic, body_hash);

      -- The paths given to dedup (and remembered for the next run without paths).
      CREATE TABLE roots (
        id             INTEGER PRIMARY KEY,
        dir_id         INTEGER NOT NULL UNIQUE REFERENCES dirs(id),
        pycache_prefix TEXT,
        added_at       INTEGER NOT NULL,
        scanned_at     INTEGER
      );

      -- Every venv file replaced by a link to an object.
      CREATE TABLE links (
        id        INTEGER PRIMARY KEY,
        dir_id    INTEGER NOT NULL REFERENCES dirs(id),
        name      TEXT NOT NULL,
        object_id INTEGER NOT NULL REFERENCES objects(id),
        root_id   INTEGER REFERENCES roots(id) ON DELETE SET NULL,
        kind      TEXT NOT NULL CHECK (kind IN ('hardlink', 'reflink')),
        dev       TEXT NOT NULL,             -- fingerprint of the file right after the swap
        ino       TEXT NOT NULL,
        size      INTEGER NOT NULL,
        mtime_ns  TEXT NOT NULL,
        ctime_ns  TEXT NOT NULL,
        linked_at INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX links_path ON links(dir_id, name);
      CREATE INDEX links_object ON links(object_id);

      -- pycs looked at and not linked (stale, unreadable, ...), so a rescan
      -- doesn't read them again while they and their source are unchanged.
      CREATE TABLE seen (
        id        INTEGER PRIMARY KEY,
        dir_id    INTEGER NOT NULL REFERENCES dirs(id),
        name      TEXT NOT NULL,
        dev       TEXT NOT NULL,
        ino       TEXT NOT NULL,
        size      INTEGER NOT NULL,
        mtime_ns  TEXT NOT NULL,
        ctime_ns  TEXT NOT NULL,
        source_fp TEXT,                      -- "ino:size:mtime_ns:ctime_ns" of the .py
        outcome   TEXT NOT NULL,             -- the skip reason
        seen_at   INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX seen_path ON seen(dir_id, name);

      CREATE TABLE runs (
        id          INTEGER PRIMARY KEY,
        command     TEXT NOT NULL,
        started_at  INTEGER NOT NULL,
        finished_at INTEGER,
        exit_code   INTEGER,
        figures     TEXT                     -- the command's --json result
      );
    `);
  },
  // 2: what each compilation produced, so `dedup --fill` can take a pyc from the store instead of compiling.
  (db) => {
    db.exec(`
      CREATE TABLE sources (
        magic        INTEGER NOT NULL,
        optimization INTEGER NOT NULL,
        rel_name     TEXT NOT NULL,           -- canonical co_filename, e.g. pip/_internal/cli/main.py
        source_hash  TEXT NOT NULL,           -- xxh64 of the source bytes, "-" and their length
        body_hash    TEXT NOT NULL,           -- xxh64 of the canonical marshal body
        PRIMARY KEY (magic, optimization, rel_name, source_hash)
      ) WITHOUT ROWID;
    `);
  },
  // 3: the meta table never held anything (settings live in the file names and user_version): dropped.
  (db) => {
    db.exec('DROP TABLE IF EXISTS meta');
  },
  // 4: the blocks each link freed (the allocated bytes of the file it replaced, counted on the link that freed its
  // last name; 0 for the others), so status and audit say what dedup saved and du sees. NULL: not known (links
  // adopted from a killed run, or made before this column): counted as the object's own allocation.
  // header: the header kind (timestamp, checked-hash, unchecked-hash) the file had when pycstore first linked it,
  // so that unshare gives back what the installer wrote. NULL: not known (adopted, filled, or older rows).
  (db) => {
    db.exec('ALTER TABLE links ADD COLUMN freed INTEGER; ALTER TABLE links ADD COLUMN header TEXT');
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;
