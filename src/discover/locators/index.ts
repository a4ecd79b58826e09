/** Every locator, in the order their answers win when two find one environment. */
import type { Locator } from '../types.js';
import { condaLocator } from './conda.js';
import { hatchLocator } from './hatch.js';
import { noxLocator } from './nox.js';
import { pdmLocator } from './pdm.js';
import { pipenvLocator } from './pipenv.js';
import { pipxLocator } from './pipx.js';
import { pixiLocator } from './pixi.js';
import { poetryLocator } from './poetry.js';
import { pyenvLocator } from './pyenv.js';
import { ryeLocator } from './rye.js';
import { toxLocator } from './tox.js';
import { uvLocator } from './uv.js';
import { virtualenvwrapperLocator } from './virtualenvwrapper.js';

export const LOCATORS: readonly Locator[] = [
  uvLocator,
  poetryLocator,
  pipxLocator,
  pipenvLocator,
  virtualenvwrapperLocator,
  pyenvLocator,
  pixiLocator,
  condaLocator,
  hatchLocator,
  pdmLocator,
  toxLocator,
  noxLocator,
  ryeLocator,
];
