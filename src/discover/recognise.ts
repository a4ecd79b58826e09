/**
 * Is this folder an environment, and which? From its entries (already read by
 * the caller when it can) and at most a few small reads:
 * - venv: a `pyvenv.cfg` (PEP 405); `version_info` / `version` give the
 *   Python, a `uv =` line says uv made it, `virtualenv =` virtualenv (poetry,
 *   hatch, pdm, tox), `rye-venv.json` beside it rye;
 * - conda prefix: a `conda-meta/` folder (python from conda-meta/python-X.Y.Z-*.json),
 *   pixi's when `conda-meta/pixi` exists;
 * - interpreter install: `lib/pythonX.Y/os.py`, or `Lib/os.py` + `python.exe` (Windows).
 */
import type { PlatformPath } from 'node:path';
import { parsePyvenvCfg } from '../python/venvs.js';
import type { DirEntry, QuietProbe } from './probe.js';
import type { EnvLayout } from './types.js';

export interface Recognised {
  readonly path: string;
  readonly layout: EnvLayout;
  readonly python: string | undefined;
  /** pyvenv.cfg's `home =`: the folder of the base interpreter. */
  readonly base?: string;
  /** pyvenv.cfg has a `uv =` line. */
  readonly uv?: boolean;
  /** rye-venv.json beside pyvenv.cfg. */
  readonly rye?: boolean;
  /** conda-meta/pixi exists. */
  readonly pixi?: boolean;
  /** A conda prefix with an `envs/` folder (a root install): its envs are environments too. */
  readonly hasEnvs?: boolean;
}

/** "3.11" from "3.11.7", "3.11.7.final.0", "3.13t"; undefined otherwise. */
export function minorOf(text: string | undefined): string | undefined {
  const m = text === undefined ? null : /^\s*(\d+)\.(\d+)/.exec(text);
  return m ? `${m[1]}.${m[2]}` : undefined;
}

async function venvOf(probe: QuietProbe, P: PlatformPath, dir: string, names: Map<string, string>): Promise<Recognised> {
  const text = (await probe.readFile(P.join(dir, 'pyvenv.cfg'))) ?? '';
  const cfg = parsePyvenvCfg(text);
  const python = minorOf(cfg['version_info'] ?? cfg['version'] ?? cfg['python-version']);
  const base = cfg['home'] || undefined;
  return { path: dir, layout: 'venv', python, base, uv: 'uv' in cfg, rye: names.has('rye-venv.json') };
}

async function condaOf(probe: QuietProbe, P: PlatformPath, dir: string, names: Map<string, string>): Promise<Recognised> {
  const meta = (await probe.readdir(P.join(dir, 'conda-meta'))) ?? [];
  let python: string | undefined;
  for (const e of meta) {
    const m = /^python-(\d+\.\d+)\.[^-]*-.*\.json$/.exec(e.name);
    if (m) python = m[1];
  }
  return { path: dir, layout: 'conda', python, pixi: meta.some((e) => e.name === 'pixi'), hasEnvs: names.get('envs') === 'dir' };
}

async function installOf(probe: QuietProbe, P: PlatformPath, dir: string, names: Map<string, string>): Promise<Recognised | undefined> {
  if (names.get('lib') === 'dir') {
    for (const e of (await probe.readdir(P.join(dir, 'lib'))) ?? []) {
      const m = /^python(\d+\.\d+)t?$/.exec(e.name);
      if (m && e.type === 'dir' && (await probe.lstat(P.join(dir, 'lib', e.name, 'os.py'))) === 'file') {
        return { path: dir, layout: 'python', python: m[1] };
      }
    }
  }
  if (names.get('Lib') === 'dir' && names.get('python.exe') === 'file' && (await probe.lstat(P.join(dir, 'Lib', 'os.py'))) === 'file') {
    let python: string | undefined;
    for (const n of names.keys()) {
      const m = /^python3(\d+)\.dll$/i.exec(n);
      if (m) python = `3.${m[1]}`;
    }
    return { path: dir, layout: 'python', python };
  }
  return undefined;
}

/** What `dir` is, given its entries; undefined when it is no environment. */
export async function recogniseEntries(probe: QuietProbe, P: PlatformPath, dir: string, entries: readonly DirEntry[]): Promise<Recognised | undefined> {
  const names = new Map(entries.map((e) => [e.name, e.type]));
  const cfg = names.get('pyvenv.cfg');
  if (cfg === 'file' || cfg === 'symlink') return venvOf(probe, P, dir, names);
  if (names.get('conda-meta') === 'dir') return condaOf(probe, P, dir, names);
  if (names.has('lib') || names.has('Lib')) return installOf(probe, P, dir, names);
  return undefined;
}

export async function recogniseDir(probe: QuietProbe, P: PlatformPath, dir: string): Promise<Recognised | undefined> {
  const entries = await probe.readdir(dir);
  return entries === undefined ? undefined : recogniseEntries(probe, P, dir, entries);
}

/** Folders inside a managed-Python folder where the install itself may sit (python-build-standalone archives). */
const NESTED_INSTALL = [['python'], ['install'], ['python', 'install']];

/** An interpreter install at `dir` or one of the nested places standalone builds unpack to. */
export async function recogniseInstall(probe: QuietProbe, P: PlatformPath, dir: string): Promise<Recognised | undefined> {
  const here = await recogniseDir(probe, P, dir);
  if (here) return here;
  for (const sub of NESTED_INSTALL) {
    const r = await recogniseDir(probe, P, P.join(dir, ...sub));
    if (r?.layout === 'python') return r;
  }
  return undefined;
}
