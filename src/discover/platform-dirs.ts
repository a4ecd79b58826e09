/**
 * Per-OS directory rules, computed from an injected {env, platform, home}
 * (never from the running machine), with the path flavour of that platform:
 * - `pyDirs`: Python's platformdirs, which poetry, pipx, pdm, hatch and conda use;
 * - `xdgHome`: the XDG rule uv and pipenv use on every POSIX system;
 * - `envPathsConfig`: Node's env-paths rule, for pycstore's own config file.
 * Rules that changed over a tool's history return every place it used: for
 * discovery a place too many costs one failed readdir, a place too few loses envs.
 */
import path from 'node:path';
import type { PathContext, Platform } from './types.js';

export function pathOf(platform: Platform): path.PlatformPath {
  return platform === 'win32' ? path.win32 : path.posix;
}

/** A variable's value when set and not blank. */
export function envVar(ctx: PathContext, name: string): string | undefined {
  const v = ctx.env[name];
  return v !== undefined && v.trim() !== '' ? v : undefined;
}

export function inHome(ctx: PathContext, ...parts: string[]): string {
  return pathOf(ctx.platform).join(ctx.home, ...parts);
}

/** `~` and `~/x` (and `~\x` on Windows) to the home directory; `$VAR` and `${VAR}` from env; else unchanged. */
export function expandUser(ctx: PathContext, p: string): string {
  const expanded = p.replace(/\$\{(\w+)\}|\$(\w+)/g, (m, a: string | undefined, b: string | undefined) => ctx.env[(a ?? b)!] ?? m);
  if (expanded === '~') return ctx.home;
  if (expanded.startsWith('~/') || (ctx.platform === 'win32' && expanded.startsWith('~\\'))) return inHome(ctx, expanded.slice(2));
  return expanded;
}

/** An absolute path from a variable or config value, relative ones taken from `base` (default: home). */
export function resolveIn(ctx: PathContext, p: string, base = ctx.home): string {
  const P = pathOf(ctx.platform);
  return P.resolve(base, expandUser(ctx, p));
}

/** `$NAME` if set, else `~/<fallback>`: XDG_DATA_HOME, XDG_CACHE_HOME, XDG_CONFIG_HOME. */
export function xdgHome(ctx: PathContext, name: 'XDG_DATA_HOME' | 'XDG_CACHE_HOME' | 'XDG_CONFIG_HOME'): string {
  const set = envVar(ctx, name);
  if (set) return resolveIn(ctx, set);
  return inHome(ctx, ...{ XDG_DATA_HOME: ['.local', 'share'], XDG_CACHE_HOME: ['.cache'], XDG_CONFIG_HOME: ['.config'] }[name]);
}

export function localAppData(ctx: PathContext): string {
  const v = envVar(ctx, 'LOCALAPPDATA');
  return v ? resolveIn(ctx, v) : inHome(ctx, 'AppData', 'Local');
}

export function roamingAppData(ctx: PathContext): string {
  const v = envVar(ctx, 'APPDATA');
  return v ? resolveIn(ctx, v) : inHome(ctx, 'AppData', 'Roaming');
}

export interface PyDirsOptions {
  /** platformdirs' appauthor: false = none; undefined = the app name again (Windows only). */
  readonly appauthor?: string | false;
  /** Windows: %APPDATA% instead of %LOCALAPPDATA% for data and config. */
  readonly roaming?: boolean;
}

/**
 * platformdirs' user_data_dir / user_config_dir / user_cache_dir, every
 * version: on macOS the XDG variables win when set (platformdirs 4.x), and the
 * config dir was ~/Library/Preferences in platformdirs 2.x.
 */
export function pyDirs(ctx: PathContext, app: string, which: 'data' | 'config' | 'cache', opts: PyDirsOptions = {}): string[] {
  const P = pathOf(ctx.platform);
  const xdgName = ({ data: 'XDG_DATA_HOME', config: 'XDG_CONFIG_HOME', cache: 'XDG_CACHE_HOME' } as const)[which];
  if (ctx.platform === 'linux') return [P.join(xdgHome(ctx, xdgName), app)];
  if (ctx.platform === 'darwin') {
    const xdg = envVar(ctx, xdgName);
    const out = xdg ? [P.join(resolveIn(ctx, xdg), app)] : [];
    if (which === 'cache') out.push(inHome(ctx, 'Library', 'Caches', app));
    else out.push(inHome(ctx, 'Library', 'Application Support', app));
    if (which === 'config') out.push(inHome(ctx, 'Library', 'Preferences', app));
    return out;
  }
  const base = which !== 'cache' && opts.roaming ? roamingAppData(ctx) : localAppData(ctx);
  const author = opts.appauthor === false ? [] : [opts.appauthor ?? app];
  return [P.join(base, ...author, app, ...(which === 'cache' ? ['Cache'] : []))];
}

/** env-paths' config dir for `app` with suffix '' (what pycstore uses for its own config). */
export function envPathsConfig(ctx: PathContext, app: string): string {
  const P = pathOf(ctx.platform);
  if (ctx.platform === 'darwin') return inHome(ctx, 'Library', 'Preferences', app);
  if (ctx.platform === 'win32') return P.join(roamingAppData(ctx), app, 'Config');
  return P.join(xdgHome(ctx, 'XDG_CONFIG_HOME'), app);
}

/** A PATH-like list variable split with the platform's delimiter, blanks dropped. */
export function splitList(ctx: PathContext, value: string | undefined): string[] {
  if (!value) return [];
  return value.split(pathOf(ctx.platform).delimiter).map((s) => s.trim()).filter((s) => s !== '');
}
