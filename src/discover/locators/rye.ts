/**
 * rye: RYE_HOME (default ~/.rye, %USERPROFILE%\.rye on Windows) holds the
 * toolchains in `py/<name>` and tool venvs in `tools/<name>`. Project `.venv`s
 * (next to requirements.lock, or holding rye-venv.json) are the workspace walk's.
 */
import type { Locator, PathContext } from '../types.js';
import { envVar, inHome, pathOf, resolveIn } from '../platform-dirs.js';
import { childrenOf } from './common.js';

export function ryeHome(ctx: PathContext): { dir: string; via: string } {
  const set = envVar(ctx, 'RYE_HOME');
  return set ? { dir: resolveIn(ctx, set), via: 'RYE_HOME' } : { dir: inHome(ctx, '.rye'), via: 'default: ~/.rye' };
}

export const ryeLocator: Locator = {
  tool: 'rye',
  locate(ctx) {
    const P = pathOf(ctx.platform);
    const h = ryeHome(ctx);
    return [childrenOf(P.join(h.dir, 'py'), { python: 'rye-python' }, h.via), childrenOf(P.join(h.dir, 'tools'), { venv: 'rye' }, h.via)];
  },
};
