/**
 * Discovery end to end on an in-memory tree (the injectable probe): Windows
 * paths on any host, symlink duplicates, .venv pointers, the skip list.
 */
import { describe, expect, it } from 'vitest';
import { discoverEnvironments, environmentsUnder, type DiscoveredEnv } from '../../src/discover/index.js';
import { memoryProbe } from './helpers.js';

const row = (e: DiscoveredEnv) => `${e.kind} ${e.python ?? '-'} ${e.path}`;
const VENV = (v: string, extra = '') => `home = /usr/bin\nversion = ${v}\n${extra}`;

describe('on a Windows tree', () => {
  const W = 'C:\\Users\\u';
  const fs = memoryProbe('win32', {
    [`${W}\\AppData\\Roaming\\uv\\tools\\ruff\\pyvenv.cfg`]: VENV('3.12.4', 'uv = 0.5.0\n'),
    [`${W}\\AppData\\Roaming\\uv\\python\\cpython-3.12.4-windows-x86_64-none\\Lib\\os.py`]: '',
    [`${W}\\AppData\\Roaming\\uv\\python\\cpython-3.12.4-windows-x86_64-none\\python.exe`]: '',
    [`${W}\\AppData\\Roaming\\uv\\python\\cpython-3.12.4-windows-x86_64-none\\python312.dll`]: '',
    [`${W}\\AppData\\Roaming\\uv\\python\\cpython-3.12-windows-x86_64-none`]: { link: `${W}\\AppData\\Roaming\\uv\\python\\cpython-3.12.4-windows-x86_64-none` },
    [`${W}\\AppData\\Local\\pypoetry\\Cache\\virtualenvs\\app-AbCdEfGh-py3.11\\pyvenv.cfg`]: VENV('3.11.9', 'virtualenv = 20.26.0\n'),
    [`${W}\\src\\proj\\uv.lock`]: '',
    [`${W}\\src\\proj\\.venv\\pyvenv.cfg`]: VENV('3.12.4', 'uv = 0.5.0\n'),
    [`${W}\\src\\proj\\node_modules\\x\\pyvenv.cfg`]: VENV('3.12.4'),
    [`${W}\\src\\other\\.venv`]: 'D:\\envs\\other\r\n',
    ['D:\\envs\\other\\pyvenv.cfg']: VENV('3.10.1'),
  });

  it('finds each env once with its kind, Windows layouts and pointers included', async () => {
    const r = await discoverEnvironments({ platform: 'win32', home: W, env: { APPDATA: `${W}\\AppData\\Roaming`, LOCALAPPDATA: `${W}\\AppData\\Local` }, fs });
    expect(r.environments.map(row)).toEqual([
      `uv-python 3.12 ${W}\\AppData\\Roaming\\uv\\python\\cpython-3.12.4-windows-x86_64-none`,
      `uv-tool 3.12 ${W}\\AppData\\Roaming\\uv\\tools\\ruff`,
      `poetry 3.11 ${W}\\AppData\\Local\\pypoetry\\Cache\\virtualenvs\\app-AbCdEfGh-py3.11`,
      `uv 3.12 ${W}\\src\\proj\\.venv`,
      'venv 3.10 D:\\envs\\other',
    ].sort((a, b) => (a.split(' ')[2]! < b.split(' ')[2]! ? -1 : 1)));
    const other = r.environments.find((e) => e.path === 'D:\\envs\\other')!;
    expect(other.aliases).toEqual([`${W}\\src\\other\\.venv`]);
    expect(other.foundBy).toBe(`.venv file in ${W}\\src\\other`);
    const py = r.environments.find((e) => e.kind === 'uv-python')!;
    expect(py.aliases).toEqual([`${W}\\AppData\\Roaming\\uv\\python\\cpython-3.12-windows-x86_64-none`]);
    expect(r.counts).toEqual({ 'uv-python': 1, 'uv-tool': 1, poetry: 1, uv: 1, venv: 1 });
  });
});

describe('on a Linux tree', () => {
  const H = '/home/u';
  const tree = {
    [`${H}/.pyenv/versions/3.11.7/lib/python3.11/os.py`]: '',
    [`${H}/.pyenv/versions/3.11.7/envs/foo/pyvenv.cfg`]: VENV('3.11.7'),
    [`${H}/.pyenv/versions/foo`]: { link: `${H}/.pyenv/versions/3.11.7/envs/foo` },
    [`${H}/.local/share/hatch/env/virtual/proj/Xy12AbCd/default/pyvenv.cfg`]: VENV('3.12.1', 'virtualenv = 20.0.0\n'),
    [`${H}/.local/share/hatch/pythons/3.12/python/lib/python3.12/os.py`]: '',
    [`${H}/miniconda3/conda-meta/history`]: '',
    [`${H}/miniconda3/conda-meta/python-3.12.2-h1_0.json`]: '{}',
    [`${H}/miniconda3/envs/ds/conda-meta/python-3.10.14-h2_0.json`]: '{}',
    [`${H}/code/a/.pixi/envs/default/conda-meta/pixi`]: '{}',
    [`${H}/code/a/.pixi/envs/default/conda-meta/python-3.13.0-h_0.json`]: '{}',
    [`${H}/code/a/.tox/py311/pyvenv.cfg`]: VENV('3.11.7', 'virtualenv = 20.0.0\n'),
    [`${H}/code/a/.nox/tests/pyvenv.cfg`]: VENV('3.11.7'),
    [`${H}/code/b/poetry.lock`]: '',
    [`${H}/code/b/.venv/pyvenv.cfg`]: VENV('3.11.7', 'virtualenv = 20.0.0\n'),
    [`${H}/code/b/.git/objects/fake/pyvenv.cfg`]: VENV('3.11.7'),
    [`${H}/code/c/.venv`]: 'c-Zz9_Zz9_\n',
    [`${H}/.local/share/virtualenvs/c-Zz9_Zz9_/pyvenv.cfg`]: VENV('3.9.1'),
    [`${H}/code/deep/1/2/3/4/5/6/.venv/pyvenv.cfg`]: VENV('3.11.7'),
  };
  const fs = memoryProbe('linux', tree);

  it('each env once: the pyenv-virtualenv symlink, a conda root and its envs, project-local kinds', async () => {
    const r = await discoverEnvironments({ platform: 'linux', home: H, env: {}, fs });
    expect(r.environments.map(row).sort()).toEqual([
      `conda 3.10 ${H}/miniconda3/envs/ds`,
      `conda 3.12 ${H}/miniconda3`,
      `hatch 3.12 ${H}/.local/share/hatch/env/virtual/proj/Xy12AbCd/default`,
      `hatch-python 3.12 ${H}/.local/share/hatch/pythons/3.12/python`,
      `nox 3.11 ${H}/code/a/.nox/tests`,
      `pipenv 3.9 ${H}/.local/share/virtualenvs/c-Zz9_Zz9_`,
      `pixi 3.13 ${H}/code/a/.pixi/envs/default`,
      `poetry 3.11 ${H}/code/b/.venv`,
      `pyenv-python 3.11 ${H}/.pyenv/versions/3.11.7`,
      `pyenv-virtualenv 3.11 ${H}/.pyenv/versions/3.11.7/envs/foo`,
      `tox 3.11 ${H}/code/a/.tox/py311`,
    ]);
    const foo = r.environments.find((e) => e.kind === 'pyenv-virtualenv')!;
    expect(foo.aliases).toEqual([`${H}/.pyenv/versions/foo`]);
    const pipenv = r.environments.find((e) => e.kind === 'pipenv')!;
    expect(pipenv.aliases).toEqual([`${H}/code/c/.venv`]);
  });

  it('maxDepth bounds the walk; excludes drop envs and folders', async () => {
    const deep = await discoverEnvironments({ platform: 'linux', home: H, env: {}, fs, maxDepth: 9 });
    expect(deep.environments.map((e) => e.path)).toContain(`${H}/code/deep/1/2/3/4/5/6/.venv`);
    const ex = await discoverEnvironments({ platform: 'linux', home: H, env: {}, fs, excludes: ['~/code/a/**', '~/.pyenv/**'] });
    const paths = ex.environments.map((e) => e.path);
    expect(paths.filter((p) => p.startsWith(`${H}/code/a`) || p.startsWith(`${H}/.pyenv`))).toEqual([]);
    expect(paths).toContain(`${H}/code/b/.venv`);
  });

  it('environmentsUnder: only what is under the PATH, locators included', async () => {
    const r = await environmentsUnder(`${H}/.pyenv`, { platform: 'linux', home: H, env: {}, fs });
    expect(r.environments.map(row)).toEqual([`pyenv-python 3.11 ${H}/.pyenv/versions/3.11.7`, `pyenv-virtualenv 3.11 ${H}/.pyenv/versions/3.11.7/envs/foo`]);
    const one = await environmentsUnder(`${H}/code/b/.venv`, { platform: 'linux', home: H, env: {}, fs });
    expect(one.environments.map(row)).toEqual([`poetry 3.11 ${H}/code/b/.venv`]);
    const code = await environmentsUnder(`${H}/code`, { platform: 'linux', home: H, env: {}, fs });
    expect(code.environments.map((e) => e.kind).sort()).toEqual(['nox', 'pipenv', 'pixi', 'poetry', 'tox']);
  });
});
