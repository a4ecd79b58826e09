/** virtualenvwrapper: WORKON_HOME, else ~/.virtualenvs, on every OS. */
import type { Locator } from '../types.js';
import { envVar, inHome, resolveIn } from '../platform-dirs.js';
import { childrenOf } from './common.js';
import { workonKind } from './pipenv.js';

export const virtualenvwrapperLocator: Locator = {
  tool: 'virtualenvwrapper',
  locate(ctx) {
    const workon = envVar(ctx, 'WORKON_HOME');
    const out = [];
    if (workon) out.push({ ...childrenOf(resolveIn(ctx, workon), { venv: 'virtualenvwrapper' }, 'WORKON_HOME'), classify: workonKind });
    const dflt = childrenOf(inHome(ctx, '.virtualenvs'), { venv: 'virtualenvwrapper' }, 'default: ~/.virtualenvs');
    // On Windows that is pipenv's default too.
    out.push(ctx.platform === 'win32' ? { ...dflt, classify: workonKind } : dflt);
    return out;
  },
};
