/**
 * The store's safety rules about who owns it and who can write it. Objects are
 * hard-linked into venvs, so whoever can write the store can change what every
 * venv's Python loads: a store owned by another user, or writable by group or
 * others, is refused.
 */
import { mkdirSync, statSync } from 'node:fs';
import { PycstoreError } from '../errors.js';

export interface StoreOwner {
  readonly uid: number;
  readonly gid: number;
}

const POSIX = process.platform !== 'win32';

/** Create `dir` (0700) if missing, then check it; returns its owner. */
export function ensurePrivateDir(dir: string, what: string): StoreOwner {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return checkPrivateDir(dir, what);
}

/** Check an existing store directory; throws ESTOREPERM with the fix. */
export function checkPrivateDir(dir: string, what: string): StoreOwner {
  const st = statSync(dir);
  if (!st.isDirectory()) {
    throw new PycstoreError('ESTOREPERM', `${what} ${dir} is not a directory`, {
      hint: `move it away or choose another location with --store DIR`,
    });
  }
  if (!POSIX) return { uid: st.uid, gid: st.gid };
  const me = process.geteuid!();
  if (st.uid !== me) {
    throw new PycstoreError('ESTOREPERM', `${what} ${dir} is owned by uid ${st.uid}, not by you (uid ${me})`, {
      hint:
        st.uid === 0
          ? `a system store owned by root is used by running pycstore as root; or use your own store: --store ~/.cache/pycstore`
          : `use your own store (--store DIR or $PYCSTORE_HOME), or take this one over: chown -R ${me} '${dir}'`,
      data: { path: dir, owner: st.uid, uid: me },
    });
  }
  if ((st.mode & 0o022) !== 0) {
    const mode = (st.mode & 0o777).toString(8).padStart(3, '0');
    throw new PycstoreError('ESTOREPERM', `${what} ${dir} is writable by group or others (mode ${mode})`, {
      hint: `anyone who can write the store can change what your venvs' Python runs; fix it with: chmod go-w '${dir}' (pycstore creates it 0700)`,
      data: { path: dir, mode },
    });
  }
  return { uid: st.uid, gid: st.gid };
}
