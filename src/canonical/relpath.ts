/**
 * The path-independent name a canonical pyc carries in co_filename: the source
 * path relative to its import root. In a venv (or any installation) that is the
 * site-packages / dist-packages folder, e.g. `pip/_internal/cli/main.py`;
 * elsewhere the folder above the top-level package, found by walking up while
 * the folder holds an `__init__.py`. Always '/'-separated, so venvs on every OS
 * agree. CPython puts the real path back on every import from source
 * (`_imp._fix_co_filename`), so tracebacks and inspect still see the real file.
 */
import path from 'node:path';

const INSTALL_DIRS = new Set(['site-packages', 'dist-packages']);

/** Pure part: given the source path and a predicate "this folder is a package", the relative name. */
export function canonicalName(sourcePath: string, isPackageDir: (dir: string) => boolean): string {
  const abs = path.resolve(sourcePath);
  const parts = abs.split(path.sep);
  for (let i = parts.length - 2; i >= 0; i--) {
    if (INSTALL_DIRS.has(parts[i]!)) return parts.slice(i + 1).join('/');
  }
  let top = path.dirname(abs);
  while (isPackageDir(top)) {
    const up = path.dirname(top);
    if (up === top) break;
    top = up;
  }
  return path.relative(top, abs).split(path.sep).join('/');
}
