/**
 * Shared by the reliability tests: small real package trees compiled by a real
 * CPython, the independent checker (scripts/check-venv-equivalence.py), and
 * the checks every refusal and failure must pass (one clear line, no stack).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { pythonEnv, REPO_ROOT } from '../helpers/interpreters.js';

export const CHECKER = path.join(REPO_ROOT, 'scripts', 'check-venv-equivalence.py');
export const SITE = path.join('lib', 'python3.11', 'site-packages');

/**
 * A venv-shaped tree `<dir>/lib/python3.11/site-packages/pkg/` with a few modules, compiled by python3
 * (timestamp pycs), and a pyvenv.cfg so that a PATH naming it is an environment (as a real venv is).
 */
export function makePkgTree(dir: string, python = 'python3'): string {
  const pkg = path.join(dir, SITE, 'pkg');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(path.join(dir, 'pyvenv.cfg'), 'home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11\n');
  writeFileSync(path.join(pkg, '__init__.py'), 'from .a import f\nVERSION = "1.0"\n');
  writeFileSync(path.join(pkg, 'a.py'), 'def f(x):\n    return [i * x for i in range(10)]\n\nNAMES = ("alpha", "beta", 1.5, b"raw")\n');
  writeFileSync(path.join(pkg, 'b.py'), 'import os\n\nclass B:\n    """doc"""\n    def g(self):\n        return os.sep + "b"\n');
  execFileSync(python, ['-m', 'compileall', '-q', path.join(dir, SITE)], { env: pythonEnv() });
  return pkg;
}

/**
 * The HOME the reliability tests give pycstore: empty, readable by everyone (runs as uid 65534 read
 * its config folder), outside this machine's home (no discovery of the real environments).
 */
export function testHome(): string {
  if (!home) {
    home = mkdtempSync(path.join(os.tmpdir(), 'pycstore-robust-home-'));
    chmodSync(home, 0o755);
    const dir = home;
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return home;
}
let home: string | undefined;

export function pycOf(pkg: string, mod: string, tag = 'cpython-311'): string {
  return path.join(pkg, '__pycache__', `${mod}.${tag}.pyc`);
}

export interface CheckerResult {
  readonly code: number | null;
  readonly json: { problems: { path: string; kind: string; detail: string }[]; counts?: Record<string, number> } | undefined;
  readonly stderr: string;
}

/** Run the checker with `python` (the interpreter whose pycs it judges). */
export function checker(python: string, args: string[]): CheckerResult {
  const r = spawnSync(python, [CHECKER, ...args], { env: pythonEnv(), maxBuffer: 1 << 26 });
  let json;
  try {
    json = JSON.parse(r.stdout.toString());
  } catch {
    json = undefined;
  }
  return { code: r.status, json, stderr: r.stderr.toString() };
}

/** Bytes and inode of a file, to prove it untouched. */
export function fileIdentity(p: string): string {
  const st = lstatSync(p, { bigint: true });
  if (!st.isFile()) return `${st.mode}:${st.ino}`;
  return `${st.ino}:${st.mode}:${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
}

/** A Node stack trace line ("    at fn (file.js:1:2)"), or node's own "Error: …" dump. */
const STACK = /^\s+at .+:\d+:\d+\)?$|^node:internal|^\w*Error: /m;

/** Every refusal and anticipated failure: no stack trace; at most `lines` lines on stderr that say "error". */
export function expectCleanError(stderr: string, lines = 1, e: typeof expect.soft = expect): void {
  e(stderr, stderr).not.toMatch(STACK);
  const errors = stderr.split('\n').filter((l) => /^pycstore: (internal )?error:/.test(l));
  e(errors.length, stderr).toBeLessThanOrEqual(lines);
}

export function exists(p: string): boolean {
  return existsSync(p);
}
