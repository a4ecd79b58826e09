/**
 * The shapes discovery works with. See index.ts for the public API.
 */

/** What made an environment, or what kind of interpreter install it is. */
export type EnvKind =
  | 'uv' // a uv project env (.venv with `uv =` in pyvenv.cfg, or next to uv.lock; UV_PROJECT_ENVIRONMENT)
  | 'uv-tool' // `uv tool install`
  | 'uv-cache' // uvx / script / centralized project envs in the uv cache (environments-v2)
  | 'uv-python' // a uv-managed interpreter
  | 'poetry'
  | 'poetry-python'
  | 'pipx'
  | 'pipx-python'
  | 'pipenv'
  | 'virtualenvwrapper'
  | 'pyenv-python'
  | 'pyenv-virtualenv'
  | 'conda'
  | 'micromamba'
  | 'pixi'
  | 'hatch'
  | 'hatch-python'
  | 'pdm'
  | 'pdm-python'
  | 'tox'
  | 'nox'
  | 'rye'
  | 'rye-python'
  | 'venv' // a plain PEP 405 venv nobody claims
  | 'python'; // an interpreter install nobody claims

/** What an environment is on disk. */
export type EnvLayout = 'venv' | 'conda' | 'python';

export type Platform = 'linux' | 'darwin' | 'win32';

/** The inputs every path rule takes; nothing is read from the running machine. */
export interface PathContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly platform: Platform;
  readonly home: string;
}

/** One tool config file a locator wants read, and how to parse it. */
export interface ConfigFileRequest {
  readonly path: string;
  readonly format: 'toml' | 'yaml' | 'lines';
}

/** Parsed tool config files by path (absent: missing, unreadable or unparsable). */
export type ConfigFiles = ReadonlyMap<string, unknown>;

/**
 * A place a locator says environments may be. `pattern` is the path below
 * `dir` where they sit: [] = `dir` itself, ['*'] = each child of `dir`,
 * ['*', 'envs', '*'] = pyenv-virtualenv's `versions/X/envs/NAME`. Symlinks are
 * followed at the last level only (pyenv's `versions/NAME`, uv's minor-version
 * links); `kinds` names what each layout found there is.
 */
export interface Candidate {
  readonly dir: string;
  readonly pattern: readonly string[];
  readonly kinds: Partial<Record<EnvLayout, EnvKind>>;
  /** How this place was derived: a variable, a config key, or the tool's default. */
  readonly via: string;
  /** For WORKON_HOME, shared by pipenv and virtualenvwrapper: kind from the env's folder name. */
  readonly classify?: (name: string) => EnvKind;
}

export interface Locator {
  readonly tool: string;
  /** Config files of the tool that move its environments (read before `locate`). */
  configFiles?(ctx: PathContext): ConfigFileRequest[];
  /** Pure: the places, from the context and the parsed config files. */
  locate(ctx: PathContext, files: ConfigFiles): Candidate[];
}

/** One environment found. */
export interface DiscoveredEnv {
  readonly kind: EnvKind;
  /** Real path (symlinks resolved): each environment is listed once. */
  readonly path: string;
  readonly layout: EnvLayout;
  /** "3.11" when known (pyvenv.cfg, conda-meta/python-*.json, lib/python3.X). */
  readonly python: string | undefined;
  /** A venv's base interpreter folder (pyvenv.cfg `home =`); undefined for the other layouts. */
  readonly base: string | undefined;
  /** How it was found: the locator's derivation or the workspace walk. */
  readonly foundBy: string;
  /** Other paths that lead to it (symlinks, `.venv` files), sorted. */
  readonly aliases: readonly string[];
}
