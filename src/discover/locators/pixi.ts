/**
 * pixi: project envs `<project>/.pixi/envs/<name>` (the workspace walk's;
 * `conda-meta/pixi` marks them), global envs `$PIXI_HOME/envs/*` (PIXI_HOME
 * defaults to ~/.pixi), and detached envs when `detached-environments` is set
 * in a pixi config.toml: `= "/path"` puts them in `/path/<project>-<hash>/envs/*`,
 * `= true` in `<pixi cache>/envs/<project>-<hash>/envs/*`, the cache being
 * PIXI_CACHE_DIR, RATTLER_CACHE_DIR, $XDG_CACHE_HOME/pixi or rattler's
 * `<user cache>/rattler/cache`.
 */
import type { Candidate, Locator, PathContext } from '../types.js';
import { envVar, inHome, localAppData, pathOf, resolveIn, roamingAppData, xdgHome } from '../platform-dirs.js';
import { lookup } from '../tool-config.js';
import { childrenOf } from './common.js';

export function pixiHome(ctx: PathContext): { dir: string; via: string } {
  const set = envVar(ctx, 'PIXI_HOME');
  return set ? { dir: resolveIn(ctx, set), via: 'PIXI_HOME' } : { dir: inHome(ctx, '.pixi'), via: 'default: ~/.pixi' };
}

export function pixiConfigFiles(ctx: PathContext): string[] {
  const P = pathOf(ctx.platform);
  const files = [P.join(pixiHome(ctx).dir, 'config.toml'), inHome(ctx, '.pixi', 'config.toml')];
  if (ctx.platform === 'win32') files.push(P.join(roamingAppData(ctx), 'pixi', 'config.toml'));
  else files.push(P.join(xdgHome(ctx, 'XDG_CONFIG_HOME'), 'pixi', 'config.toml'));
  if (ctx.platform === 'darwin') files.push(inHome(ctx, 'Library', 'Application Support', 'pixi', 'config.toml'));
  const set = envVar(ctx, 'PIXI_CONFIG_FILE');
  if (set) files.push(resolveIn(ctx, set));
  return [...new Set(files)];
}

export function pixiCacheDirs(ctx: PathContext): string[] {
  const P = pathOf(ctx.platform);
  const out: string[] = [];
  for (const v of ['PIXI_CACHE_DIR', 'RATTLER_CACHE_DIR']) {
    const set = envVar(ctx, v);
    if (set) out.push(resolveIn(ctx, set));
  }
  if (ctx.platform === 'win32') out.push(P.join(localAppData(ctx), 'rattler', 'cache'));
  else {
    out.push(P.join(xdgHome(ctx, 'XDG_CACHE_HOME'), 'pixi'));
    out.push(ctx.platform === 'darwin' ? inHome(ctx, 'Library', 'Caches', 'rattler', 'cache') : P.join(xdgHome(ctx, 'XDG_CACHE_HOME'), 'rattler', 'cache'));
  }
  return out;
}

export const pixiLocator: Locator = {
  tool: 'pixi',
  configFiles: (ctx) => pixiConfigFiles(ctx).map((path) => ({ path, format: 'toml' as const })),
  locate(ctx, files) {
    const P = pathOf(ctx.platform);
    const home = pixiHome(ctx);
    const out: Candidate[] = [childrenOf(P.join(home.dir, 'envs'), { conda: 'pixi' }, home.via)];
    const detached = (dir: string, via: string): Candidate => ({ dir, pattern: ['*', 'envs', '*'], kinds: { conda: 'pixi' }, via });
    for (const f of pixiConfigFiles(ctx)) {
      const v = lookup(files.get(f), 'detached-environments');
      const via = `detached-environments in ${f}`;
      if (typeof v === 'string' && v.trim() !== '') out.push(detached(resolveIn(ctx, v), via));
      else if (v === true) for (const c of pixiCacheDirs(ctx)) out.push(detached(P.join(c, 'envs'), via));
    }
    return out;
  },
};
