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
 * returned as outcomes, not thrown. Asynchronous: a caller keeps several links
 * in flight through the libuv pool.
 */
import { constants, type BigIntStats } from 'node:fs';
import { chmod, chown, copyFile, link, lstat, utimes } from 'node:fs/promises';
import { errnoCode } from '../errors.js';
import { isNoSpaceCode } from './free-space.js';
import { type Fingerprint, fingerprintOf, sameFingerprint } from './fingerprint.js';
import { removeTemp, swapIn, swapTempPath, type MakeResult } from './swap.js';

export type LinkKind = 'hardlink' | 'reflink';
/** `--link-mode`: auto = reflink where the filesystem can, else hard link. Never symlinks, never copies. */
export type LinkMode = 'auto' | LinkKind;

/**
 * ok: the path is now the object (`fp`: its fingerprint as the ledger records it — for a hard link
 * the object's own, given by the caller; for a clone its new inode's, looked at after the swap).
 */
export type LinkOutcome =
  | { readonly ok: true; readonly fp: Fingerprint; readonly before?: BigIntStats | undefined }
  | { readonly ok: false; readonly reason: LinkFailure; readonly errno?: string | undefined };

export type LinkFailure =
  | 'changed' // the file changed since it was hashed
  | 'emlink' // the object hit the filesystem's hard-link limit
  | 'xdev' // the file is on another filesystem than the object
  | 'no-reflink' // the filesystem can't clone
  | 'exists' // (new files) the target appeared meanwhile
  | 'no-space' // ENOSPC (or EDQUOT): the filesystem is full
  | 'error';

type Failed = Extract<LinkOutcome, { ok: false }>;

/** The store object a file is linked to: its path and fingerprint (its inode, for hard links). */
export interface LinkSource {
  readonly path: string;
  readonly fp: Fingerprint;
}

const REFLINK_UNSUPPORTED = new Set(['EOPNOTSUPP', 'ENOTSUP', 'EINVAL', 'ENOSYS', 'ENOTTY', 'EBADF', 'ERR_FS_CP_EINVAL']);

/** What a failed link(2) or clone means for the caller. */
function linkFailure(err: unknown, kind: LinkKind): Failed {
  const code = errnoCode(err);
  if (code === 'EMLINK') return { ok: false, reason: 'emlink', errno: code };
  // NTFS's ERROR_TOO_MANY_LINKS reaches Node as UNKNOWN (libuv has no mapping; native-notes/windows.md).
  if (kind === 'hardlink' && code === 'UNKNOWN' && process.platform === 'win32') return { ok: false, reason: 'emlink', errno: code };
  if (code === 'EXDEV') return { ok: false, reason: 'xdev', errno: code };
  if (isNoSpaceCode(code)) return { ok: false, reason: 'no-space', errno: code };
  if (kind === 'reflink' && code !== undefined && REFLINK_UNSUPPORTED.has(code)) return { ok: false, reason: 'no-reflink', errno: code };
  return { ok: false, reason: 'error', errno: code ?? String(err) };
}

/** Make `tmp` a new name for the object (hard link) or a clone of it (reflink). */
async function makeTemp(objectPath: string, tmp: string, kind: LinkKind): Promise<MakeResult<Failed>> {
  try {
    if (kind === 'hardlink') await link(objectPath, tmp);
    else await copyFile(objectPath, tmp, constants.COPYFILE_FICLONE_FORCE | constants.COPYFILE_EXCL);
    return undefined;
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return 'EEXIST';
    await removeTemp(tmp);
    return linkFailure(err, kind);
  }
}

/** A clone is a new inode: give it the original's mode, owner and times. */
async function copyMetadata(tmp: string, original: BigIntStats): Promise<void> {
  await chmod(tmp, Number(original.mode) & 0o7777);
  if (process.platform !== 'win32' && process.geteuid?.() === 0) {
    await chown(tmp, Number(original.uid), Number(original.gid));
  }
  await utimes(tmp, new Date(Number(original.atimeMs)), new Date(Number(original.mtimeMs)));
}

/**
 * What the last look before a swap accepts: the fingerprint `target` had when its content was read
 * and compared (any difference now means it changed, and it is left alone), or a caller's own test.
 */
export type Expected = Fingerprint | ((now: Fingerprint) => boolean | Promise<boolean>);

/** Replace `target` by a link to the object, if it still is what was read (`expected`). */
export async function replaceWithLink(object: LinkSource, target: string, kind: LinkKind, expected: Expected): Promise<LinkOutcome> {
  let before: BigIntStats | undefined;
  const out = await swapIn<Failed>(
    target,
    async (tmp) => {
      const made = await makeTemp(object.path, tmp, kind);
      if (made || kind === 'hardlink') return made;
      await copyMetadata(tmp, await lstat(target, { bigint: true }));
      return undefined;
    },
    // The last look before the swap: same inode, size, mtime and ctime as what was hashed.
    async (st) => {
      before = st;
      const fp = fingerprintOf(st);
      return typeof expected === 'function' ? expected(fp) : sameFingerprint(fp, expected);
    },
    kind === 'hardlink' ? { madeInode: object.fp } : {},
  );
  if (!out.ok) return out;
  return { ok: true, fp: kind === 'hardlink' ? object.fp : fingerprintOf(await lstat(target, { bigint: true })), before };
}

/**
 * Create `target`, which doesn't exist, as a link to the object (used by --fill).
 * Never replaces a file that appeared meanwhile.
 */
export async function createLink(object: LinkSource, target: string, kind: LinkKind, mode: number): Promise<LinkOutcome> {
  if (kind === 'hardlink') {
    try {
      await link(object.path, target); // fails with EEXIST instead of replacing
      return { ok: true, fp: object.fp };
    } catch (err) {
      return errnoCode(err) === 'EEXIST' ? { ok: false, reason: 'exists' } : linkFailure(err, kind);
    }
  }
  const tmp = swapTempPath(target);
  const made = await makeTemp(object.path, tmp, kind);
  if (made === 'EEXIST') return { ok: false, reason: 'error', errno: 'EEXIST' };
  if (made) return made;
  try {
    await chmod(tmp, mode);
    await link(tmp, target); // fails with EEXIST instead of replacing
    return { ok: true, fp: fingerprintOf(await lstat(target, { bigint: true })) };
  } catch (err) {
    return errnoCode(err) === 'EEXIST' ? { ok: false, reason: 'exists' } : linkFailure(err, kind);
  } finally {
    await removeTemp(tmp);
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
  replace(object: LinkSource, target: string, expected: Expected): Promise<LinkerOutcome>;
  /** Create a missing file with this mode (see createLink). */
  create(object: LinkSource, target: string, mode: number): Promise<LinkerOutcome>;
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
  /** The call asking the filesystem first: until it answers, the others wait (a burst would each try a clone ext4 refuses). */
  let probing: Promise<unknown> | undefined;
  const attempt = async (op: (k: LinkKind) => Promise<LinkOutcome>): Promise<LinkerOutcome> => {
    used = true;
    while (!probed && probing) await probing;
    if (refused) return refused;
    const tried = kind;
    const pending = op(tried);
    if (!probed) probing = pending.then(() => (probing = undefined), () => (probing = undefined));
    const out = await pending;
    if (!out.ok && out.reason === 'no-reflink') {
      if (mode !== 'auto') {
        refused ??= { ...out, kind: tried };
        return refused;
      }
      // auto: this filesystem can't clone; hard links from now on (several calls may have asked at once).
      kind = 'hardlink';
      probed = true;
      return { ...(await op('hardlink')), kind: 'hardlink' };
    }
    if (out.ok && tried === kind) probed = true;
    return { ...out, kind: tried };
  };
  return {
    mode,
    settled: () => (used && probed && !refused ? kind : undefined),
    refused: () => refused,
    replace: (object, target, expected) => attempt((k) => replaceWithLink(object, target, k, expected)),
    create: (object, target, fileMode) => attempt((k) => createLink(object, target, k, fileMode)),
  };
}
