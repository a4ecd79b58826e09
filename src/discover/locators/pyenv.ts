/**
 * pyenv and pyenv-virtualenv: interpreters in $PYENV_ROOT/versions/<ver>
 * (PYENV_ROOT defaults to ~/.pyenv), virtualenvs in
 * versions/<ver>/envs/<name> with a symlink versions/<name> to each (the
 * symlink resolves to the same real path, so each env is listed once), and
 * pyenv-win's ~\.pyenv\pyenv-win\versions on Windows.
 */
import type { Candidate, Locator, PathContext } from '../types.js';
import { envVar, inHome, pathOf, resolveIn } from '../platform-dirs.js';

export function pyenvRoots(ctx: PathContext): { dir: string; via: string }[] {
  const set = envVar(ctx, 'PYENV_ROOT');
  if (set) return [{ dir: resolveIn(ctx, set), via: 'PYENV_ROOT' }];
  const out = [{ dir: inHome(ctx, '.pyenv'), via: 'default: ~/.pyenv' }];
  if (ctx.platform === 'win32') out.push({ dir: inHome(ctx, '.pyenv', 'pyenv-win'), via: 'pyenv-win default: ~\\.pyenv\\pyenv-win' });
  return out;
}

export const pyenvLocator: Locator = {
  tool: 'pyenv',
  locate(ctx) {
    const P = pathOf(ctx.platform);
    const out: Candidate[] = [];
    for (const r of pyenvRoots(ctx)) {
      const versions = P.join(r.dir, 'versions');
      out.push({ dir: versions, pattern: ['*', 'envs', '*'], kinds: { venv: 'pyenv-virtualenv', conda: 'conda' }, via: r.via });
      out.push({ dir: versions, pattern: ['*'], kinds: { python: 'pyenv-python', venv: 'pyenv-virtualenv', conda: 'conda' }, via: r.via });
    }
    return out;
  },
};
