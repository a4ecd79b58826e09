/**
 * How the ledger spells a directory, pure: the chain of names from its dirs
 * row 1 down to the directory. Row 1 stands for the POSIX root `/`; every
 * other filesystem root — a Windows drive (`C:\`) or UNC share
 * (`\\server\share\`) — is a row of its own under row 1, named by that root,
 * so `C:\x` and `D:\x` never meet. The path module is a parameter, so the
 * Windows spelling is tested on any OS with `path.win32`.
 */
import path from 'node:path';

export type PathApi = Pick<typeof path, 'sep' | 'parse' | 'normalize' | 'isAbsolute' | 'join' | 'dirname' | 'basename'>;

/** A filesystem root as the ledger names it: drive letters upper-cased, `/` as the separator-free POSIX root. */
function rootName(root: string, p: PathApi): string | undefined {
  if (root === '/' && p.sep === '/') return undefined; // POSIX: row 1 itself
  const drive = /^([a-zA-Z]):[\\/]?$/.exec(root);
  if (drive) return `${drive[1]!.toUpperCase()}:${p.sep}`;
  return root.endsWith(p.sep) ? root : `${root}${p.sep}`;
}

/** The names from row 1 to the absolute directory `dir` (empty for the POSIX root). */
export function dirChain(dir: string, p: PathApi = path): string[] {
  if (!p.isAbsolute(dir)) throw new Error(`not an absolute path: ${dir}`);
  const norm = p.normalize(dir);
  const { root } = p.parse(norm);
  const names = norm.slice(root.length).split(p.sep).filter((n) => n !== '');
  const top = rootName(root, p);
  return top === undefined ? names : [top, ...names];
}

/** Inverse of dirChain. */
export function chainPath(names: readonly string[], p: PathApi = path): string {
  if (p.sep === '/') return `/${names.join('/')}`;
  if (names.length === 0) throw new Error('the ledger row 1 is no directory on Windows');
  return p.join(names[0]!, ...names.slice(1));
}
