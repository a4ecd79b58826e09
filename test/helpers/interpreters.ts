/**
 * The CPython interpreters the tests can use: pyenv builds under
 * ~/.pyenv/versions/ (3.8–3.13 on this image) and the Debian builds that
 * scripts/fetch-debian-pythons.sh unpacks into .cache/pythons/3.X/ (3.14, 3.15).
 * Tests print which versions are missing; they never pass silently for them.
 */
import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { available, REQUIRE } from './require.js';

export interface Interpreter {
  readonly version: string; // "3.11"
  readonly minor: number;
  readonly exe: string;
  readonly origin: 'pyenv' | 'debian';
}

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const WANTED_MINORS = [8, 9, 10, 11, 12, 13, 14, 15] as const;

export function pythonsDir(): string {
  return process.env['PYCSTORE_PYTHONS_DIR'] ?? path.join(REPO_ROOT, '.cache', 'pythons');
}

export function findInterpreters(): Interpreter[] {
  const found = new Map<number, Interpreter>();
  const pyenv = path.join(process.env['PYENV_ROOT'] ?? path.join(os.homedir(), '.pyenv'), 'versions');
  if (existsSync(pyenv)) {
    for (const name of readdirSync(pyenv).sort()) {
      const m = /^3\.(\d+)\.\d+$/.exec(name);
      if (!m) continue;
      const minor = Number(m[1]);
      const exe = path.join(pyenv, name, 'bin', `python3.${minor}`);
      if (existsSync(exe)) found.set(minor, { version: `3.${minor}`, minor, exe, origin: 'pyenv' });
    }
  }
  const deb = pythonsDir();
  if (existsSync(deb)) {
    for (const name of readdirSync(deb)) {
      const m = /^3\.(\d+)$/.exec(name);
      if (!m) continue;
      const minor = Number(m[1]);
      const exe = path.join(deb, name, 'bin', `python3.${minor}`);
      if (existsSync(exe) && !found.has(minor)) found.set(minor, { version: `3.${minor}`, minor, exe, origin: 'debian' });
    }
  }
  return [...found.values()].filter((i) => i.minor >= 8).sort((a, b) => a.minor - b.minor);
}

/** The wanted versions with no interpreter here, for a visible message. */
export function missingVersions(found = findInterpreters()): string[] {
  const have = new Set(found.map((i) => i.minor));
  return WANTED_MINORS.filter((m) => !have.has(m)).map((m) => `3.${m}`);
}

/**
 * Say which wanted versions `what` is not verified on (one line on stderr), or fail when
 * PYCSTORE_REQUIRE_PYTHONS is set (CI): every CPython 3.8–3.15 must then be here.
 */
export function announceMissing(what: string, found = findInterpreters()): void {
  const missing = missingVersions(found);
  available(REQUIRE.pythons, `${what} on every CPython 3.8–3.15`, missing.length ? `NOT TESTED, no interpreter here for Python ${missing.join(', ')}` : undefined);
}

export function interpreter(minor: number): Interpreter | undefined {
  return findInterpreters().find((i) => i.minor === minor);
}

/** A child environment with bytecode writing allowed and nothing inherited that changes compilation. */
export function pythonEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) {
    if (k.startsWith('PYTHON') || k === 'SOURCE_DATE_EPOCH' || k === 'VIRTUAL_ENV') delete env[k];
  }
  return { ...env, ...extra };
}
