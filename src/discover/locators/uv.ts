/**
 * uv: tool envs (`uv tool`), cache envs (uvx, scripts, centralized project
 * envs in `environments-v2`), managed Pythons, and UV_PROJECT_ENVIRONMENT when
 * absolute (a relative one sits in a project and the workspace walk finds it).
 * Directories: the XDG strategy on every POSIX system (XDG_DATA_HOME /
 * XDG_CACHE_HOME, else ~/.local/share/uv and ~/.cache/uv), plus the legacy
 * ~/Library/Application Support/uv (and ~/Library/Caches/uv) on macOS; on
 * Windows %APPDATA%\uv (legacy %APPDATA%\uv\data) and %LOCALAPPDATA%\uv\cache.
 * uv.toml (`cache-dir`, `tool-dir`, `python-install-dir`) is read too.
 */
import type { Candidate, ConfigFileRequest, ConfigFiles, Locator, PathContext } from '../types.js';
import { envVar, inHome, localAppData, pathOf, resolveIn, roamingAppData, xdgHome } from '../platform-dirs.js';
import { stringAt } from '../tool-config.js';
import { childrenOf, itself } from './common.js';

interface UvDirs {
  readonly data: { dir: string; via: string }[];
  readonly cache: { dir: string; via: string }[];
}

export function uvDirs(ctx: PathContext): UvDirs {
  const P = pathOf(ctx.platform);
  if (ctx.platform === 'win32') {
    return {
      data: [
        { dir: P.join(roamingAppData(ctx), 'uv'), via: 'default on win32: %APPDATA%\\uv' },
        { dir: P.join(roamingAppData(ctx), 'uv', 'data'), via: 'legacy on win32: %APPDATA%\\uv\\data' },
      ],
      cache: [
        { dir: P.join(localAppData(ctx), 'uv', 'cache'), via: 'default on win32: %LOCALAPPDATA%\\uv\\cache' },
        { dir: P.join(localAppData(ctx), 'uv'), via: 'default on win32: %LOCALAPPDATA%\\uv' },
      ],
    };
  }
  const out: UvDirs = {
    data: [{ dir: P.join(xdgHome(ctx, 'XDG_DATA_HOME'), 'uv'), via: `default on ${ctx.platform}: $XDG_DATA_HOME/uv or ~/.local/share/uv` }],
    cache: [{ dir: P.join(xdgHome(ctx, 'XDG_CACHE_HOME'), 'uv'), via: `default on ${ctx.platform}: $XDG_CACHE_HOME/uv or ~/.cache/uv` }],
  };
  if (ctx.platform === 'darwin') {
    out.data.push({ dir: inHome(ctx, 'Library', 'Application Support', 'uv'), via: 'legacy on darwin: ~/Library/Application Support/uv' });
    out.cache.push({ dir: inHome(ctx, 'Library', 'Caches', 'uv'), via: 'legacy on darwin: ~/Library/Caches/uv' });
  }
  return out;
}

function uvTomlPath(ctx: PathContext): string {
  const P = pathOf(ctx.platform);
  if (ctx.platform === 'win32') return P.join(roamingAppData(ctx), 'uv', 'uv.toml');
  return P.join(xdgHome(ctx, 'XDG_CONFIG_HOME'), 'uv', 'uv.toml');
}

/** The uv cache directories: UV_CACHE_DIR, uv.toml's cache-dir, the defaults. */
export function uvCacheDirs(ctx: PathContext, files: ConfigFiles): { dir: string; via: string }[] {
  const out: { dir: string; via: string }[] = [];
  const env = envVar(ctx, 'UV_CACHE_DIR');
  if (env) out.push({ dir: resolveIn(ctx, env), via: 'UV_CACHE_DIR' });
  const toml = uvTomlPath(ctx);
  const set = stringAt(files.get(toml), 'cache-dir');
  if (set) out.push({ dir: resolveIn(ctx, set), via: `cache-dir in ${toml}` });
  return [...out, ...uvDirs(ctx).cache];
}

export const uvLocator: Locator = {
  tool: 'uv',
  configFiles: (ctx): ConfigFileRequest[] => [{ path: uvTomlPath(ctx), format: 'toml' }],
  locate(ctx, files) {
    const P = pathOf(ctx.platform);
    const toml = files.get(uvTomlPath(ctx));
    const out: Candidate[] = [];
    const project = envVar(ctx, 'UV_PROJECT_ENVIRONMENT');
    if (project && P.isAbsolute(project)) out.push(itself(project, { venv: 'uv' }, 'UV_PROJECT_ENVIRONMENT'));
    const toolEnv = envVar(ctx, 'UV_TOOL_DIR');
    if (toolEnv) out.push(childrenOf(resolveIn(ctx, toolEnv), { venv: 'uv-tool' }, 'UV_TOOL_DIR'));
    const toolSet = stringAt(toml, 'tool-dir');
    if (toolSet) out.push(childrenOf(resolveIn(ctx, toolSet), { venv: 'uv-tool' }, `tool-dir in ${uvTomlPath(ctx)}`));
    const pyEnv = envVar(ctx, 'UV_PYTHON_INSTALL_DIR');
    if (pyEnv) out.push(childrenOf(resolveIn(ctx, pyEnv), { python: 'uv-python' }, 'UV_PYTHON_INSTALL_DIR'));
    const pySet = stringAt(toml, 'python-install-dir');
    if (pySet) out.push(childrenOf(resolveIn(ctx, pySet), { python: 'uv-python' }, `python-install-dir in ${uvTomlPath(ctx)}`));
    for (const d of uvDirs(ctx).data) {
      out.push(childrenOf(P.join(d.dir, 'tools'), { venv: 'uv-tool' }, d.via));
      out.push(childrenOf(P.join(d.dir, 'python'), { python: 'uv-python' }, d.via));
    }
    for (const c of uvCacheDirs(ctx, files)) out.push(childrenOf(P.join(c.dir, 'environments-v2'), { venv: 'uv-cache' }, c.via));
    return out;
  },
};
