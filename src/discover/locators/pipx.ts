/**
 * pipx: every home it ever defaulted to, since an older one wins when it
 * exists: Linux $XDG_DATA_HOME/pipx (~/.local/share/pipx) and ~/.local/pipx;
 * macOS ~/.local/pipx and ~/Library/Application Support/pipx (1.3–1.5);
 * Windows ~\pipx, ~\.local\pipx and %LOCALAPPDATA%\pipx\pipx; PIPX_HOME; the
 * global home PIPX_GLOBAL_HOME or /opt/pipx (POSIX). In each home: `venvs/*`
 * (one per app), the shared libs venv `shared` (PIPX_SHARED_LIBS moves it)
 * and standalone Pythons `py/*`.
 */
import type { Candidate, Locator, PathContext } from '../types.js';
import { envVar, inHome, pathOf, pyDirs, resolveIn } from '../platform-dirs.js';
import { childrenOf, itself } from './common.js';

export function pipxHomes(ctx: PathContext): { dir: string; via: string }[] {
  const out: { dir: string; via: string }[] = [];
  const set = envVar(ctx, 'PIPX_HOME');
  if (set) out.push({ dir: resolveIn(ctx, set), via: 'PIPX_HOME' });
  const data = pyDirs(ctx, 'pipx', 'data');
  const dflt = (dir: string, rule: string) => out.push({ dir, via: `default on ${ctx.platform}: ${rule}` });
  if (ctx.platform === 'linux') {
    dflt(data[0]!, '$XDG_DATA_HOME/pipx or ~/.local/share/pipx');
    dflt(inHome(ctx, '.local', 'pipx'), '~/.local/pipx');
  } else if (ctx.platform === 'darwin') {
    dflt(inHome(ctx, '.local', 'pipx'), '~/.local/pipx');
    for (const d of data) dflt(d, 'platformdirs user data dir (pipx 1.3–1.5)');
  } else {
    dflt(inHome(ctx, 'pipx'), '~\\pipx');
    dflt(inHome(ctx, '.local', 'pipx'), '~\\.local\\pipx');
    dflt(data[0]!, '%LOCALAPPDATA%\\pipx\\pipx');
  }
  const global = envVar(ctx, 'PIPX_GLOBAL_HOME');
  if (global) out.push({ dir: resolveIn(ctx, global), via: 'PIPX_GLOBAL_HOME' });
  else if (ctx.platform !== 'win32') out.push({ dir: '/opt/pipx', via: 'pipx --global default: /opt/pipx' });
  return out;
}

export const pipxLocator: Locator = {
  tool: 'pipx',
  locate(ctx) {
    const P = pathOf(ctx.platform);
    const out: Candidate[] = [];
    const shared = envVar(ctx, 'PIPX_SHARED_LIBS');
    if (shared) out.push(itself(resolveIn(ctx, shared), { venv: 'pipx' }, 'PIPX_SHARED_LIBS'));
    for (const h of pipxHomes(ctx)) {
      out.push(childrenOf(P.join(h.dir, 'venvs'), { venv: 'pipx' }, h.via));
      out.push(itself(P.join(h.dir, 'shared'), { venv: 'pipx' }, h.via));
      out.push(childrenOf(P.join(h.dir, 'py'), { python: 'pipx-python' }, h.via));
    }
    return out;
  },
};
