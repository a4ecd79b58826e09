/**
 * tox: `<tox_root>/.tox/<env>` (and `.tox/.pkg`), found by the workspace walk
 * under a folder named `.tox`; TOX_WORK_DIR moves the work dir as a whole.
 */
import type { Locator } from '../types.js';
import { envVar, resolveIn } from '../platform-dirs.js';
import { childrenOf } from './common.js';

export const TOX_DIR = '.tox';

export const toxLocator: Locator = {
  tool: 'tox',
  locate(ctx) {
    const set = envVar(ctx, 'TOX_WORK_DIR');
    return set ? [childrenOf(resolveIn(ctx, set), { venv: 'tox' }, 'TOX_WORK_DIR')] : [];
  },
};
