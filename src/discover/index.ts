/**
 * Discovery: every Python environment and interpreter install of a user.
 *
 *   discoverEnvironments(opts?: DiscoverOptions): Promise<DiscoveryResult>
 *     The tools' own places (one locator per tool, see locators/) plus the
 *     project-local envs (.venv, .tox/*, .nox/*, .pixi/envs/*, .hatch/*, any
 *     pyvenv.cfg) under the workspace roots (default: the home directory),
 *     `maxDepth` levels deep (default 6).
 *   environmentsUnder(root, opts?): Promise<DiscoveryResult>
 *     PATH-scan mode: only the environments at or under `root`.
 *   isEnvironment(dir, opts?): Promise<{ layout, python } | undefined>
 *   loadConfig(opts?): Promise<PycstoreConfig>        (config.ts: format, ECONFIG)
 *   makeDirFilter(ctx, { excludes, skipDirs }): DirFilter   (filter.ts)
 *     descend(dir) / accept(dir), for the dedup scanner's PATH scans;
 *     ctx = contextOf({ env, platform, home }).
 *
 *   DiscoverOptions = { env?, platform?, home?, workspaces?, excludes?,
 *                       maxDepth?, fs?, concurrency?, locators? }
 *     env/platform/home default to the running process's; every path rule
 *     reads them and nothing else, so any OS's layout can be computed anywhere.
 *   DiscoveryResult = { environments: DiscoveredEnv[], counts: {kind: n},
 *                       warnings: string[] }
 *   DiscoveredEnv = {
 *     kind:    'uv' | 'uv-tool' | 'uv-cache' | 'uv-python' | 'poetry' |
 *              'poetry-python' | 'pipx' | 'pipx-python' | 'pipenv' |
 *              'virtualenvwrapper' | 'pyenv-python' | 'pyenv-virtualenv' |
 *              'conda' | 'micromamba' | 'pixi' | 'hatch' | 'hatch-python' |
 *              'pdm' | 'pdm-python' | 'tox' | 'nox' | 'rye' | 'rye-python' |
 *              'venv' (plain) | 'python' (an install nobody claims),
 *     path:    real path (symlinks resolved; each environment once),
 *     layout:  'venv' (pyvenv.cfg) | 'conda' (conda-meta/) | 'python' (an install),
 *     python:  '3.11' or undefined,
 *     base:    a venv's base interpreter folder (pyvenv.cfg `home =`), else undefined,
 *     foundBy: how: 'POETRY_VIRTUALENVS_PATH', 'virtualenvs.path in <file>',
 *              'default on linux: …', 'workspace /home/u', '.venv file in /p', …,
 *     aliases: other paths leading to it (pyenv's versions/NAME, .venv pointers),
 *   }
 *   FsProbe = { readdir(dir) → {name, type}[], lstat(p) → type,
 *               readFile(p) → string, realpath(p) → string }  (probe.ts)
 */
import { nodeProbe, quiet, type FsProbe } from './probe.js';
import { pathOf } from './platform-dirs.js';
import { recogniseDir } from './recognise.js';
import type { EnvLayout, Platform } from './types.js';

export { discoverEnvironments, environmentsUnder, contextOf, DEFAULT_MAX_DEPTH, type DiscoverOptions, type DiscoveryResult } from './discover.js';
export { loadConfig, parseConfig, configPath, CONFIG_KEYS, type PycstoreConfig } from './config.js';
export { makeDirFilter, compileExcludes, SKIP_NAMES, homeSkips, type DirFilter } from './filter.js';
export { nodeProbe, type FsProbe, type DirEntry, type EntryType } from './probe.js';
export type { DiscoveredEnv, EnvKind, EnvLayout, Platform, PathContext, Candidate, Locator, ConfigFiles } from './types.js';
export { LOCATORS } from './locators/index.js';

/** Is `dir` itself an environment (venv, conda prefix, interpreter install)? */
export async function isEnvironment(
  dir: string,
  opts: { fs?: FsProbe; platform?: Platform } = {},
): Promise<{ layout: EnvLayout; python: string | undefined } | undefined> {
  const p = opts.platform ?? process.platform;
  const rec = await recogniseDir(quiet(opts.fs ?? nodeProbe), pathOf(p === 'win32' ? 'win32' : 'linux'), dir);
  return rec && { layout: rec.layout, python: rec.python };
}
