/**
 * pdm: named envs in `venv.location` (default platformdirs' user data dir
 * "pdm" + /venvs: ~/.local/share/pdm/venvs, ~/Library/Application
 * Support/pdm/venvs, %LOCALAPPDATA%\pdm\pdm\venvs), managed Pythons in
 * `python.install_root` (default `<data>/python`); both read from pdm's
 * global config.toml (PDM_CONFIG_FILE, else platformdirs' user config dir
 * "pdm"). In-project `.venv` (pdm's default) is the workspace walk's.
 */
import type { Candidate, Locator, PathContext } from '../types.js';
import { envVar, pathOf, pyDirs, resolveIn } from '../platform-dirs.js';
import { stringAt } from '../tool-config.js';
import { childrenOf } from './common.js';

export function pdmConfigFiles(ctx: PathContext): string[] {
  const set = envVar(ctx, 'PDM_CONFIG_FILE');
  if (set) return [resolveIn(ctx, set)];
  const P = pathOf(ctx.platform);
  return pyDirs(ctx, 'pdm', 'config').map((d) => P.join(d, 'config.toml'));
}

export const pdmLocator: Locator = {
  tool: 'pdm',
  configFiles: (ctx) => pdmConfigFiles(ctx).map((path) => ({ path, format: 'toml' as const })),
  locate(ctx, files) {
    const P = pathOf(ctx.platform);
    const out: Candidate[] = [];
    for (const f of pdmConfigFiles(ctx)) {
      const venvs = stringAt(files.get(f), 'venv.location');
      if (venvs) out.push(childrenOf(resolveIn(ctx, venvs), { venv: 'pdm' }, `venv.location in ${f}`));
      const pythons = stringAt(files.get(f), 'python.install_root');
      if (pythons) out.push(childrenOf(resolveIn(ctx, pythons), { python: 'pdm-python' }, `python.install_root in ${f}`));
    }
    for (const d of pyDirs(ctx, 'pdm', 'data')) {
      const via = `default on ${ctx.platform}: platformdirs user data dir "pdm"`;
      out.push(childrenOf(P.join(d, 'venvs'), { venv: 'pdm' }, via));
      out.push(childrenOf(P.join(d, 'python'), { python: 'pdm-python' }, via));
    }
    return out;
  },
};
