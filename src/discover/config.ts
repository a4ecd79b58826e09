/**
 * pycstore's config file: TOML at `<user config dir>/pycstore/config.toml`
 * (env-paths' rule: $XDG_CONFIG_HOME/pycstore, else ~/.config/pycstore on
 * Linux; ~/Library/Preferences/pycstore on macOS; %APPDATA%\pycstore\Config on
 * Windows), or wherever PYCSTORE_CONFIG says. Missing = defaults.
 *
 *     # which folders hold your projects (project-local .venv, .tox, .nox, .pixi)
 *     workspaces = ["~/src", "~/work"]   # default: ["~"]
 *     exclude = ["**\/scratch/**"]      # globs on absolute paths, ~/ expanded
 *     max-depth = 6                      # levels below each workspace root
 *     discover = true                    # false: a bare `pycstore dedup` does only the registered roots
 *
 * Unknown keys and wrong types are refused (ECONFIG), naming the file and key.
 */
import { parse as parseToml, TomlError } from 'smol-toml';
import { PycstoreError, errnoCode } from '../errors.js';
import { DEFAULT_MAX_DEPTH, contextOf, type DiscoverOptions } from './discover.js';
import { envPathsConfig, envVar, expandUser, pathOf } from './platform-dirs.js';
import { nodeProbe } from './probe.js';
import type { PathContext } from './types.js';

export interface PycstoreConfig {
  /** The file read, or that would be read. */
  readonly file: string;
  readonly exists: boolean;
  readonly discover: boolean;
  /** Absolute. */
  readonly workspaces: string[];
  /** As written, `~/` expanded (compileExcludes expands again harmlessly). */
  readonly exclude: string[];
  readonly maxDepth: number;
}

export const CONFIG_KEYS = ['workspaces', 'exclude', 'max-depth', 'discover'] as const;

export function configPath(ctx: PathContext): string {
  const set = envVar(ctx, 'PYCSTORE_CONFIG');
  const P = pathOf(ctx.platform);
  return set ? P.resolve(ctx.home, expandUser(ctx, set)) : P.join(envPathsConfig(ctx, 'pycstore'), 'config.toml');
}

export function defaultConfig(ctx: PathContext, file: string): PycstoreConfig {
  return { file, exists: false, discover: true, workspaces: [ctx.home], exclude: [], maxDepth: DEFAULT_MAX_DEPTH };
}

function bad(file: string, message: string): PycstoreError {
  return new PycstoreError('ECONFIG', `${file}: ${message}`, {
    hint: `fix or remove it; known keys: ${CONFIG_KEYS.join(', ')} (see README, "Finding environments")`,
    data: { file },
  });
}

function stringList(file: string, key: string, v: unknown): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x.trim() === '')) throw bad(file, `"${key}" must be a list of non-empty strings`);
  return v as string[];
}

/** Pure: the config from the file's text. */
export function parseConfig(ctx: PathContext, file: string, text: string): PycstoreConfig {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text);
  } catch (err) {
    const where = err instanceof TomlError ? ` at line ${err.line}, column ${err.column}` : '';
    throw bad(file, `not valid TOML${where}: ${(err as Error).message.split('\n')[0]}`);
  }
  const P = pathOf(ctx.platform);
  const cfg = { ...defaultConfig(ctx, file), exists: true };
  for (const [key, v] of Object.entries(doc)) {
    if (key === 'workspaces') cfg.workspaces = stringList(file, key, v).map((w) => P.resolve(ctx.home, expandUser(ctx, w)));
    else if (key === 'exclude') cfg.exclude = stringList(file, key, v).map((g) => (g.startsWith('~/') ? expandUser(ctx, g) : g));
    else if (key === 'max-depth') {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw bad(file, `"max-depth" must be a whole number ≥ 0`);
      cfg.maxDepth = v;
    } else if (key === 'discover') {
      if (typeof v !== 'boolean') throw bad(file, `"discover" must be true or false`);
      cfg.discover = v;
    } else throw bad(file, `unknown key "${key}"`);
  }
  return cfg;
}

/** Read the config file (PYCSTORE_CONFIG must name one that exists; the default may be absent). */
export async function loadConfig(opts: Pick<DiscoverOptions, 'env' | 'platform' | 'home' | 'fs'> = {}): Promise<PycstoreConfig> {
  const ctx = contextOf(opts);
  const file = configPath(ctx);
  let text: string;
  try {
    text = await (opts.fs ?? nodeProbe).readFile(file);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' && envVar(ctx, 'PYCSTORE_CONFIG') === undefined) return defaultConfig(ctx, file);
    throw bad(file, code === 'ENOENT' ? 'not found (named by PYCSTORE_CONFIG)' : `cannot read: ${code ?? String(err)}`);
  }
  return parseConfig(ctx, file, text);
}
