/**
 * Real venvs for tests: `python -m venv` (pip from ensurepip, offline), and
 * helpers to run a venv's Python with bytecode writing allowed, to list its
 * pycs with their inodes, and to snapshot a tree.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pythonEnv } from './interpreters.js';

export function makeVenv(dir: string, python = 'python3', opts: { withoutPip?: boolean } = {}): string {
  execFileSync(python, ['-m', 'venv', ...(opts.withoutPip ? ['--without-pip'] : []), dir], { env: pythonEnv(), stdio: 'pipe' });
  return dir;
}

/** `cp -a` copies of `template` named `names` inside `parent` (created): a byte-identical venv per name. */
export function cpCopies(template: string, parent: string, names: readonly string[]): string[] {
  mkdirSync(parent, { recursive: true });
  return names.map((n) => {
    const d = path.join(parent, n);
    execFileSync('cp', ['-a', template, d]);
    return d;
  });
}

/** Names A, B, C, … for `n` copies. */
export const letters = (n: number): string[] => Array.from({ length: n }, (_, i) => String.fromCharCode(65 + i));

export function venvPython(venv: string): string {
  return process.platform === 'win32' ? path.join(venv, 'Scripts', 'python.exe') : path.join(venv, 'bin', 'python');
}

/** Run code in the venv's Python with bytecode writing allowed (as a user's Python would). */
export function runInVenv(venv: string, code: string, extraEnv: Record<string, string> = {}): string {
  return execFileSync(venvPython(venv), ['-c', code], { env: pythonEnv(extraEnv), stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

export interface FileInfo {
  readonly path: string;
  readonly ino: bigint;
  readonly dev: bigint;
  readonly nlink: bigint;
  readonly size: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly mode: bigint;
}

/** Every regular file under dir (no symlinks followed), sorted by path. */
export function listFiles(dir: string, filter: (p: string) => boolean = () => true): FileInfo[] {
  const out: FileInfo[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && filter(p)) {
        const st = lstatSync(p, { bigint: true });
        out.push({ path: p, ino: st.ino, dev: st.dev, nlink: st.nlink, size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, mode: st.mode });
      }
    }
  };
  walk(dir);
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

export const isPyc = (p: string): boolean => p.endsWith('.pyc') && p.includes(`${path.sep}__pycache__${path.sep}`);

/** inode, content hash and mtime of every file: what "unchanged" means for a dry run. */
export function snapshot(dir: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const f of listFiles(dir)) {
    const digest = createHash('sha256').update(readFileSync(f.path)).digest('hex');
    m.set(f.path, `${f.ino}:${f.mtimeNs}:${f.mode}:${digest}`);
  }
  return m;
}
