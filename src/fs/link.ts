/**
 * Replacing a venv file by a link to a store object, atomically (fs/swap.ts):
 * the link is made under a unique temp name in the same directory, the
 * original is stat-ed again and compared with what was hashed, and only then
 * is the temp renamed over it. No path is ever removed before its replacement
 * exists.
 *
 * One type for all link methods (LinkKind), and one function type for linking
 * (Linker, pnpm's importer shape): `makeLinker('auto')` tries a reflink first
 * and, when the filesystem can't clone, settles on hard links for good, so the
 * probe happens once per store root. Errors the caller must act on are
 * returned as outcomes, not thrown.
 */
import { chmodSync, chownSync, constants, copyFileSync, linkSync, lstatSync, utimesSync, type BigIntStats } from 'node:fs';
import { errnoCode } from '../errors.js';
import { type Fingerprint, fingerprintOf, sameFingerprint } from './fingerprint.js';
import { removeTemp, swapIn, swapTempPath } from './swap.js';

export type LinkKind = 'hardlink' | 'reflink';
/** `--link-mode`: auto = reflink where the filesystem can, else hard link. Never symlinks, never copies. */
export type LinkMode = 'auto' | LinkKind;

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

type Failed = Extract<LinkOutcome, { ok: false }>;

const REFLINK_UNSUPPORTED = new Set(['EOPNOTSUPP', 'ENOTSUP', 'EINVAL', 'ENOSYS', 'ENOTTY', 'EBADF', 'ERR_FS_CP_EINVAL']);

/** Make `tmp` a new name for the object (hard link) or a clone of it (reflink). */
function makeTemp(objectPath: string, tmp: string, kind: LinkKind): Failed | undefined {
  try {
    if (kind === 'hardlink') linkSync(objectPath, tmp);
    else copyFileSync(objectPath, tmp, constants.COPYFILE_FICLONE_FORCE | constants.COPYFILE_EXCL);
    return undefined;
  } catch (err) {
    const code = errnoCode(err);
    removeTemp(tmp);
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
  return swapIn<Failed>(
    target,
    (tmp) => {
      const failed = makeTemp(objectPath, tmp, kind);
      if (!failed && kind === 'reflink') copyMetadata(tmp, lstatSync(target, { bigint: true }));
      return failed;
    },
    // The last look before the swap: same inode, size, mtime and ctime as what was hashed.
    (st) => sameFingerprint(fingerprintOf(st), expected),
  );
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
    removeTemp(tmp);
  }
}

/** What a linker did, and with which kind of link (made, or tried last). */
export type LinkerOutcome = LinkOutcome & { readonly kind: LinkKind };

/** How files are linked to the objects of one store root. */
export interface Linker {
  readonly mode: LinkMode;
  /** The kind this linker has settled on (fixed, or auto's answer once it has one), once it was used; else undefined. */
  settled(): LinkKind | undefined;
  /** The filesystem refused the kind asked for (reflink on ext4): every call fails with this, untried. */
  refused(): LinkerOutcome | undefined;
  /** Replace an existing file (see replaceWithLink). */
  replace(objectPath: string, target: string, expected: Fingerprint): LinkerOutcome;
  /** Create a missing file with this mode (see createLink). */
  create(objectPath: string, target: string, mode: number): LinkerOutcome;
}

/**
 * A linker for one store root. auto: reflink until the first answer; if the filesystem can't clone,
 * hard links from then on (asked once). A fixed kind the filesystem refuses (reflink on ext4) fails
 * every later call at once with the same outcome, without trying again.
 */
export function makeLinker(mode: LinkMode): Linker {
  let kind: LinkKind = mode === 'hardlink' ? 'hardlink' : 'reflink';
  let probed = mode !== 'auto';
  let refused: LinkerOutcome | undefined;
  let used = false;
  const attempt = (op: (k: LinkKind) => LinkOutcome): LinkerOutcome => {
    used = true;
    if (refused) return refused;
    let out = op(kind);
    if (!out.ok && out.reason === 'no-reflink' && !probed) {
      kind = 'hardlink';
      probed = true;
      out = op(kind);
    }
    if (out.ok) probed = true;
    else if (out.reason === 'no-reflink') refused = { ...out, kind };
    return { ...out, kind };
  };
  return {
    mode,
    settled: () => (used && probed && !refused ? kind : undefined),
    refused: () => refused,
    replace: (objectPath, target, expected) => attempt((k) => replaceWithLink(objectPath, target, k, expected)),
    create: (objectPath, target, fileMode) => attempt((k) => createLink(objectPath, target, k, fileMode)),
  };
}
