/**
 * Which folders discovery (and the dedup scanner's PATH scans) go into.
 *
 * Never entered, wherever they are (SKIP_NAMES): VCS folders, node_modules,
 * Python caches and package folders (site-packages: a venv's insides, never
 * another env's home), tool caches. Never entered under the home directory
 * (homeSkips): caches and trash that hold no environments of their own — the
 * uv and poetry envs inside ~/.cache are reached by their locators instead.
 *
 * `--exclude GLOB` (and `exclude` in the config file): picomatch globs matched
 * against absolute paths, `~/` expanded to the home directory; a glob that
 * starts with neither `/`, `~`, `**` nor a drive letter matches at any depth
 * (`scratch` = `**\/scratch`). A folder a glob matches is neither entered nor
 * accepted as an environment, and `dir/**` matches `dir` itself.
 */
import picomatch from 'picomatch';
import { inHome, localAppData, pathOf, xdgHome } from './platform-dirs.js';
import type { PathContext } from './types.js';

export const SKIP_NAMES: ReadonlySet<string> = new Set([
  '.git', '.hg', '.svn', '.bzr', '_darcs', '.jj',
  'node_modules', 'bower_components',
  '__pycache__', 'site-packages', 'dist-packages',
  '.mypy_cache', '.pytest_cache', '.ruff_cache', '.hypothesis', '.ipynb_checkpoints', '.pytype',
  '.Trash', '.Trashes', '$RECYCLE.BIN',
]);

/** Folders under the home directory that are caches or trash, not environment homes. */
export function homeSkips(ctx: PathContext): string[] {
  const P = pathOf(ctx.platform);
  const out = [inHome(ctx, '.cache'), inHome(ctx, '.npm'), inHome(ctx, '.cargo'), inHome(ctx, '.rustup')];
  if (ctx.platform === 'win32') out.push(P.join(localAppData(ctx), 'Temp'), P.join(localAppData(ctx), 'pip', 'Cache'));
  else out.push(xdgHome(ctx, 'XDG_CACHE_HOME'), P.join(xdgHome(ctx, 'XDG_DATA_HOME'), 'Trash'));
  if (ctx.platform === 'darwin') out.push(inHome(ctx, 'Library', 'Caches'));
  return [...new Set(out)];
}

function normalise(ctx: PathContext, p: string): string {
  return ctx.platform === 'win32' ? p.replace(/\\/g, '/') : p;
}

/** "Is this absolute path excluded?" for a list of globs. */
export function compileExcludes(globs: readonly string[], ctx: PathContext): (p: string) => boolean {
  if (globs.length === 0) return () => false;
  const win = ctx.platform === 'win32';
  const patterns = globs.map((g) => {
    let glob = g.trim();
    if (glob === '~' || glob.startsWith('~/') || glob.startsWith('~\\')) glob = normalise(ctx, ctx.home) + glob.slice(1).replace(/\\/g, '/');
    else glob = normalise(ctx, glob);
    if (!glob.startsWith('/') && !glob.startsWith('**') && !/^[A-Za-z]:/.test(glob)) glob = `**/${glob}`;
    return glob;
  });
  const isMatch = picomatch(patterns, { dot: true, nocase: win, windows: false });
  return (p) => isMatch(normalise(ctx, p));
}

export interface DirFilter {
  /** Go into this folder (under the root being walked; the root itself is always entered)? */
  descend(dir: string): boolean;
  /** Take this folder as an environment? */
  accept(dir: string): boolean;
}

export interface DirFilterOptions {
  readonly excludes?: readonly string[];
  /** Folders covered otherwise (the locators' places): not entered. */
  readonly skipDirs?: Iterable<string>;
}

/** The rule discovery uses, for the dedup scanner to apply to PATH scans too. */
export function makeDirFilter(ctx: PathContext, opts: DirFilterOptions = {}): DirFilter {
  const P = pathOf(ctx.platform);
  const excluded = compileExcludes(opts.excludes ?? [], ctx);
  const key = (d: string): string => (ctx.platform === 'win32' ? d.toLowerCase() : d);
  const skip = new Set([...homeSkips(ctx), ...(opts.skipDirs ?? [])].map((d) => key(P.resolve(d))));
  return {
    descend: (dir) => !SKIP_NAMES.has(P.basename(dir)) && !skip.has(key(dir)) && !excluded(dir),
    accept: (dir) => !excluded(dir),
  };
}
