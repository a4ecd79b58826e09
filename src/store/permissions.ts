/**
 * The store's safety rules about who owns it and who can write it. Objects are
 * hard-linked into venvs, so whoever can write the store can change what every
 * venv's Python loads: a store owned by another user, or writable by group or
 * others, is refused. So is a store that someone else could swap: every folder
 * on the way from / to it must be owned by you or root and writable by nobody
 * else, unless it is sticky (like /tmp), which keeps others from renaming what
 * they don't own (OpenSSH checks the folders above its keys the same way).
 */
import { existsSync, mkdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { errnoCode, PycstoreError } from '../errors.js';

export interface StoreOwner {
  readonly uid: number;
  readonly gid: number;
}

const POSIX = process.platform !== 'win32';
const STICKY = 0o1000;

/** Check the folders above `dir`, then create `dir` (0700) if missing, then check it; returns its owner. */
export function ensurePrivateDir(dir: string, what: string): StoreOwner {
  checkAncestors(dir, what);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw cannotCreate(dir, what, err);
    // something that is not a folder is in the way: checkPrivateDir says so
  }
  return checkPrivateDir(dir, what);
}

function cannotCreate(dir: string, what: string, err: unknown): PycstoreError {
  const code = errnoCode(err);
  const why = code === 'ENOTDIR' ? 'a file is in the way on its path' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (code ?? String(err));
  return new PycstoreError('ESTOREPERM', `cannot create the ${what} ${dir}: ${why}`, {
    hint: 'choose another location with --store DIR (or $PYCSTORE_HOME)',
    cause: err,
    data: { path: dir },
  });
}

/**
 * The checks of ensurePrivateDir without creating anything: for commands that must refuse before
 * any work (a store that doesn't exist yet is checked as far as it can be: the folders above it).
 */
export function preflightPrivateDir(dir: string, what: string): void {
  if (existsSync(dir)) {
    checkPrivateDir(dir, what);
    return;
  }
  checkAncestors(dir, what);
  let nearest = path.dirname(path.resolve(dir));
  while (!existsSync(nearest) && path.dirname(nearest) !== nearest) nearest = path.dirname(nearest);
  if (!statSync(nearest).isDirectory()) {
    throw new PycstoreError('ESTOREPERM', `cannot create the ${what} ${dir}: ${nearest} is not a folder`, {
      hint: 'choose another location with --store DIR (or $PYCSTORE_HOME)',
      data: { path: dir },
    });
  }
}

/** Check an existing store directory and the folders above it; throws ESTOREPERM with the fix. */
export function checkPrivateDir(dir: string, what: string): StoreOwner {
  const st = statSync(dir);
  if (!st.isDirectory()) {
    throw new PycstoreError('ESTOREPERM', `${what} ${dir} is not a directory`, {
      hint: `move it away or choose another location with --store DIR`,
      data: { path: dir },
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
  checkAncestors(dir, what);
  return { uid: st.uid, gid: st.gid };
}

/** The folders above `dir` that exist: as written (a symlink's own folder counts) and after resolving symlinks. */
function ancestors(dir: string): string[] {
  const out = new Set<string>();
  const up = (from: string): void => {
    for (let cur = from; ; cur = path.dirname(cur)) {
      out.add(cur);
      if (path.dirname(cur) === cur) return;
    }
  };
  let nearest = path.dirname(path.resolve(dir));
  while (!existsSync(nearest) && path.dirname(nearest) !== nearest) nearest = path.dirname(nearest);
  up(nearest);
  try {
    up(realpathSync(nearest));
  } catch {
    // vanished meanwhile: the lexical walk stands
  }
  return [...out];
}

/** Who else could rename or replace what is in this folder: undefined when nobody. */
export function foreignWriter(st: Pick<Stats, 'uid' | 'mode'>, me: number): 'owner' | 'mode' | undefined {
  const trustedOwner = st.uid === me || st.uid === 0;
  if (!trustedOwner) return 'owner';
  if ((st.mode & 0o022) !== 0 && (st.mode & STICKY) === 0) return 'mode';
  return undefined;
}

/** Refuse a store below a folder another user could write (or owns). */
export function checkAncestors(dir: string, what: string): void {
  if (!POSIX) return;
  const me = process.geteuid!();
  for (const folder of ancestors(dir)) {
    let st: Stats;
    try {
      st = statSync(folder);
    } catch {
      continue; // gone meanwhile
    }
    const problem = foreignWriter(st, me);
    if (problem === 'owner') {
      throw new PycstoreError('ESTOREPERM', `${folder}, a folder above the ${what} ${dir}, is owned by uid ${st.uid}: that user could replace the ${what}`, {
        hint: `put the store in a folder owned by you or root: --store DIR (or $PYCSTORE_HOME)`,
        data: { path: dir, folder, owner: st.uid, uid: me },
      });
    }
    if (problem === 'mode') {
      const mode = (st.mode & 0o7777).toString(8).padStart(3, '0');
      throw new PycstoreError('ESTOREPERM', `${folder}, a folder above the ${what} ${dir}, is writable by group or others (mode ${mode}): they could replace the ${what}`, {
        hint: `fix it with: chmod go-w '${folder}' (or, for a shared folder like /tmp, make it sticky: chmod +t '${folder}'); or use another --store DIR`,
        data: { path: dir, folder, mode },
      });
    }
  }
}
