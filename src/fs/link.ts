/**
 * Replacing a venv file by a link to a store object, atomically: the link is
 * made under a unique temp name in the same directory, the original is
 * stat-ed again and compared with what was hashed, and only then is the temp
 * renamed over it. No path is ever removed before its replacement exists.
 *
 * One type for all link methods (LinkKind); errors the caller must act on are
 * returned as outcomes, not thrown.
 */
import {
  chmodSync,
  chownSync,
  constants,
  copyFileSync,
  linkSync,
  lstatSync,
  renameSync,
  unlinkSync,
  utimesSync,
  type BigIntStats,
} from 'node:fs';
import { errnoCode } from '../errors.js';
import type { LinkKind } from '../ledger/ledger.js';
import { swapTempPath } from '../store/location.js';
import { type Fingerprint, fingerprintOf, sameFingerprint, sameInode } from './fingerprint.js';

export type LinkOutcome =
  | { readonly ok: true; readonly stat: BigIntStats }
  | { readonly ok: false; readonly reason: LinkFailure; readonly errno?: string | undefined };

export type LinkFailure =
  | 'changed' // the file changed since it was hashed
  | 'emlink' // the object hit the filesystem's hard-link limit
  | 'xdev' // the file is on another filesystem than the object
  | 'no-reflink' // the filesystem can't clone
  | 'exists' // (new files) the target appeared meanwhile
  | 'error';

const REFLINK_UNSUPPORTED = new Set(['EOPNOTSUPP', 'ENOTSUP', 'EINVAL', 'ENOSYS', 'ENOTTY', 'EBADF', 'ERR_FS_CP_EINVAL']);

function cleanup(tmp: string): void {
  try {
    unlinkSync(tmp);
  } catch {
    // gone already (renamed, or never created)
  }
}

/** Make `tmp` a new name for the object (hard link) or a clone of it (reflink). */
function makeTemp(objectPath: string, tmp: string, kind: LinkKind): LinkOutcome | undefined {
  try {
    if (kind === 'hardlink') linkSync(objectPath, tmp);
    else copyFileSync(objectPath, tmp, constants.COPYFILE_FICLONE_FORCE | constants.COPYFILE_EXCL);
    return undefined;
  } catch (err) {
    const code = errnoCode(err);
    cleanup(tmp);
    if (code === 'EMLINK') return { ok: false, reason: 'emlink', errno: code };
    // NTFS's ERROR_TOO_MANY_LINKS reaches Node as UNKNOWN (libuv has no mapping; native-notes/windows.md).
    if (kind === 'hardlink' && code === 'UNKNOWN' && process.platform === 'win32') return { ok: false, reason: 'emlink', errno: code };
    if (code === 'EXDEV') return { ok: false, reason: 'xdev', errno: code };
    if (kind === 'reflink' && code !== undefined && REFLINK_UNSUPPORTED.has(code)) return { ok: false, reason: 'no-reflink', errno: code };
    return { ok: false, reason: 'error', errno: code ?? String(err) };
  }
}

/** A clone is a new inode: give it the original's mode, owner and times. */
function copyMetadata(tmp: string, original: BigIntStats): void {
  chmodSync(tmp, Number(original.mode) & 0o7777);
  if (process.platform !== 'win32' && process.geteuid?.() === 0) {
    chownSync(tmp, Number(original.uid), Number(original.gid));
  }
  utimesSync(tmp, new Date(Number(original.atimeMs)), new Date(Number(original.mtimeMs)));
}

/**
 * Replace `target` by a link to `objectPath`. `expected` is the fingerprint of
 * `target` when its content was read and compared; any difference now means
 * it changed and it is left alone.
 */
export function replaceWithLink(objectPath: string, target: string, kind: LinkKind, expected: Fingerprint): LinkOutcome {
  const tmp = swapTempPath(target);
  const made = makeTemp(objectPath, tmp, kind);
  if (made) return made;
  try {
    if (kind === 'reflink') copyMetadata(tmp, lstatSync(target, { bigint: true }));
    // The last look before the swap: same inode, size, mtime and ctime as what was hashed.
    const now = lstatSync(target, { bigint: true });
    if (!now.isFile() || !sameFingerprint(fingerprintOf(now), expected)) return { ok: false, reason: 'changed' };
    const tmpStat = lstatSync(tmp, { bigint: true });
    if (sameInode(fingerprintOf(tmpStat), expected)) {
      // Already that inode: rename(2) onto the same inode does nothing and would leave tmp behind.
      return { ok: true, stat: now };
    }
    renameSync(tmp, target);
    return { ok: true, stat: lstatSync(target, { bigint: true }) };
  } catch (err) {
    const code = errnoCode(err);
    return { ok: false, reason: code === 'ENOENT' ? 'changed' : 'error', errno: code ?? String(err) };
  } finally {
    cleanup(tmp);
  }
}

/**
 * Create `target`, which doesn't exist, as a link to `objectPath` (used by --fill).
 * Never replaces a file that appeared meanwhile.
 */
export function createLink(objectPath: string, target: string, kind: LinkKind, mode: number): LinkOutcome {
  const tmp = swapTempPath(target);
  const made = makeTemp(objectPath, tmp, kind);
  if (made) return made;
  try {
    if (kind === 'reflink') chmodSync(tmp, mode);
    linkSync(tmp, target); // fails with EEXIST instead of replacing
    return { ok: true, stat: lstatSync(target, { bigint: true }) };
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'EEXIST') return { ok: false, reason: 'exists' };
    if (code === 'EMLINK') return { ok: false, reason: 'emlink', errno: code };
    return { ok: false, reason: 'error', errno: code ?? String(err) };
  } finally {
    cleanup(tmp);
  }
}
