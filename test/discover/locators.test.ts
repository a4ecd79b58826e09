/**
 * Every locator's places on Linux, macOS and Windows (win32 paths), with the
 * defaults of the research table, each override variable, and the tools'
 * config files. Pure: injected env, platform and home; config files parsed
 * from text.
 */
import { describe, expect, it } from 'vitest';
import { condaLocator } from '../../src/discover/locators/conda.js';
import { hatchLocator } from '../../src/discover/locators/hatch.js';
import { pdmLocator } from '../../src/discover/locators/pdm.js';
import { pipenvLocator } from '../../src/discover/locators/pipenv.js';
import { pipxLocator } from '../../src/discover/locators/pipx.js';
import { pixiLocator } from '../../src/discover/locators/pixi.js';
import { poetryLocator } from '../../src/discover/locators/poetry.js';
import { pyenvLocator } from '../../src/discover/locators/pyenv.js';
import { ryeLocator } from '../../src/discover/locators/rye.js';
import { toxLocator } from '../../src/discover/locators/tox.js';
import { uvLocator } from '../../src/discover/locators/uv.js';
import { virtualenvwrapperLocator } from '../../src/discover/locators/virtualenvwrapper.js';
import { dirs, files, linux, mac, places, win } from './helpers.js';

describe('uv', () => {
  it('Linux: XDG data and cache dirs, else ~/.local/share/uv and ~/.cache/uv', () => {
    expect(dirs(uvLocator, linux())).toEqual([
      '/home/u/.local/share/uv/tools/*',
      '/home/u/.local/share/uv/python/*',
      '/home/u/.cache/uv/environments-v2/*',
    ]);
    const x = dirs(uvLocator, linux({ XDG_DATA_HOME: '/d', XDG_CACHE_HOME: '/c' }));
    expect(x).toEqual(['/d/uv/tools/*', '/d/uv/python/*', '/c/uv/environments-v2/*']);
  });
  it('macOS: the XDG layout plus the legacy ~/Library dirs', () => {
    expect(dirs(uvLocator, mac())).toEqual([
      '/Users/u/.local/share/uv/tools/*',
      '/Users/u/.local/share/uv/python/*',
      '/Users/u/Library/Application Support/uv/tools/*',
      '/Users/u/Library/Application Support/uv/python/*',
      '/Users/u/.cache/uv/environments-v2/*',
      '/Users/u/Library/Caches/uv/environments-v2/*',
    ]);
  });
  it('Windows: %APPDATA%\\uv (legacy %APPDATA%\\uv\\data) and %LOCALAPPDATA%\\uv\\cache', () => {
    const d = dirs(uvLocator, win());
    expect(d).toContain('C:\\Users\\u\\AppData\\Roaming\\uv\\tools\\*');
    expect(d).toContain('C:\\Users\\u\\AppData\\Roaming\\uv\\data\\tools\\*');
    expect(d).toContain('C:\\Users\\u\\AppData\\Roaming\\uv\\python\\*');
    expect(d).toContain('C:\\Users\\u\\AppData\\Local\\uv\\cache\\environments-v2\\*');
  });
  it('UV_TOOL_DIR, UV_PYTHON_INSTALL_DIR, UV_CACHE_DIR, absolute UV_PROJECT_ENVIRONMENT', () => {
    const p = places(uvLocator, linux({ UV_TOOL_DIR: '/t', UV_PYTHON_INSTALL_DIR: '/py', UV_CACHE_DIR: '/cache', UV_PROJECT_ENVIRONMENT: '/envs/proj' }));
    expect(p).toContain('/t/* -> venv:uv-tool [UV_TOOL_DIR]');
    expect(p).toContain('/py/* -> python:uv-python [UV_PYTHON_INSTALL_DIR]');
    expect(p).toContain('/cache/environments-v2/* -> venv:uv-cache [UV_CACHE_DIR]');
    expect(p).toContain('/envs/proj -> venv:uv [UV_PROJECT_ENVIRONMENT]');
    // a relative one sits in each project: the workspace walk finds it
    expect(dirs(uvLocator, linux({ UV_PROJECT_ENVIRONMENT: 'venv' })).some((d) => d.endsWith('venv'))).toBe(false);
  });
  it('uv.toml: cache-dir, tool-dir, python-install-dir', () => {
    const ctx = linux();
    const cfg = files(ctx, { '/home/u/.config/uv/uv.toml': 'cache-dir = "/big/uvcache"\ntool-dir = "~/tools"\npython-install-dir = "/opt/py"\n' });
    const d = dirs(uvLocator, ctx, cfg);
    expect(d).toContain('/big/uvcache/environments-v2/*');
    expect(d).toContain('/home/u/tools/*');
    expect(d).toContain('/opt/py/*');
  });
});

describe('poetry', () => {
  it('defaults: {cache-dir}/virtualenvs and {data-dir}/python per OS', () => {
    expect(dirs(poetryLocator, linux())).toEqual(['/home/u/.cache/pypoetry/virtualenvs/*', '/home/u/.local/share/pypoetry/python/*']);
    expect(dirs(poetryLocator, mac())).toEqual([
      '/Users/u/Library/Caches/pypoetry/virtualenvs/*',
      '/Users/u/Library/Application Support/pypoetry/python/*',
    ]);
    expect(dirs(poetryLocator, win())).toEqual([
      'C:\\Users\\u\\AppData\\Local\\pypoetry\\Cache\\virtualenvs\\*',
      'C:\\Users\\u\\AppData\\Roaming\\pypoetry\\python\\*',
    ]);
  });
  it('POETRY_VIRTUALENVS_PATH and POETRY_CACHE_DIR', () => {
    const p = places(poetryLocator, linux({ POETRY_VIRTUALENVS_PATH: '/venvs', POETRY_CACHE_DIR: '/pc' }));
    expect(p).toContain('/venvs/* -> venv:poetry [POETRY_VIRTUALENVS_PATH]');
    expect(p).toContain('/pc/virtualenvs/* -> venv:poetry [POETRY_CACHE_DIR]');
    expect(p).toContain('/home/u/.cache/pypoetry/virtualenvs/* -> venv:poetry [default on linux: {cache-dir}/virtualenvs]');
  });
  it('config.toml in the config dir (virtualenvs.path with {cache-dir}), and POETRY_CONFIG_DIR', () => {
    const ctx = linux();
    const cfg = files(ctx, { '/home/u/.config/pypoetry/config.toml': 'cache-dir = "/pc"\n[virtualenvs]\npath = "{cache-dir}/envs"\n' });
    expect(places(poetryLocator, ctx, cfg)).toContain('/pc/envs/* -> venv:poetry [virtualenvs.path in /home/u/.config/pypoetry/config.toml]');
    const moved = linux({ POETRY_CONFIG_DIR: '/etc/poetry' });
    const cfg2 = files(moved, { '/etc/poetry/config.toml': 'virtualenvs.path = "~/pv"\n' });
    expect(dirs(poetryLocator, moved, cfg2)).toContain('/home/u/pv/*');
    // the env variable wins over the file
    const both = linux({ POETRY_VIRTUALENVS_PATH: '/from-env' });
    expect(dirs(poetryLocator, both, cfg)).toContain('/from-env/*');
    expect(dirs(poetryLocator, both, cfg)).not.toContain('/pc/envs/*');
  });
  it('macOS reads every config dir platformdirs ever used (Application Support, Preferences)', () => {
    const ctx = mac();
    const cfg = files(ctx, { '/Users/u/Library/Preferences/pypoetry/config.toml': '[virtualenvs]\npath = "/old"\n' });
    expect(dirs(poetryLocator, ctx, cfg)).toContain('/old/*');
  });
  it('managed Pythons: POETRY_PYTHON_INSTALLATION_DIR, POETRY_DATA_DIR, POETRY_HOME', () => {
    expect(dirs(poetryLocator, linux({ POETRY_PYTHON_INSTALLATION_DIR: '/pp' }))).toContain('/pp/*');
    expect(dirs(poetryLocator, linux({ POETRY_DATA_DIR: '/pd' }))).toContain('/pd/python/*');
    expect(dirs(poetryLocator, linux({ POETRY_HOME: '/ph' }))).toContain('/ph/python/*');
  });
});

describe('pipx', () => {
  it('Linux: every historical home, the global home, venvs/*, shared, py/*', () => {
    expect(dirs(pipxLocator, linux())).toEqual([
      '/home/u/.local/share/pipx/venvs/*',
      '/home/u/.local/share/pipx/shared',
      '/home/u/.local/share/pipx/py/*',
      '/home/u/.local/pipx/venvs/*',
      '/home/u/.local/pipx/shared',
      '/home/u/.local/pipx/py/*',
      '/opt/pipx/venvs/*',
      '/opt/pipx/shared',
      '/opt/pipx/py/*',
    ]);
  });
  it('macOS: ~/.local/pipx and the 1.3–1.5 ~/Library/Application Support/pipx', () => {
    const d = dirs(pipxLocator, mac());
    expect(d).toContain('/Users/u/.local/pipx/venvs/*');
    expect(d).toContain('/Users/u/Library/Application Support/pipx/venvs/*');
  });
  it('Windows: ~\\pipx, ~\\.local\\pipx, %LOCALAPPDATA%\\pipx\\pipx, no /opt', () => {
    const d = dirs(pipxLocator, win());
    expect(d).toContain('C:\\Users\\u\\pipx\\venvs\\*');
    expect(d).toContain('C:\\Users\\u\\.local\\pipx\\venvs\\*');
    expect(d).toContain('C:\\Users\\u\\AppData\\Local\\pipx\\pipx\\venvs\\*');
    expect(d.some((x) => x.includes('opt'))).toBe(false);
  });
  it('PIPX_HOME, PIPX_SHARED_LIBS, PIPX_GLOBAL_HOME', () => {
    const p = places(pipxLocator, linux({ PIPX_HOME: '/px', PIPX_SHARED_LIBS: '/shared-libs', PIPX_GLOBAL_HOME: '/gx' }));
    expect(p).toContain('/px/venvs/* -> venv:pipx [PIPX_HOME]');
    expect(p).toContain('/shared-libs -> venv:pipx [PIPX_SHARED_LIBS]');
    expect(p).toContain('/px/py/* -> python:pipx-python [PIPX_HOME]');
    expect(p).toContain('/gx/venvs/* -> venv:pipx [PIPX_GLOBAL_HOME]');
    expect(dirs(pipxLocator, linux({ PIPX_GLOBAL_HOME: '/gx' }))).not.toContain('/opt/pipx/venvs/*');
  });
});

describe('pipenv and virtualenvwrapper', () => {
  it('pipenv: XDG_DATA_HOME/virtualenvs on POSIX, ~\\.virtualenvs on Windows', () => {
    expect(dirs(pipenvLocator, linux())).toEqual(['/home/u/.local/share/virtualenvs/*']);
    expect(dirs(pipenvLocator, mac())).toEqual(['/Users/u/.local/share/virtualenvs/*']);
    expect(dirs(pipenvLocator, linux({ XDG_DATA_HOME: '/x' }))).toEqual(['/x/virtualenvs/*']);
    expect(dirs(pipenvLocator, win())).toEqual(['C:\\Users\\u\\.virtualenvs\\*']);
  });
  it('virtualenvwrapper: ~/.virtualenvs', () => {
    expect(dirs(virtualenvwrapperLocator, linux())).toEqual(['/home/u/.virtualenvs/*']);
    expect(dirs(virtualenvwrapperLocator, win())).toEqual(['C:\\Users\\u\\.virtualenvs\\*']);
  });
  it('WORKON_HOME moves both; the env name tells which made it', () => {
    const ctx = linux({ WORKON_HOME: '/w' });
    expect(places(pipenvLocator, ctx)[0]).toBe('/w/* -> venv:pipenv (by name) [WORKON_HOME]');
    expect(places(virtualenvwrapperLocator, ctx)[0]).toBe('/w/* -> venv:virtualenvwrapper (by name) [WORKON_HOME]');
    const c = pipenvLocator.locate(ctx, new Map())[0]!;
    expect(c.classify!('myproj-AbC_12-x')).toBe('pipenv');
    expect(c.classify!('work')).toBe('virtualenvwrapper');
  });
});

describe('pyenv', () => {
  it('versions/* (interpreters and the symlinks) and versions/*/envs/* (pyenv-virtualenv)', () => {
    expect(places(pyenvLocator, linux())).toEqual([
      '/home/u/.pyenv/versions/*/envs/* -> venv:pyenv-virtualenv,conda:conda [default: ~/.pyenv]',
      '/home/u/.pyenv/versions/* -> python:pyenv-python,venv:pyenv-virtualenv,conda:conda [default: ~/.pyenv]',
    ]);
    expect(dirs(pyenvLocator, linux({ PYENV_ROOT: '/opt/pyenv' }))).toEqual(['/opt/pyenv/versions/*/envs/*', '/opt/pyenv/versions/*']);
    expect(dirs(pyenvLocator, win())).toContain('C:\\Users\\u\\.pyenv\\pyenv-win\\versions\\*');
  });
});

describe('conda, mamba, micromamba', () => {
  it('defaults: install roots and their envs, ~/.conda/envs, both micromamba roots', () => {
    const d = dirs(condaLocator, linux());
    for (const x of ['/home/u/miniconda3', '/home/u/miniconda3/envs/*', '/home/u/miniforge3/envs/*', '/opt/conda/envs/*', '/home/u/.conda/envs/*']) expect(d).toContain(x);
    const p = places(condaLocator, linux());
    expect(p).toContain('/home/u/micromamba/envs/* -> conda:micromamba [micromamba < 2.0 default: ~/micromamba]');
    expect(p.some((x) => x.startsWith('/home/u/.local/share/mamba/envs/* -> conda:micromamba'))).toBe(true);
    expect(dirs(condaLocator, win())).toContain('C:\\Users\\u\\AppData\\Local\\conda\\conda\\envs\\*');
  });
  it('CONDA_ENVS_PATH / CONDA_ENVS_DIRS (path lists), MAMBA_ROOT_PREFIX, CONDA_EXE, CONDA_PREFIX', () => {
    const p = places(condaLocator, linux({ CONDA_ENVS_PATH: '/e1:/e2', CONDA_ENVS_DIRS: '/e3', MAMBA_ROOT_PREFIX: '/mr', CONDA_EXE: '/inst/bin/conda', CONDA_PREFIX: '/inst/envs/active' }));
    expect(p).toContain('/e1/* -> conda:conda [CONDA_ENVS_PATH]');
    expect(p).toContain('/e2/* -> conda:conda [CONDA_ENVS_PATH]');
    expect(p).toContain('/e3/* -> conda:conda [CONDA_ENVS_DIRS]');
    expect(p).toContain('/mr/envs/* -> conda:micromamba [MAMBA_ROOT_PREFIX]');
    expect(p).toContain('/inst -> conda:conda [CONDA_EXE]');
    expect(p).toContain('/inst/envs/* -> conda:conda [CONDA_EXE]');
    expect(p).toContain('/inst/envs/active -> conda:conda [CONDA_PREFIX]');
    expect(dirs(condaLocator, win({ CONDA_ENVS_PATH: 'D:\\e1;D:\\e2' }))).toContain('D:\\e2\\*');
  });
  it('.condarc envs_dirs / envs_path (YAML), ~ expanded; environments.txt entries', () => {
    const ctx = linux();
    const cfg = files(ctx, {
      '/home/u/.condarc': 'channels: [conda-forge]\nenvs_dirs:\n  - ~/my-envs\n  - /shared/envs\n',
      '/home/u/.config/conda/condarc': 'envs_path: /xdg-envs\n',
      '/home/u/.conda/environments.txt': '/home/u/miniconda3\n/somewhere/else/env1\n\n',
    });
    const p = places(condaLocator, ctx, cfg);
    expect(p).toContain('/home/u/my-envs/* -> conda:conda [envs_dirs in /home/u/.condarc]');
    expect(p).toContain('/shared/envs/* -> conda:conda [envs_dirs in /home/u/.condarc]');
    expect(p).toContain('/xdg-envs/* -> conda:conda [envs_path in /home/u/.config/conda/condarc]');
    expect(p).toContain('/somewhere/else/env1 -> conda:conda [/home/u/.conda/environments.txt]');
  });
  it('asks for every user-level condarc and the registry', () => {
    const asked = condaLocator.configFiles!(linux({ CONDARC: '/etc/my.condarc' })).map((r) => `${r.path}:${r.format}`);
    for (const f of ['/home/u/.condarc:yaml', '/home/u/.conda/.condarc:yaml', '/home/u/.config/conda/.condarc:yaml', '/etc/my.condarc:yaml', '/home/u/.conda/environments.txt:lines']) {
      expect(asked).toContain(f);
    }
  });
});

describe('pixi', () => {
  it('global envs in PIXI_HOME (default ~/.pixi)', () => {
    expect(places(pixiLocator, linux())).toEqual(['/home/u/.pixi/envs/* -> conda:pixi [default: ~/.pixi]']);
    expect(dirs(pixiLocator, linux({ PIXI_HOME: '/px' }))).toEqual(['/px/envs/*']);
  });
  it('detached-environments: a path, or true for the pixi cache', () => {
    const ctx = linux();
    const cfg = files(ctx, { '/home/u/.config/pixi/config.toml': 'detached-environments = "/det"\n' });
    expect(dirs(pixiLocator, ctx, cfg)).toContain('/det/*/envs/*');
    const cfg2 = files(ctx, { '/home/u/.pixi/config.toml': 'detached-environments = true\n' });
    expect(dirs(pixiLocator, linux({ PIXI_CACHE_DIR: '/pcache' }), cfg2)).toContain('/pcache/envs/*/envs/*');
  });
});

describe('hatch', () => {
  it('<data>/env/virtual/<project>/<id>/<env> and <data>/pythons/* per OS', () => {
    expect(dirs(hatchLocator, linux())).toEqual(['/home/u/.local/share/hatch/env/virtual/*/*/*', '/home/u/.local/share/hatch/pythons/*']);
    expect(dirs(hatchLocator, mac())).toContain('/Users/u/Library/Application Support/hatch/env/virtual/*/*/*');
    expect(dirs(hatchLocator, win())).toContain('C:\\Users\\u\\AppData\\Local\\hatch\\env\\virtual\\*\\*\\*');
  });
  it('HATCH_DATA_DIR, and dirs.data / dirs.env.virtual / dirs.python in config.toml (HATCH_CONFIG)', () => {
    expect(places(hatchLocator, linux({ HATCH_DATA_DIR: '/hd' }))[0]).toBe('/hd/env/virtual/*/*/* -> venv:hatch [HATCH_DATA_DIR]');
    const ctx = linux({ HATCH_CONFIG: '/cfg/hatch.toml' });
    const cfg = files(ctx, { '/cfg/hatch.toml': '[dirs]\ndata = "/hdata"\npython = "/hpy"\n[dirs.env]\nvirtual = "/hv"\n' });
    const d = dirs(hatchLocator, ctx, cfg);
    expect(d).toContain('/hv/*/*/*');
    expect(d).toContain('/hpy/*');
    expect(d).toContain('/hdata/env/virtual/*/*/*');
  });
});

describe('pdm', () => {
  it('venv.location and python.install_root defaults per OS', () => {
    expect(dirs(pdmLocator, linux())).toEqual(['/home/u/.local/share/pdm/venvs/*', '/home/u/.local/share/pdm/python/*']);
    expect(dirs(pdmLocator, mac())).toContain('/Users/u/Library/Application Support/pdm/venvs/*');
    expect(dirs(pdmLocator, win())).toContain('C:\\Users\\u\\AppData\\Local\\pdm\\pdm\\venvs\\*');
  });
  it('config.toml venv.location (nested or dotted) and PDM_CONFIG_FILE', () => {
    const ctx = linux();
    const cfg = files(ctx, { '/home/u/.config/pdm/config.toml': '[venv]\nlocation = "~/pdm-venvs"\n[python]\ninstall_root = "/pdmpy"\n' });
    expect(places(pdmLocator, ctx, cfg)).toContain('/home/u/pdm-venvs/* -> venv:pdm [venv.location in /home/u/.config/pdm/config.toml]');
    expect(dirs(pdmLocator, ctx, cfg)).toContain('/pdmpy/*');
    const moved = linux({ PDM_CONFIG_FILE: '/c/pdm.toml' });
    expect(dirs(pdmLocator, moved, files(moved, { '/c/pdm.toml': '"venv.location" = "/v2"\n' }))).toContain('/v2/*');
  });
});

describe('tox, rye', () => {
  it('tox: TOX_WORK_DIR only (.tox is the walk\'s)', () => {
    expect(dirs(toxLocator, linux())).toEqual([]);
    expect(dirs(toxLocator, linux({ TOX_WORK_DIR: '/tw' }))).toEqual(['/tw/*']);
  });
  it('rye: RYE_HOME (default ~/.rye): py/* toolchains, tools/*', () => {
    expect(places(ryeLocator, linux())).toEqual(['/home/u/.rye/py/* -> python:rye-python [default: ~/.rye]', '/home/u/.rye/tools/* -> venv:rye [default: ~/.rye]']);
    expect(dirs(ryeLocator, win())).toEqual(['C:\\Users\\u\\.rye\\py\\*', 'C:\\Users\\u\\.rye\\tools\\*']);
    expect(dirs(ryeLocator, linux({ RYE_HOME: '/r' }))).toEqual(['/r/py/*', '/r/tools/*']);
  });
});
