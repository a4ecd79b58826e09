/**
 * Helpers for the discovery tests: injected contexts for each OS, a locator's
 * places as comparable strings, and an in-memory filesystem probe.
 */
import path from 'node:path';
import type { Candidate, ConfigFiles, Locator, PathContext, Platform } from '../../src/discover/index.js';
import type { DirEntry, EntryType, FsProbe } from '../../src/discover/probe.js';
import { parseConfigText } from '../../src/discover/tool-config.js';

export const LINUX_HOME = '/home/u';
export const MAC_HOME = '/Users/u';
export const WIN_HOME = 'C:\\Users\\u';

export const linux = (env: Record<string, string> = {}): PathContext => ({ platform: 'linux', home: LINUX_HOME, env });
export const mac = (env: Record<string, string> = {}): PathContext => ({ platform: 'darwin', home: MAC_HOME, env });
export const win = (env: Record<string, string> = {}): PathContext => ({
  platform: 'win32',
  home: WIN_HOME,
  env: { APPDATA: 'C:\\Users\\u\\AppData\\Roaming', LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local', ...env },
});

/** Parsed config files from their text, as readConfigFiles would give them. */
export function files(ctx: PathContext, texts: Record<string, string>): ConfigFiles {
  const m = new Map<string, unknown>();
  for (const [p, text] of Object.entries(texts)) {
    const format = p.endsWith('.txt') ? 'lines' : p.endsWith('.toml') ? 'toml' : 'yaml';
    m.set(p, parseConfigText(text, format));
  }
  void ctx;
  return m;
}

/** `dir/pattern -> kinds (via)` for each candidate of a locator. */
export function places(locator: Locator, ctx: PathContext, cfg: ConfigFiles = new Map()): string[] {
  const P = ctx.platform === 'win32' ? path.win32 : path.posix;
  return locator.locate(ctx, cfg).map((c: Candidate) => {
    const where = c.pattern.length ? P.join(c.dir, ...c.pattern) : c.dir;
    const kinds = Object.entries(c.kinds).map(([l, k]) => `${l}:${k}`).join(',');
    return `${where} -> ${kinds}${c.classify ? ' (by name)' : ''} [${c.via}]`;
  });
}

/** Just the places, for "contains" checks. */
export function dirs(locator: Locator, ctx: PathContext, cfg: ConfigFiles = new Map()): string[] {
  return places(locator, ctx, cfg).map((s) => s.split(' -> ')[0]!);
}

/**
 * An in-memory tree for `platform`: keys are paths, values '' (a folder,
 * when the key ends with a separator), file text, or { link: target }.
 */
export function memoryProbe(platform: Platform, tree: Record<string, string | { link: string }>): FsProbe {
  const P = platform === 'win32' ? path.win32 : path.posix;
  const nodes = new Map<string, { type: EntryType; text?: string; link?: string }>();
  const norm = (p: string) => P.resolve(p);
  const addDir = (d: string): void => {
    for (let cur = norm(d); !nodes.has(cur); cur = P.dirname(cur)) {
      nodes.set(cur, { type: 'dir' });
      if (P.dirname(cur) === cur) break;
    }
  };
  for (const [p, v] of Object.entries(tree)) {
    if (typeof v === 'object') {
      addDir(P.dirname(p));
      nodes.set(norm(p), { type: 'symlink', link: v.link });
    } else if (p.endsWith(P.sep)) addDir(p);
    else {
      addDir(P.dirname(p));
      nodes.set(norm(p), { type: 'file', text: v });
    }
  }
  const err = (code: string, p: string) => Object.assign(new Error(`${code}: ${p}`), { code });
  const resolve = (p: string, hops = 0): string => {
    const parts = norm(p);
    const n = nodes.get(parts);
    if (n?.type === 'symlink') {
      if (hops > 20) throw err('ELOOP', p);
      return resolve(P.resolve(P.dirname(parts), n.link!), hops + 1);
    }
    const parent = P.dirname(parts);
    if (parent === parts) return parts;
    const rp = resolve(parent, hops);
    return rp === parent ? parts : resolve(P.join(rp, P.basename(parts)), hops);
  };
  const get = (p: string) => {
    const n = nodes.get(resolve(p));
    if (!n) throw err('ENOENT', p);
    return n;
  };
  return {
    async readdir(dir) {
      const real = resolve(dir);
      if (get(dir).type !== 'dir') throw err('ENOTDIR', dir);
      const out: DirEntry[] = [];
      for (const [k, n] of nodes) if (k !== real && P.dirname(k) === real) out.push({ name: P.basename(k), type: n.type });
      return out;
    },
    async lstat(p) {
      const parentReal = resolve(P.dirname(norm(p)));
      const n = nodes.get(P.join(parentReal, P.basename(norm(p))));
      if (!n) throw err('ENOENT', p);
      return n.type;
    },
    async readFile(p) {
      const n = get(p);
      if (n.type !== 'file') throw err('EISDIR', p);
      return n.text!;
    },
    async realpath(p) {
      get(p);
      return resolve(p);
    },
  };
}
