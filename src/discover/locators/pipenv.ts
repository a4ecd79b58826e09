/**
 * pipenv: WORKON_HOME, else `~\.virtualenvs` on Windows and
 * `$XDG_DATA_HOME/virtualenvs` (~/.local/share/virtualenvs) elsewhere.
 * Its env folders are `<project>-<8-character hash>`. In-project `.venv`
 * (a folder, or a file holding a name or path) is the workspace walk's.
 */
import type { EnvKind, Locator, PathContext } from '../types.js';
import { envVar, inHome, pathOf, resolveIn, xdgHome } from '../platform-dirs.js';
import { childrenOf } from './common.js';

/** pipenv names its envs `<name>-<first 8 chars of urlsafe-b64 sha256>`. */
export function looksLikePipenvName(name: string): boolean {
  return /^.+-[A-Za-z0-9_-]{8}$/.test(name);
}

/** WORKON_HOME holds both pipenv's and virtualenvwrapper's envs: tell them apart by name. */
export const workonKind = (name: string): EnvKind => (looksLikePipenvName(name) ? 'pipenv' : 'virtualenvwrapper');

export function pipenvHome(ctx: PathContext): string {
  if (ctx.platform === 'win32') return inHome(ctx, '.virtualenvs');
  return pathOf(ctx.platform).join(xdgHome(ctx, 'XDG_DATA_HOME'), 'virtualenvs');
}

export const pipenvLocator: Locator = {
  tool: 'pipenv',
  locate(ctx) {
    const workon = envVar(ctx, 'WORKON_HOME');
    const out = [];
    if (workon) out.push({ ...childrenOf(resolveIn(ctx, workon), { venv: 'pipenv' }, 'WORKON_HOME'), classify: workonKind });
    const rule = ctx.platform === 'win32' ? '~\\.virtualenvs' : '$XDG_DATA_HOME/virtualenvs or ~/.local/share/virtualenvs';
    const dflt = childrenOf(pipenvHome(ctx), { venv: 'pipenv' }, `default on ${ctx.platform}: ${rule}`);
    // On Windows that is virtualenvwrapper's ~\.virtualenvs too.
    out.push(ctx.platform === 'win32' ? { ...dflt, classify: workonKind } : dflt);
    return out;
  },
};
