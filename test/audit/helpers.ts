/**
 * What the audit and verify tests share: venv copies, finding a pyc's store
 * object, corrupting an object in place, and audit's figures recomputed
 * independently from lstat alone (no ledger, no pycstore code).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { cpCopies, letters, listFiles } from '../helpers/venv.js';

/** `n` copies (cp -a) of `template` in `<work>/<name>/{A,B,…}`. */
export function copies(work: string, template: string, name: string, n: number): string[] {
  return cpCopies(template, path.join(work, name), letters(n));
}

export function sitePackages(venv: string): string {
  const lib = path.join(venv, 'lib');
  return path.join(lib, readdirSync(lib).find((n) => n.startsWith('python'))!, 'site-packages');
}

/** pip/__init__'s pyc in a venv: imported by IMPORT_PIP, so Python writes it again when it is missing. */
export function pipInitPyc(venv: string): string {
  const cache = path.join(sitePackages(venv), 'pip', '__pycache__');
  return path.join(cache, readdirSync(cache).find((n) => /^__init__\.cpython-\d+\.pyc$/.test(n))!);
}

export const IMPORT_PIP = 'import pip, pip._internal.cli.main; print(pip.__file__)';

/** The object file in the store with the same inode as `file` (a hard link), by walking objects-v1. */
export function objectFileOf(store: string, file: string): string {
  const st = lstatSync(file);
  const hit = listFiles(path.join(store, 'objects-v1')).find((f) => f.ino === BigInt(st.ino) && f.dev === BigInt(st.dev));
  if (!hit) throw new Error(`${file} is not a store object`);
  return hit.path;
}

/** As root would: make it writable, flip one byte of the marshal body in place. Returns the corrupt bytes. */
export function corruptInPlace(file: string): Buffer {
  chmodSync(file, 0o644);
  const fd = openSync(file, 'r+');
  try {
    const size = statSync(file).size;
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, size - 3);
    b[0] = b[0]! ^ 0xff;
    writeSync(fd, b, 0, 1, size - 3);
  } finally {
    closeSync(fd);
  }
  return readFileSync(file);
}

/** Every regular file under `dirs` whose content equals `bytes`. */
export function filesHolding(dirs: readonly string[], bytes: Buffer): string[] {
  const out: string[] = [];
  for (const d of dirs) {
    for (const f of listFiles(d)) if (f.size === BigInt(bytes.length) && readFileSync(f.path).equals(bytes)) out.push(f.path);
  }
  return out;
}

// --- audit's figures, recomputed from lstat and the ledger's freed column -------------------

/**
 * path → the `freed` the ledger recorded for its link (read with plain SQL, not pycstore's code):
 * the allocated bytes the replaced file gave back. Null when not known.
 */
export function ledgerFreed(store: string): Map<string, number | null> {
  const db = new Database(path.join(store, 'ledger-v1.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const dirs = new Map<number, { parent: number | null; name: string }>();
    for (const d of db.prepare('SELECT id, parent, name FROM dirs').all() as { id: number; parent: number | null; name: string }[]) dirs.set(d.id, d);
    const dirPath = (id: number): string => {
      const parts: string[] = [];
      for (let cur: number | null = id; cur !== null && cur !== 1; cur = dirs.get(cur)!.parent) parts.unshift(dirs.get(cur)!.name);
      return `/${parts.join('/')}`;
    };
    const out = new Map<string, number | null>();
    for (const l of db.prepare('SELECT dir_id, name, freed FROM links').all() as { dir_id: number; name: string; freed: number | null }[]) {
      out.set(path.join(dirPath(l.dir_id), l.name), l.freed);
    }
    return out;
  } finally {
    db.close();
  }
}


/** PEP 3147: <dir>/__pycache__/<module>.cpython-3XX[.opt-N].pyc for CPython 3.8–3.15, with <dir>/<module>.py a regular file. */
export function isPep3147WithSource(p: string): boolean {
  if (path.basename(path.dirname(p)) !== '__pycache__') return false;
  const m = /^([^.]+)\.cpython-3(8|9|1[0-5])(\.opt-[12])?\.pyc$/.exec(path.basename(p));
  if (!m) return false;
  try {
    return statSync(path.join(path.dirname(path.dirname(p)), `${m[1]}.py`)).isFile();
  } catch {
    return false;
  }
}

export interface IndependentFigures {
  pycs: number;
  linked: number;
  apparentBytes: number;
  allocatedBytes: number;
  bytesSaved: number;
}

/** Exact sum of fractions n/d (bigint), rounded up at the end. */
class Fraction {
  num = 0n;
  den = 1n;
  add(n: bigint, d: bigint): void {
    this.num = this.num * d + n * this.den;
    this.den *= d;
    const g = gcd(this.num, this.den);
    if (g > 1n) {
      this.num /= g;
      this.den /= g;
    }
  }
  ceil(): number {
    return Number((this.num + this.den - 1n) / this.den);
  }
}
function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/**
 * The documented definitions, from lstat: a pyc is linked when it is a hard link of a file in the
 * store's objects-v1 (`linkedBy: 'inode'`, k = st_nlink − 1), or — for reflinks, which are their own
 * inodes — when its content is a store object's content (`linkedBy: 'content'`, k = how many pycs of
 * all the roots hold that same content). Each linked pyc saves what its replacement freed (the
 * ledger's `freed`, its own allocation when NULL or unrecorded) less allocated/k; per root the
 * shares are summed exactly and rounded up. A pyc under two roots counts in the first.
 */
export function independentFigures(
  roots: readonly string[],
  store: string,
  linkedBy: 'inode' | 'content' = 'inode',
): { roots: (IndependentFigures & { path: string })[]; totals: IndependentFigures } {
  const freedOf = ledgerFreed(store);
  const objects = listFiles(path.join(store, 'objects-v1'));
  const objectInodes = new Set(objects.map((o) => `${o.dev}:${o.ino}`));
  const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');
  const objectContents = linkedBy === 'content' ? new Set(objects.map((o) => sha(o.path))) : new Set<string>();
  const seen = new Set<string>();
  const perRoot = roots.map((r) => {
    const files = listFiles(r, isPep3147WithSource).filter((f) => !seen.has(f.path));
    for (const f of files) seen.add(f.path);
    return files.map((f) => {
      const st = lstatSync(f.path, { bigint: true });
      const content = linkedBy === 'content' ? sha(f.path) : '';
      const linked = linkedBy === 'inode' ? objectInodes.has(`${st.dev}:${st.ino}`) : objectContents.has(content);
      const allocated = Number(st.blocks) * 512;
      return { size: Number(st.size), allocated, nlink: Number(st.nlink), linked, content, freed: freedOf.get(f.path) ?? allocated };
    });
  });
  const holders = new Map<string, number>();
  for (const files of perRoot) for (const f of files) if (f.linked && linkedBy === 'content') holders.set(f.content, (holders.get(f.content) ?? 0) + 1);
  const totals: IndependentFigures = { pycs: 0, linked: 0, apparentBytes: 0, allocatedBytes: 0, bytesSaved: 0 };
  const out = perRoot.map((files, i) => {
    const share = new Fraction();
    let freed = 0;
    const fig = { path: roots[i]!, pycs: files.length, linked: 0, apparentBytes: 0, allocatedBytes: 0, bytesSaved: 0 };
    for (const f of files) {
      fig.apparentBytes += f.size;
      fig.allocatedBytes += f.allocated;
      if (!f.linked) continue;
      fig.linked++;
      const k = linkedBy === 'inode' ? Math.max(1, f.nlink - 1) : holders.get(f.content)!;
      freed += f.freed;
      share.add(BigInt(f.allocated), BigInt(k));
    }
    fig.bytesSaved = freed - share.ceil();
    for (const key of ['pycs', 'linked', 'apparentBytes', 'allocatedBytes', 'bytesSaved'] as const) totals[key] += fig[key];
    return fig;
  });
  return { roots: out, totals };
}
