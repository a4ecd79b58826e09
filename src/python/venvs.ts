/**
 * Finding venvs under a folder and what they hold: the folders with a
 * pyvenv.cfg, their Python version (from pyvenv.cfg) and site-packages.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { listDir, type OnListError } from '../fs/list.js';
import { PY_VERSIONS, type PyVersionInfo } from '../pyc/magic.js';

export interface Venv {
  readonly dir: string;
  /** From pyvenv.cfg's version / version_info; undefined when not a version pycstore knows. */
  readonly version: PyVersionInfo | undefined;
  readonly versionText: string;
  readonly sitePackages: string[];
}

/** `key = value` lines of a pyvenv.cfg. */
export function parsePyvenvCfg(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([^=#]+?)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) out[m[1]!.toLowerCase()] = m[2]!;
  }
  return out;
}

export function readVenv(dir: string, onError: OnListError): Venv {
  const cfg = parsePyvenvCfg(readFileSync(path.join(dir, 'pyvenv.cfg'), 'utf8'));
  const versionText = cfg['version_info'] ?? cfg['version'] ?? '';
  const m = /^3\.(\d+)/.exec(versionText);
  const version = m ? PY_VERSIONS.find((v) => v.minor === Number(m[1])) : undefined;
  const sitePackages: string[] = [];
  const winSite = path.join(dir, 'Lib', 'site-packages');
  if (existsSync(winSite)) sitePackages.push(winSite);
  const lib = path.join(dir, 'lib');
  if (existsSync(lib)) {
    for (const e of listDir(lib, onError)) {
      if (e.isDirectory() && /^python3\.\d+t?$/.test(e.name)) {
        const sp = path.join(lib, e.name, 'site-packages');
        if (existsSync(sp)) sitePackages.push(sp);
      }
    }
  }
  return { dir, version, versionText, sitePackages };
}

/** Every venv at or under `root` (symlinks not followed; a venv's own tree is not searched for more venvs). */
export function findVenvs(root: string, onError: OnListError): Venv[] {
  const out: Venv[] = [];
  const walk = (dir: string): void => {
    if (existsSync(path.join(dir, 'pyvenv.cfg'))) {
      out.push(readVenv(dir, onError));
      return;
    }
    for (const e of listDir(dir, onError)) {
      if (e.isDirectory() && !e.isSymbolicLink() && e.name !== '__pycache__' && e.name !== 'node_modules' && e.name !== '.git') {
        walk(path.join(dir, e.name));
      }
    }
  };
  walk(root);
  return out;
}
