/**
 * The only way discovery touches the filesystem: four calls, injectable so the
 * rules can be tested on an in-memory tree, and `nodeProbe` for the real one.
 * Every call throws Node's errors (with `code`); `quiet` turns the "not there"
 * ones into undefined and reports the rest once as a warning.
 */
import { promises as fsp } from 'node:fs';
import { errnoCode } from '../errors.js';

export type EntryType = 'dir' | 'file' | 'symlink' | 'other';

export interface DirEntry {
  readonly name: string;
  readonly type: EntryType;
}

export interface FsProbe {
  readdir(dir: string): Promise<DirEntry[]>;
  /** The type of `p` itself (a symlink is 'symlink'). */
  lstat(p: string): Promise<EntryType>;
  readFile(p: string): Promise<string>;
  realpath(p: string): Promise<string>;
}

function typeOf(d: { isDirectory(): boolean; isFile(): boolean; isSymbolicLink(): boolean }): EntryType {
  if (d.isSymbolicLink()) return 'symlink';
  if (d.isDirectory()) return 'dir';
  if (d.isFile()) return 'file';
  return 'other';
}

export const nodeProbe: FsProbe = {
  async readdir(dir) {
    const entries = await fsp.readdir(dir, { withFileTypes: true });
    return entries.map((e) => ({ name: e.name, type: typeOf(e) }));
  },
  async lstat(p) {
    return typeOf(await fsp.lstat(p));
  },
  readFile: (p) => fsp.readFile(p, 'utf8'),
  realpath: (p) => fsp.realpath(p),
};

/** Not there, or not a directory where one was expected: an answer, not a problem. */
const ABSENT = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'ENAMETOOLONG']);

/** The probe with absent paths as undefined; other failures become one warning each. */
export interface QuietProbe {
  readdir(dir: string): Promise<DirEntry[] | undefined>;
  lstat(p: string): Promise<EntryType | undefined>;
  readFile(p: string): Promise<string | undefined>;
  realpath(p: string): Promise<string | undefined>;
  readonly warnings: string[];
}

export function quiet(probe: FsProbe): QuietProbe {
  const warnings: string[] = [];
  const wrap =
    <T>(what: string, fn: (p: string) => Promise<T>) =>
    async (p: string): Promise<T | undefined> => {
      try {
        return await fn(p);
      } catch (err) {
        const code = errnoCode(err);
        if (code === undefined || !ABSENT.has(code)) warnings.push(`cannot ${what} ${p}: ${code ?? String(err)}`);
        return undefined;
      }
    };
  return {
    readdir: wrap('read directory', (p) => probe.readdir(p)),
    lstat: wrap('stat', (p) => probe.lstat(p)),
    readFile: wrap('read', (p) => probe.readFile(p)),
    realpath: wrap('resolve', (p) => probe.realpath(p)),
    warnings,
  };
}
