/**
 * Helpers shared by the gc and unshare tests: real venvs made in parallel,
 * modules compiled into one venv only (so some objects belong to it alone),
 * the store's object files by inode, and the ledger's links read back.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { ledgerPath, objectPath, objectsDir } from '../../src/store/location.js';
import { pythonEnv } from '../helpers/interpreters.js';
import { isPyc, listFiles, venvPython } from '../helpers/venv.js';

const run = promisify(execFile);

/** `python3 -m venv` for each dir, two at a time (2 cores). */
export async function makeVenvs(dirs: readonly string[], python = 'python3'): Promise<void> {
  for (let i = 0; i < dirs.length; i += 2) {
    await Promise.all(dirs.slice(i, i + 2).map((d) => run(python, ['-m', 'venv', d], { env: pythonEnv() })));
  }
}

export function sitePackages(venv: string): string {
  const lib = path.join(venv, 'lib');
  const py = readdirSync(lib).find((n) => n.startsWith('python'))!;
  return path.join(lib, py, 'site-packages');
}

/** Write a package into the venv's site-packages and compile it with the venv's own Python. */
export function addPackage(venv: string, name: string, modules: Record<string, string>): string {
  const dir = path.join(sitePackages(venv), name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, '__init__.py'), `NAME = ${JSON.stringify(name)}\n`);
  for (const [m, src] of Object.entries(modules)) writeFileSync(path.join(dir, `${m}.py`), src);
  compile(venv, dir);
  return dir;
}

export function compile(venv: string, dir: string): void {
  execFileSync(venvPython(venv), ['-m', 'compileall', '-q', dir], { env: pythonEnv(), stdio: 'pipe' });
}

/** `count` modules with distinct content, so each pyc is an object of its own. */
export function distinctModules(prefix: string, count: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < count; i++) out[`${prefix}${i}`] = `VALUE = ${i}\ndef f():\n    return ${JSON.stringify(`${prefix}-${i}`)} * ${i + 1}\n`;
  return out;
}

/** Inodes of every pyc under a venv. */
export function pycInodes(venv: string): Set<bigint> {
  return new Set(listFiles(venv, isPyc).map((f) => f.ino));
}

export interface StoreFile {
  readonly path: string;
  readonly ino: bigint;
  readonly nlink: bigint;
  readonly allocated: number;
}

/** Every file under the store root's objects-v1/. */
export function storeObjects(root: string): StoreFile[] {
  const dir = objectsDir(root);
  if (!existsSync(dir)) return [];
  return listFiles(dir).map((f) => ({ path: f.path, ino: f.ino, nlink: f.nlink, allocated: Number(lstatSync(f.path, { bigint: true }).blocks) * 512 }));
}

export interface LedgerLink {
  readonly path: string;
  readonly kind: string;
  readonly objectPath: string;
}

/** The ledger's links and their objects' paths, read straight from SQLite (read-only). */
export function ledgerLinks(store: string): LedgerLink[] {
  const db = new Database(ledgerPath(store), { readonly: true });
  try {
    const dirs = new Map<number, { parent: number | null; name: string }>();
    for (const d of db.prepare('SELECT id, parent, name FROM dirs').all() as { id: number; parent: number | null; name: string }[]) dirs.set(d.id, d);
    const dirPath = (id: number): string => {
      const d = dirs.get(id)!;
      return d.parent === null ? '/' : path.join(dirPath(d.parent), d.name);
    };
    const rows = db
      .prepare(
        `SELECT l.dir_id, l.name, l.kind, o.hash, o.size, o.replica, r.path AS root
         FROM links l JOIN objects o ON o.id = l.object_id JOIN store_roots r ON r.id = o.root_id ORDER BY l.id`,
      )
      .all() as { dir_id: number; name: string; kind: string; hash: string; size: number; replica: number; root: string }[];
    return rows.map((r) => ({
      path: path.join(dirPath(r.dir_id), r.name),
      kind: r.kind,
      objectPath: objectPath(r.root, { hash: r.hash, size: r.size }, r.replica),
    }));
  } finally {
    db.close();
  }
}

/** Move every object's recorded creation and last use `ms` into the past: time passing, as gc's grace period sees it. */
export function ageObjects(store: string, ms: number): void {
  const db = new Database(ledgerPath(store));
  try {
    db.prepare('UPDATE objects SET created_at = created_at - ?, used_at = used_at - ?').run(ms, ms);
  } finally {
    db.close();
  }
}

export function ledgerCount(store: string, table: 'objects' | 'links' | 'roots'): number {
  const db = new Database(ledgerPath(store), { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** Content digest of every pyc under a dir, by path. */
export function pycDigests(dir: string): Map<string, string> {
  return new Map(listFiles(dir, isPyc).map((f) => [f.path, createHash('sha256').update(readFileSync(f.path)).digest('hex')]));
}

export const IMPORT_PIP = 'import pip, pip._internal.cli.main, pip._internal.commands.install; print(pip.__file__)';
