/**
 * poetry: `virtualenvs.path` (default `{cache-dir}/virtualenvs`), moved by
 * POETRY_VIRTUALENVS_PATH or config.toml; `cache-dir` by POETRY_CACHE_DIR or
 * config.toml; managed Pythons in `python.installation-dir` (default
 * `{data-dir}/python`, POETRY_PYTHON_INSTALLATION_DIR, data-dir from
 * POETRY_DATA_DIR / POETRY_HOME). config.toml is in POETRY_CONFIG_DIR, else
 * platformdirs' user config dir "pypoetry" (roaming). In-project `.venv` is
 * the workspace walk's (next to poetry.lock). The configured place and the
 * default are both searched: envs made before a change of setting stay there.
 */
import type { Candidate, ConfigFiles, Locator, PathContext } from '../types.js';
import { envVar, pathOf, pyDirs, resolveIn } from '../platform-dirs.js';
import { stringAt } from '../tool-config.js';
import { childrenOf } from './common.js';

export function poetryConfigFiles(ctx: PathContext): string[] {
  const P = pathOf(ctx.platform);
  const dir = envVar(ctx, 'POETRY_CONFIG_DIR');
  const dirs = dir ? [resolveIn(ctx, dir)] : pyDirs(ctx, 'pypoetry', 'config', { appauthor: false, roaming: true });
  return dirs.map((d) => P.join(d, 'config.toml'));
}

interface Setting {
  readonly value: string;
  readonly via: string;
}

/** A setting from its variable, else from the first config file holding it. */
function setting(ctx: PathContext, files: ConfigFiles, variable: string, key: string): Setting | undefined {
  const v = envVar(ctx, variable);
  if (v) return { value: v, via: variable };
  for (const f of poetryConfigFiles(ctx)) {
    const s = stringAt(files.get(f), key);
    if (s) return { value: s, via: `${key} in ${f}` };
  }
  return undefined;
}

function expand(ctx: PathContext, value: string, vars: Record<string, string>): string {
  return resolveIn(ctx, value.replace(/\{(cache-dir|data-dir)\}/g, (m, k: string) => vars[k] ?? m));
}

export const poetryLocator: Locator = {
  tool: 'poetry',
  configFiles: (ctx) => poetryConfigFiles(ctx).map((path) => ({ path, format: 'toml' as const })),
  locate(ctx, files) {
    const P = pathOf(ctx.platform);
    const out: Candidate[] = [];
    const defaultCaches = pyDirs(ctx, 'pypoetry', 'cache', { appauthor: false });
    const cacheSet = setting(ctx, files, 'POETRY_CACHE_DIR', 'cache-dir');
    const cacheDir = cacheSet ? resolveIn(ctx, cacheSet.value) : defaultCaches[0]!;
    const home = envVar(ctx, 'POETRY_HOME');
    const dataSet = setting(ctx, files, 'POETRY_DATA_DIR', 'data-dir');
    const dataDefault = home ? resolveIn(ctx, home) : pyDirs(ctx, 'pypoetry', 'data', { appauthor: false, roaming: true })[0]!;
    const dataDir = dataSet ? resolveIn(ctx, dataSet.value) : dataDefault;
    const vars = { 'cache-dir': cacheDir, 'data-dir': dataDir };

    const venvs = setting(ctx, files, 'POETRY_VIRTUALENVS_PATH', 'virtualenvs.path');
    if (venvs) out.push(childrenOf(expand(ctx, venvs.value, vars), { venv: 'poetry' }, venvs.via));
    if (cacheSet) out.push(childrenOf(P.join(cacheDir, 'virtualenvs'), { venv: 'poetry' }, cacheSet.via));
    for (const c of defaultCaches) out.push(childrenOf(P.join(c, 'virtualenvs'), { venv: 'poetry' }, `default on ${ctx.platform}: {cache-dir}/virtualenvs`));

    const pythons = setting(ctx, files, 'POETRY_PYTHON_INSTALLATION_DIR', 'python.installation-dir');
    if (pythons) out.push(childrenOf(expand(ctx, pythons.value, vars), { python: 'poetry-python' }, pythons.via));
    if (dataSet) out.push(childrenOf(P.join(dataDir, 'python'), { python: 'poetry-python' }, dataSet.via));
    out.push(childrenOf(P.join(dataDefault, 'python'), { python: 'poetry-python' }, home ? 'POETRY_HOME' : `default on ${ctx.platform}: {data-dir}/python`));
    return out;
  },
};
