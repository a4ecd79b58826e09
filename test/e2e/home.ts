/**
 * A new user's home, for real: a temporary HOME with environments at the
 * default places of a dozen tools, on three CPython versions — package venvs
 * built by scripts/build-corpus.py (real Debian packages, compiled as pip
 * does) at each tool's path, two interpreter installs of one CPython with
 * their stdlib compiled at their own paths, a conda root with a package cache
 * and an env hard-linked from it, a `cp -al` copy of a venv, and the decoys
 * (node_modules, .git) nothing may touch.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { interpreter, pythonEnv, REPO_ROOT } from '../helpers/interpreters.js';

export const BUILD = path.join(REPO_ROOT, 'scripts', 'build-corpus.py');

export interface PackageVenv {
  /** What discovery should call it. */
  readonly kind: string;
  /** Relative to HOME (or to OUTSIDE when `outside`). */
  readonly rel: string;
  readonly minor: number;
  readonly outside?: boolean;
}

/** The package venvs, each where its tool keeps it. */
export const VENVS: readonly PackageVenv[] = [
  { kind: 'uv', rel: 'src/uvproj/.venv', minor: 11 },
  { kind: 'poetry', rel: '.cache/pypoetry/virtualenvs/app-AbCdEfGh-py3.11', minor: 11 },
  { kind: 'pipenv', rel: '.local/share/virtualenvs/web-x1Y2z3W4', minor: 11 },
  { kind: 'nox', rel: 'src/noxproj/.nox/tests', minor: 11 },
  { kind: 'pipx', rel: '.local/share/pipx/venvs/httpie', minor: 12 },
  { kind: 'pyenv-virtualenv', rel: '.pyenv/versions/3.12.1/envs/tools', minor: 12 },
  { kind: 'hatch', rel: '.local/share/hatch/env/virtual/proj/Xy12AbCd/default', minor: 12 },
  { kind: 'uv-tool', rel: '.local/share/uv/tools/ruff', minor: 12 },
  { kind: 'virtualenvwrapper', rel: '.virtualenvs/work', minor: 10 },
  { kind: 'pdm', rel: 'src/pdmproj/.venv', minor: 10 },
  { kind: 'tox', rel: 'src/toxproj/.tox/py310', minor: 10 },
  // moved by variables (found only when they are set)
  { kind: 'poetry', rel: 'poetry-envs/svc-QwErTyUi-py3.11', minor: 11, outside: true },
  { kind: 'virtualenvwrapper', rel: 'workon/scratch', minor: 11, outside: true },
];

export const STDLIB_INSTALLS = ['.pyenv/versions/3.12.1', '.local/share/uv/python/cpython-3.12.1-linux-x86_64-gnu'] as const;
export const CONDA_ROOT = 'miniconda3';
export const CONDA_ENV = 'miniconda3/envs/ml';
export const COPY = '.virtualenvs/work-copy';

/** The stdlib parts copied into each interpreter install (a few hundred modules, compiled at their own path). */
const STDLIB_PARTS = ['json', 'email', 'http', 'urllib', 'collections', 'importlib', 'concurrent', 'logging', 'xml', 'asyncio', 'html', 'wsgiref', 'zoneinfo', 'sqlite3'];

/** Copy (with mtimes) the top-level modules and STDLIB_PARTS of `python`'s stdlib into `prefix`, then compile them there with it. */
const MAKE_INSTALL = `
import compileall, os, shutil, sys, sysconfig
prefix, parts = sys.argv[1], sys.argv[2].split(',')
src = sysconfig.get_paths()['stdlib']
dst = os.path.join(prefix, 'lib', os.path.basename(src))
os.makedirs(dst)
for name in sorted(os.listdir(src)):
    if name.endswith('.py'):
        shutil.copy2(os.path.join(src, name), dst)
for part in parts:
    if os.path.isdir(os.path.join(src, part)):
        shutil.copytree(os.path.join(src, part), os.path.join(dst, part), ignore=shutil.ignore_patterns('__pycache__', 'test', 'tests'))
os.makedirs(os.path.join(prefix, 'bin'))
os.symlink(os.path.realpath(sys.executable), os.path.join(prefix, 'bin', 'python%d.%d' % sys.version_info[:2]))
ok = compileall.compile_dir(dst, quiet=1, workers=2)
sys.exit(0 if ok else 1)
`;

export function exe(minor: number): string {
  const i = interpreter(minor);
  if (!i) throw new Error(`no CPython 3.${minor} here`);
  return i.exe;
}

export function makeInstall(prefix: string, minor: number): void {
  execFileSync(exe(minor), ['-c', MAKE_INSTALL, prefix, STDLIB_PARTS.join(',')], { env: pythonEnv(), stdio: 'pipe' });
}

/** A package `demo`, compiled where it is. */
function demoPackage(dir: string, minor: number): void {
  const pkg = path.join(dir, 'demo');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(path.join(pkg, '__init__.py'), 'from .core import total\n');
  writeFileSync(path.join(pkg, 'core.py'), 'def total(xs):\n    return sum(x * 2 for x in xs)\n');
  writeFileSync(path.join(pkg, 'extra.py'), 'NAMES = {"a": 1, "b": 2}\n');
  execFileSync(exe(minor), ['-m', 'compileall', '-q', pkg], { env: pythonEnv() });
}

/**
 * A conda root and an env, as conda lays them out: the package cache `pkgs/` holds each package
 * unpacked (pycs included, compiled there), and the root's and the env's files are hard links into it.
 */
export function makeConda(home: string): void {
  const root = path.join(home, CONDA_ROOT);
  const python = path.join(root, 'pkgs', 'python-3.11.7-h955ad1f_0');
  makeInstall(python, 11);
  execFileSync('cp', ['-al', path.join(python, 'lib'), path.join(root, 'lib')]);
  mkdirSync(path.join(root, 'conda-meta'));
  writeFileSync(path.join(root, 'conda-meta', 'history'), '==> 2024-01-01 <==\n');
  writeFileSync(path.join(root, 'conda-meta', 'python-3.11.7-h955ad1f_0.json'), '{}');
  const cached = path.join(root, 'pkgs', 'demo-1.0-py311_0', 'lib', 'python3.11', 'site-packages');
  demoPackage(cached, 11);
  const env = path.join(home, CONDA_ENV);
  const sp = path.join(env, 'lib', 'python3.11', 'site-packages');
  mkdirSync(sp, { recursive: true });
  mkdirSync(path.join(env, 'conda-meta'));
  writeFileSync(path.join(env, 'conda-meta', 'python-3.11.7-h955ad1f_0.json'), '{}');
  writeFileSync(path.join(env, 'conda-meta', 'demo-1.0-py311_0.json'), '{}');
  execFileSync('cp', ['-al', path.join(cached, 'demo'), sp]);
  mkdirSync(path.join(home, '.conda'), { recursive: true });
  writeFileSync(path.join(home, '.conda', 'environments.txt'), `${root}\n${env}\n`);
}

/** Folders that hold pycs but belong to no environment: node_modules (node-gyp's gyp), .git, and a node_modules inside a venv. */
export function makeDecoys(home: string): string[] {
  const dirs = [
    path.join(home, 'src', 'webproj', 'node_modules', 'node-gyp', 'gyp', 'pylib', 'gyp'),
    path.join(home, 'src', 'webproj', '.git', 'hooks', 'lib'),
    path.join(home, VENVS[0]!.rel, 'lib', 'node_modules', 'npm', 'gyp'),
  ];
  for (const d of dirs) {
    mkdirSync(d, { recursive: true });
    writeFileSync(path.join(d, '__init__.py'), '');
    writeFileSync(path.join(d, 'common.py'), 'def f():\n    return 1\n');
    execFileSync(exe(11), ['-m', 'compileall', '-q', d], { env: pythonEnv() });
  }
  // An env inside node_modules: never an environment of the user's.
  execFileSync(exe(11), ['-m', 'venv', '--without-pip', path.join(home, 'src', 'webproj', 'node_modules', 'pkg', '.venv')], { env: pythonEnv() });
  return [path.join(home, 'src', 'webproj'), dirs[2]!];
}

export interface Corpus {
  venvs: { path: string; venv_python: string; python_version: string; pyc_count: number; modules: string[] }[];
}

/** Build every package venv with the corpus builder (one call, two at a time). Returns the corpus, or why not. */
export function buildVenvs(home: string, outside: string, out: string): Corpus | { skip: string } {
  const at = VENVS.flatMap((v) => ['--at', path.join(v.outside ? outside : home, v.rel)]);
  const pythons = VENVS.map((v) => `3.${v.minor}`).join(',');
  const r = spawnSync('python3', [BUILD, '--out', out, '--packages', 'small', '--without-pip', '--pythons', pythons, ...at], { env: pythonEnv(), encoding: 'utf8' });
  if (r.status !== 0) {
    if (/apt-get|download|dpkg/i.test(r.stderr) && !/Traceback/.test(r.stderr)) return { skip: r.stderr.trim().split('\n').slice(-3).join(' ') };
    throw new Error(`build-corpus failed:\n${r.stderr}`);
  }
  return JSON.parse(readFileSync(path.join(out, 'corpus.json'), 'utf8')) as Corpus;
}

/** The marks tools leave beside or in their envs: lockfiles, a uv line, pyenv-virtualenv's symlink. */
export function markTools(home: string): void {
  writeFileSync(path.join(home, 'src', 'uvproj', 'uv.lock'), '');
  appendFileSync(path.join(home, 'src', 'uvproj', '.venv', 'pyvenv.cfg'), 'uv = 0.5.11\n');
  appendFileSync(path.join(home, '.local', 'share', 'uv', 'tools', 'ruff', 'pyvenv.cfg'), 'uv = 0.5.11\n');
  writeFileSync(path.join(home, 'src', 'pdmproj', 'pdm.lock'), '');
  symlinkSync(path.join(home, '.pyenv', 'versions', '3.12.1', 'envs', 'tools'), path.join(home, '.pyenv', 'versions', 'tools'));
}

/** The two interpreter installs of CPython 3.12, and uv's minor-version link to its own. */
export function makeInstalls(home: string): void {
  for (const p of STDLIB_INSTALLS) makeInstall(path.join(home, p), 12);
  symlinkSync('cpython-3.12.1-linux-x86_64-gnu', path.join(home, '.local', 'share', 'uv', 'python', 'cpython-3.12-linux-x86_64-gnu'));
}
