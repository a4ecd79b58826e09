/**
 * nox: `<project>/.nox/<session>`, found by the workspace walk under a folder
 * named `.nox` (nox's `--envdir` has no variable or config file to read).
 */
import type { Locator } from '../types.js';

export const NOX_DIR = '.nox';

export const noxLocator: Locator = {
  tool: 'nox',
  locate: () => [],
};
