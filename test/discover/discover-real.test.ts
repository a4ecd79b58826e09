/**
 * Discovery on a real temporary HOME: environments made by `python -m venv`
 * at each tool's real default path, a conda-like prefix, a pyenv tree with a
 * pyenv-virtualenv env and its symlink, pixi, hatch, pdm, tox, nox, rye, a
 * `.venv` file pointer; node_modules and .git holding pyvenv.cfg-looking
 * folders; then the override variables pointing elsewhere. Discovery gets a
 * clean env (HOME only: no XDG_* or tool variables), and so do the children.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverEnvironments, environmentsUnder, isEnvironment, type DiscoveredEnv, type DiscoveryResult } from '../../src/discover/index.js';
import { interpreter } from '../helpers/interpreters.js';

const TOOL_VARS = /^(XDG_|UV_|POETRY_|PIPX_|PIPENV_|WORKON_HOME$|PYENV|CONDA|MAMBA_|PIXI_|RATTLER_|HATCH_|PDM_|RYE_HOME$|TOX_|VIRTUAL_ENV|PYTHON|PYCSTORE_CONFIG$)/;

/** The process env without XDG_* and tool variables, HOME set. */
function cleanEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !TOOL_VARS.test(k)) env[k] = v;
  return { ...env, HOME: home, ...extra };
}

let home: string;
let outside: string;

function venv(dir: string, python = 'python3', cfgLines = ''): string {
  mkdirSync(path.dirname(dir), { recursive: true });
  execFileSync(python, ['-m', 'venv', '--without-pip', dir], { env: cleanEnv(home), stdio: 'pipe' });
  if (cfgLines) appendFileSync(path.join(dir, 'pyvenv.cfg'), cfgLines);
  return dir;
}

/** A tree that looks like an interpreter install of `python3` (3.11): its os.py and a bin/ link. */
function install(prefix: string, extra: (p: string) => void = () => {}): string {
  const real = realpathSync(execFileSync('python3', ['-c', 'import sys; print(sys.executable)']).toString().trim());
  const os_py = execFileSync('python3', ['-c', 'import os; print(os.__file__)']).toString().trim();
  mkdirSync(path.join(prefix, 'lib', 'python3.11'), { recursive: true });
  mkdirSync(path.join(prefix, 'bin'), { recursive: true });
  copyFileSync(os_py, path.join(prefix, 'lib', 'python3.11', 'os.py'));
  symlinkSync(real, path.join(prefix, 'bin', 'python3.11'));
  extra(prefix);
  return prefix;
}

function condaPrefix(prefix: string, marker?: 'pixi'): string {
  install(prefix, (p) => {
    mkdirSync(path.join(p, 'conda-meta'));
    writeFileSync(path.join(p, 'conda-meta', 'history'), '==> 2024-01-01 <==\n');
    writeFileSync(path.join(p, 'conda-meta', 'python-3.11.7-h955ad1f_0.json'), '{}');
    if (marker) writeFileSync(path.join(p, 'conda-meta', 'pixi'), '{}');
  });
  return prefix;
}

const h = (...p: string[]) => path.join(home, ...p);
const byPath = (r: DiscoveryResult) => new Map(r.environments.map((e) => [e.path, e]));
const mine = (r: DiscoveryResult) => r.environments.filter((e) => e.path.startsWith(home + path.sep) || e.path.startsWith(outside + path.sep));

beforeAll(() => {
  home = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'pycstore-home-')));
  outside = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'pycstore-outside-')));
  const py312 = interpreter(12);
  if (!py312) console.log('discover-real: no Python 3.12 here; the hatch env uses python3 (3.11) instead');
  venv(h('src', 'uvproj', '.venv'), 'python3', 'uv = 0.5.11\n');
  venv(h('.local', 'share', 'uv', 'tools', 'ruff'), 'python3', 'uv = 0.5.11\n');
  venv(h('.cache', 'uv', 'environments-v2', 'script-0a1b2c3d4e5f'), 'python3', 'uv = 0.5.11\n');
  install(h('.local', 'share', 'uv', 'python', 'cpython-3.11.7-linux-x86_64-gnu'));
  symlinkSync('cpython-3.11.7-linux-x86_64-gnu', h('.local', 'share', 'uv', 'python', 'cpython-3.11-linux-x86_64-gnu'));
  venv(h('.cache', 'pypoetry', 'virtualenvs', 'app-AbCdEfGh-py3.11'), 'python3', 'virtualenv = 20.26.6\n');
  venv(h('.local', 'share', 'pipx', 'venvs', 'black'));
  venv(h('.local', 'share', 'pipx', 'shared'));
  venv(h('.local', 'share', 'virtualenvs', 'webapp-x1Y2z3W4'));
  venv(h('.virtualenvs', 'work'));
  install(h('.pyenv', 'versions', '3.11.7'));
  venv(h('.pyenv', 'versions', '3.11.7', 'envs', 'foo'));
  symlinkSync(h('.pyenv', 'versions', '3.11.7', 'envs', 'foo'), h('.pyenv', 'versions', 'foo'));
  condaPrefix(h('miniconda3'));
  condaPrefix(h('miniconda3', 'envs', 'ds'));
  condaPrefix(path.join(outside, 'conda-envs', 'registered'));
  mkdirSync(h('.conda'));
  writeFileSync(h('.conda', 'environments.txt'), `${h('miniconda3')}\n${path.join(outside, 'conda-envs', 'registered')}\n`);
  condaPrefix(h('src', 'pixiproj', '.pixi', 'envs', 'default'), 'pixi');
  venv(h('.local', 'share', 'hatch', 'env', 'virtual', 'proj', 'Xy12AbCd', 'default'), py312?.exe ?? 'python3', 'virtualenv = 20.26.6\n');
  venv(h('.local', 'share', 'pdm', 'venvs', 'proj-3a4b5c6d-3.11'));
  mkdirSync(h('src', 'pdmproj'), { recursive: true });
  writeFileSync(h('src', 'pdmproj', 'pdm.lock'), '');
  venv(h('src', 'pdmproj', '.venv'));
  venv(h('src', 'toxproj', '.tox', 'py311'), 'python3', 'virtualenv = 20.26.6\n');
  venv(h('src', 'noxproj', '.nox', 'tests'));
  venv(h('.rye', 'tools', 'ruff'));
  install(h('.rye', 'py', 'cpython@3.11.7', 'install'));
  venv(h('.cache', 'uv', 'environments-v2', 'central-proj-9f8e7d'), 'python3', 'uv = 0.5.11\n');
  mkdirSync(h('src', 'central'), { recursive: true });
  symlinkSync(h('.cache', 'uv', 'environments-v2', 'central-proj-9f8e7d'), h('src', 'central', '.venv'));
  venv(path.join(outside, 'envs', 'pointed'));
  mkdirSync(h('src', 'ptrproj'), { recursive: true });
  writeFileSync(h('src', 'ptrproj', '.venv'), `${path.join(outside, 'envs', 'pointed')}\n`);
  // look like environments, but live where discovery never goes
  venv(h('src', 'webproj', 'node_modules', 'pkg', '.venv'));
  venv(h('src', 'webproj', '.git', 'objects', 'xx'));
});

afterAll(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

describe('discovery at the tools\' default places', () => {
  let r: DiscoveryResult;
  beforeAll(async () => {
    r = await discoverEnvironments({ env: cleanEnv(home), platform: 'linux', home });
  });

  it('finds every environment once, with its kind and Python version', () => {
    const rows = mine(r).map((e: DiscoveredEnv) => `${e.kind} ${e.python} ${path.relative(home, e.path)}`).sort();
    const hatchPy = interpreter(12) ? '3.12' : '3.11';
    const out = (p: string) => path.relative(home, path.join(outside, p));
    expect(rows).toEqual([
      `conda 3.11 ${out('conda-envs/registered')}`,
      'conda 3.11 miniconda3',
      'conda 3.11 miniconda3/envs/ds',
      `hatch ${hatchPy} .local/share/hatch/env/virtual/proj/Xy12AbCd/default`,
      'nox 3.11 src/noxproj/.nox/tests',
      'pdm 3.11 .local/share/pdm/venvs/proj-3a4b5c6d-3.11',
      'pdm 3.11 src/pdmproj/.venv',
      'pipenv 3.11 .local/share/virtualenvs/webapp-x1Y2z3W4',
      'pipx 3.11 .local/share/pipx/shared',
      'pipx 3.11 .local/share/pipx/venvs/black',
      'pixi 3.11 src/pixiproj/.pixi/envs/default',
      'poetry 3.11 .cache/pypoetry/virtualenvs/app-AbCdEfGh-py3.11',
      'pyenv-python 3.11 .pyenv/versions/3.11.7',
      'pyenv-virtualenv 3.11 .pyenv/versions/3.11.7/envs/foo',
      'rye 3.11 .rye/tools/ruff',
      'rye-python 3.11 .rye/py/cpython@3.11.7/install',
      'tox 3.11 src/toxproj/.tox/py311',
      'uv 3.11 src/uvproj/.venv',
      'uv-cache 3.11 .cache/uv/environments-v2/central-proj-9f8e7d',
      'uv-cache 3.11 .cache/uv/environments-v2/script-0a1b2c3d4e5f',
      'uv-python 3.11 .local/share/uv/python/cpython-3.11.7-linux-x86_64-gnu',
      'uv-tool 3.11 .local/share/uv/tools/ruff',
      `venv 3.11 ${out('envs/pointed')}`,
      'virtualenvwrapper 3.11 .virtualenvs/work',
    ]);
  });

  it('symlinks and pointers are aliases of the one real env; a venv knows its base interpreter', () => {
    const m = byPath(r);
    const base = path.dirname(execFileSync('python3', ['-c', 'import sys; print(sys.executable)']).toString().trim());
    expect(m.get(h('src', 'uvproj', '.venv'))!.base).toBe(base);
    expect(m.get(h('miniconda3'))!.base).toBeUndefined();
    expect(m.get(h('.pyenv', 'versions', '3.11.7', 'envs', 'foo'))!.aliases).toEqual([h('.pyenv', 'versions', 'foo')]);
    expect(m.get(h('.local', 'share', 'uv', 'python', 'cpython-3.11.7-linux-x86_64-gnu'))!.aliases).toEqual([h('.local', 'share', 'uv', 'python', 'cpython-3.11-linux-x86_64-gnu')]);
    expect(m.get(h('.cache', 'uv', 'environments-v2', 'central-proj-9f8e7d'))!.aliases).toEqual([h('src', 'central', '.venv')]);
    const pointed = m.get(path.join(outside, 'envs', 'pointed'))!;
    expect(pointed.aliases).toEqual([h('src', 'ptrproj', '.venv')]);
    expect(pointed.foundBy).toBe(`.venv file in ${h('src', 'ptrproj')}`);
    expect(m.get(path.join(outside, 'conda-envs', 'registered'))!.foundBy).toBe(h('.conda', 'environments.txt'));
  });

  it('nothing under node_modules or .git', () => {
    expect(r.environments.filter((e) => /node_modules|\.git/.test(e.path))).toEqual([]);
    expect(r.counts.venv).toBe(mine(r).filter((e) => e.kind === 'venv').length);
  });

  it('isEnvironment recognises each layout', async () => {
    expect(await isEnvironment(h('src', 'uvproj', '.venv'))).toEqual({ layout: 'venv', python: '3.11' });
    expect(await isEnvironment(h('miniconda3'))).toEqual({ layout: 'conda', python: '3.11' });
    expect(await isEnvironment(h('.pyenv', 'versions', '3.11.7'))).toEqual({ layout: 'python', python: '3.11' });
    expect(await isEnvironment(h('src'))).toBeUndefined();
    expect(await isEnvironment(h('src', 'ptrproj', '.venv'))).toBeUndefined();
  });

  it('PATH-scan mode: the envs under a folder, not node_modules or .git', async () => {
    const under = await environmentsUnder(h('src'), { env: cleanEnv(home), platform: 'linux', home });
    expect(under.environments.map((e) => `${e.kind} ${path.relative(home, e.path)}`).sort()).toEqual([
      'nox src/noxproj/.nox/tests',
      'pdm src/pdmproj/.venv',
      'pixi src/pixiproj/.pixi/envs/default',
      'tox src/toxproj/.tox/py311',
      'uv src/uvproj/.venv',
      'uv-cache .cache/uv/environments-v2/central-proj-9f8e7d',
      `venv ${path.relative(home, path.join(outside, 'envs', 'pointed'))}`,
    ]);
  });
});

describe('override variables point elsewhere', () => {
  it('POETRY_VIRTUALENVS_PATH, WORKON_HOME, PIPX_HOME, PYENV_ROOT, UV_TOOL_DIR, HATCH_DATA_DIR, CONDA_ENVS_PATH', async () => {
    const o = (...p: string[]) => path.join(outside, 'moved', ...p);
    venv(o('poetry', 'svc-QwErTyUi-py3.11'));
    venv(o('workon', 'scratch'));
    venv(o('workon', 'api-Zx9_Yw8-'));
    venv(o('pipx', 'venvs', 'httpie'));
    venv(o('pyenv', 'versions', '3.11.7', 'envs', 'bar'));
    symlinkSync(o('pyenv', 'versions', '3.11.7', 'envs', 'bar'), o('pyenv', 'versions', 'bar'));
    venv(o('uvtools', 'mypy'));
    venv(o('hatch', 'env', 'virtual', 'p', 'AbCdEfGh', 'test'));
    condaPrefix(o('condaenvs', 'ml'));
    const env = cleanEnv(home, {
      POETRY_VIRTUALENVS_PATH: o('poetry'),
      WORKON_HOME: o('workon'),
      PIPX_HOME: o('pipx'),
      PYENV_ROOT: o('pyenv'),
      UV_TOOL_DIR: o('uvtools'),
      HATCH_DATA_DIR: o('hatch'),
      CONDA_ENVS_PATH: o('condaenvs'),
    });
    const r = await discoverEnvironments({ env, platform: 'linux', home, workspaces: [h('src')] });
    const moved = r.environments.filter((e) => e.path.startsWith(o()));
    expect(moved.map((e) => `${e.kind} ${path.relative(o(), e.path)} [${e.foundBy}]`).sort()).toEqual([
      'conda condaenvs/ml [CONDA_ENVS_PATH]',
      'hatch hatch/env/virtual/p/AbCdEfGh/test [HATCH_DATA_DIR]',
      'pipenv workon/api-Zx9_Yw8- [WORKON_HOME]',
      'pipx pipx/venvs/httpie [PIPX_HOME]',
      'poetry poetry/svc-QwErTyUi-py3.11 [POETRY_VIRTUALENVS_PATH]',
      'pyenv-virtualenv pyenv/versions/3.11.7/envs/bar [PYENV_ROOT]',
      'uv-tool uvtools/mypy [UV_TOOL_DIR]',
      'virtualenvwrapper workon/scratch [WORKON_HOME]',
    ]);
    // the defaults are still searched: envs made before the variable was set stay found
    expect(byPath(r).get(h('.cache', 'pypoetry', 'virtualenvs', 'app-AbCdEfGh-py3.11'))?.kind).toBe('poetry');
  });

  it('a config-file place: poetry virtualenvs.path and pdm venv.location', async () => {
    const o = (...p: string[]) => path.join(outside, 'configured', ...p);
    venv(o('poetry-envs', 'lib-AAAAAAAA-py3.11'));
    venv(o('pdm-envs', 'tool-BBBBBBBB-3.11'));
    mkdirSync(h('.config', 'pypoetry'), { recursive: true });
    writeFileSync(h('.config', 'pypoetry', 'config.toml'), `[virtualenvs]\npath = "${o('poetry-envs')}"\n`);
    mkdirSync(h('.config', 'pdm'), { recursive: true });
    writeFileSync(h('.config', 'pdm', 'config.toml'), `[venv]\nlocation = "${o('pdm-envs')}"\n`);
    const r = await discoverEnvironments({ env: cleanEnv(home), platform: 'linux', home, workspaces: [] });
    const m = byPath(r);
    expect(m.get(o('poetry-envs', 'lib-AAAAAAAA-py3.11'))).toMatchObject({ kind: 'poetry', foundBy: `virtualenvs.path in ${h('.config', 'pypoetry', 'config.toml')}` });
    expect(m.get(o('pdm-envs', 'tool-BBBBBBBB-3.11'))).toMatchObject({ kind: 'pdm', foundBy: `venv.location in ${h('.config', 'pdm', 'config.toml')}` });
  });
});
