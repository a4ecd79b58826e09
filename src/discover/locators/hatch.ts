/**
 * hatch: virtual envs in `<data>/env/virtual/<project>/<project-id>/<env>`,
 * data = HATCH_DATA_DIR, `dirs.data` in hatch's config.toml (HATCH_CONFIG, else
 * platformdirs' user config dir "hatch"), or platformdirs' user data dir
 * "hatch" (appauthor none); an absolute `dirs.env.virtual` holds the same
 * three-level layout; managed Pythons in `dirs.python` or `<data>/pythons/*`.
 * A project-relative `dirs.env.virtual` (".hatch") is the workspace walk's.
 */
import type { Candidate, Locator, PathContext } from '../types.js';
import { envVar, pathOf, pyDirs, resolveIn } from '../platform-dirs.js';
import { stringAt } from '../tool-config.js';
import { childrenOf } from './common.js';

export function hatchConfigFiles(ctx: PathContext): string[] {
  const set = envVar(ctx, 'HATCH_CONFIG');
  if (set) return [resolveIn(ctx, set)];
  const P = pathOf(ctx.platform);
  return pyDirs(ctx, 'hatch', 'config', { appauthor: false }).map((d) => P.join(d, 'config.toml'));
}

export function hatchDataDirs(ctx: PathContext, files: ReadonlyMap<string, unknown>): { dir: string; via: string }[] {
  const out: { dir: string; via: string }[] = [];
  const set = envVar(ctx, 'HATCH_DATA_DIR');
  if (set) out.push({ dir: resolveIn(ctx, set), via: 'HATCH_DATA_DIR' });
  for (const f of hatchConfigFiles(ctx)) {
    const d = stringAt(files.get(f), 'dirs.data');
    if (d) out.push({ dir: resolveIn(ctx, d), via: `dirs.data in ${f}` });
  }
  for (const d of pyDirs(ctx, 'hatch', 'data', { appauthor: false })) out.push({ dir: d, via: `default on ${ctx.platform}: platformdirs user data dir "hatch"` });
  return out;
}

export const hatchLocator: Locator = {
  tool: 'hatch',
  configFiles: (ctx) => hatchConfigFiles(ctx).map((path) => ({ path, format: 'toml' as const })),
  locate(ctx, files) {
    const P = pathOf(ctx.platform);
    const out: Candidate[] = [];
    const threeLevels = (dir: string, via: string): Candidate => ({ dir, pattern: ['*', '*', '*'], kinds: { venv: 'hatch' }, via });
    for (const f of hatchConfigFiles(ctx)) {
      const virtual = stringAt(files.get(f), 'dirs.env.virtual');
      if (virtual && P.isAbsolute(virtual)) out.push(threeLevels(virtual, `dirs.env.virtual in ${f}`));
      const python = stringAt(files.get(f), 'dirs.python');
      if (python && P.isAbsolute(python)) out.push(childrenOf(python, { python: 'hatch-python' }, `dirs.python in ${f}`));
    }
    for (const d of hatchDataDirs(ctx, files)) {
      out.push(threeLevels(P.join(d.dir, 'env', 'virtual'), d.via));
      out.push(childrenOf(P.join(d.dir, 'pythons'), { python: 'hatch-python' }, d.via));
    }
    return out;
  },
};
