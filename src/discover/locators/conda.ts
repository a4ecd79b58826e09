/**
 * conda and mamba: the envs directories conda reads (`envs_dirs`, alias
 * `envs_path`, in every user-level .condarc and in CONDA_ENVS_DIRS /
 * CONDA_ENVS_PATH), `<root>/envs` and the root (base) env of each install
 * found from CONDA_EXE, CONDA_PREFIX or the usual install folders,
 * ~/.conda/envs (and %LOCALAPPDATA%\conda\conda\envs on Windows), and every
 * prefix listed in ~/.conda/environments.txt, conda's registry.
 * micromamba: MAMBA_ROOT_PREFIX and both default roots (~/micromamba before
 * 2.0, $XDG_DATA_HOME/mamba ~/.local/share/mamba since), each with `envs/*`.
 * .condarc.d folders are not read.
 */
import type { Candidate, ConfigFileRequest, ConfigFiles, Locator, PathContext } from '../types.js';
import { envVar, inHome, localAppData, pathOf, resolveIn, splitList, xdgHome } from '../platform-dirs.js';
import { linesOf, stringsAt } from '../tool-config.js';
import { childrenOf, itself } from './common.js';

/** Folder names conda installers suggest under the home directory (and /opt on POSIX). */
const INSTALL_NAMES = ['miniconda3', 'miniconda', 'anaconda3', 'anaconda', 'miniforge3', 'mambaforge', 'miniforge'];

export function condaRoots(ctx: PathContext): { dir: string; via: string }[] {
  const P = pathOf(ctx.platform);
  const out: { dir: string; via: string }[] = [];
  const exe = envVar(ctx, 'CONDA_EXE');
  // <root>/bin/conda, <root>/condabin/conda, <root>\Scripts\conda.exe
  if (exe) out.push({ dir: P.dirname(P.dirname(resolveIn(ctx, exe))), via: 'CONDA_EXE' });
  for (const n of INSTALL_NAMES) out.push({ dir: inHome(ctx, n), via: `usual install folder ~/${n}` });
  if (ctx.platform !== 'win32') for (const n of ['conda', ...INSTALL_NAMES]) out.push({ dir: `/opt/${n}`, via: `usual install folder /opt/${n}` });
  else for (const n of INSTALL_NAMES) out.push({ dir: P.join(localAppData(ctx), n), via: `usual install folder %LOCALAPPDATA%\\${n}` });
  return out;
}

export function mambaRoots(ctx: PathContext): { dir: string; via: string }[] {
  const out: { dir: string; via: string }[] = [];
  const set = envVar(ctx, 'MAMBA_ROOT_PREFIX');
  if (set) out.push({ dir: resolveIn(ctx, set), via: 'MAMBA_ROOT_PREFIX' });
  out.push({ dir: inHome(ctx, 'micromamba'), via: 'micromamba < 2.0 default: ~/micromamba' });
  const P = pathOf(ctx.platform);
  const data = ctx.platform === 'win32' ? localAppData(ctx) : xdgHome(ctx, 'XDG_DATA_HOME');
  out.push({ dir: P.join(data, 'mamba'), via: `micromamba 2.x default on ${ctx.platform}: ${ctx.platform === 'win32' ? '%LOCALAPPDATA%' : '$XDG_DATA_HOME or ~/.local/share'}/mamba` });
  return out;
}

export function environmentsTxt(ctx: PathContext): string {
  return inHome(ctx, '.conda', 'environments.txt');
}

/** The user-level condarc files conda and mamba read. */
export function condarcFiles(ctx: PathContext): string[] {
  const P = pathOf(ctx.platform);
  const cfg = P.join(xdgHome(ctx, 'XDG_CONFIG_HOME'), 'conda');
  const files = [
    inHome(ctx, '.condarc'),
    inHome(ctx, '.conda', '.condarc'),
    inHome(ctx, '.conda', 'condarc'),
    P.join(cfg, '.condarc'),
    P.join(cfg, 'condarc'),
    inHome(ctx, '.mambarc'),
  ];
  for (const v of ['CONDARC', 'MAMBARC']) {
    const set = envVar(ctx, v);
    if (set) files.push(resolveIn(ctx, set));
  }
  if (ctx.platform !== 'win32') files.push('/etc/conda/.condarc', '/etc/conda/condarc');
  for (const r of [...condaRoots(ctx), ...mambaRoots(ctx)]) files.push(P.join(r.dir, '.condarc'));
  return files;
}

function configuredEnvsDirs(ctx: PathContext, files: ConfigFiles): Candidate[] {
  const out: Candidate[] = [];
  for (const v of ['CONDA_ENVS_DIRS', 'CONDA_ENVS_PATH']) {
    for (const d of splitList(ctx, envVar(ctx, v))) out.push(childrenOf(resolveIn(ctx, d), { conda: 'conda' }, v));
  }
  for (const f of condarcFiles(ctx)) {
    const doc = files.get(f);
    for (const key of ['envs_dirs', 'envs_path']) {
      for (const d of stringsAt(doc, key)) out.push(childrenOf(resolveIn(ctx, d), { conda: 'conda' }, `${key} in ${f}`));
    }
  }
  return out;
}

export const condaLocator: Locator = {
  tool: 'conda',
  configFiles: (ctx): ConfigFileRequest[] => [
    ...condarcFiles(ctx).map((path) => ({ path, format: 'yaml' as const })),
    { path: environmentsTxt(ctx), format: 'lines' },
  ],
  locate(ctx, files) {
    const P = pathOf(ctx.platform);
    const out = configuredEnvsDirs(ctx, files);
    const registry = environmentsTxt(ctx);
    for (const line of linesOf(files.get(registry))) out.push(itself(resolveIn(ctx, line), { conda: 'conda' }, registry));
    const prefix = envVar(ctx, 'CONDA_PREFIX');
    if (prefix) out.push(itself(resolveIn(ctx, prefix), { conda: 'conda' }, 'CONDA_PREFIX'));
    for (const r of condaRoots(ctx)) {
      out.push(itself(r.dir, { conda: 'conda' }, r.via));
      out.push(childrenOf(P.join(r.dir, 'envs'), { conda: 'conda' }, r.via));
    }
    for (const r of mambaRoots(ctx)) {
      out.push(childrenOf(P.join(r.dir, 'envs'), { conda: 'micromamba' }, r.via));
    }
    out.push(childrenOf(inHome(ctx, '.conda', 'envs'), { conda: 'conda' }, 'default: ~/.conda/envs'));
    if (ctx.platform === 'win32') out.push(childrenOf(P.join(localAppData(ctx), 'conda', 'conda', 'envs'), { conda: 'conda' }, 'default on win32: %LOCALAPPDATA%\\conda\\conda\\envs'));
    return out;
  },
};
