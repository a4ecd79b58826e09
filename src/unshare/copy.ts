/**
 * Giving a linked venv file a private copy again, atomically, by the linker's
 * rules (src/fs/link.ts): the copy is written under a unique temp name in the
 * same folder, the original is stat-ed again and compared with what was
 * observed, and only then is the temp renamed over it. The path is never
 * missing, not even for an instant.
 *
 * The copy is a new file written byte by byte (never a link or a clone), so it
 * is a separate inode with st_nlink 1; it gets the mode CPython gives a pyc it
 * writes and the original's owner and times.
 *
 * No fsync: if the machine crashes before the data reaches the disk, the pyc
 * may come back empty or zeroed, which CPython rejects (EOFError / bad magic)
 * and replaces by compiling the source, as it does for any broken pyc.
 */
import { closeSync, fchmodSync, fchownSync, futimesSync, lstatSync, openSync, readFileSync, renameSync, unlinkSync, writeSync, type BigIntStats } from 'node:fs';
import { errnoCode } from '../errors.js';
import { fingerprintOf, sameFingerprint, type Fingerprint } from '../fs/fingerprint.js';
import type { LinkKind } from '../ledger/ledger.js';
import { swapTempPath } from '../store/location.js';

export type CopyOutcome =
  | { readonly ok: true; readonly stat: BigIntStats }
  | { readonly ok: false; readonly reason: 'changed' | 'error'; readonly detail: string };

/**
 * Is `st` still the file that was observed as `expected`? A hard link's ctime
 * moves whenever another name of its inode is added or removed (unsharing its
 * siblings does that), and its content can't change (objects are never
 * written), so the inode, size and mtime identify it. A reflink is its own
 * inode: all of its fingerprint must match.
 */
function unchanged(st: BigIntStats, expected: Fingerprint, kind: LinkKind): boolean {
  if (!st.isFile()) return false;
  const fp = fingerprintOf(st);
  return sameFingerprint(kind === 'hardlink' ? { ...fp, ctimeNs: expected.ctimeNs } : fp, expected);
}

export function makePrivateCopy(
  target: string,
  expected: Fingerprint,
  kind: LinkKind,
  mode: number,
  owner: { uid: number; gid: number },
): CopyOutcome {
  let tmp: string | undefined;
  try {
    const before = lstatSync(target, { bigint: true });
    if (!unchanged(before, expected, kind)) return { ok: false, reason: 'changed', detail: 'the file changed since it was looked at' };
    const bytes = readFileSync(target);
    if (bytes.length !== expected.size) return { ok: false, reason: 'changed', detail: 'the file changed while it was read' };
    tmp = swapTempPath(target);
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fchmodSync(fd, mode);
      if (process.platform !== 'win32' && process.geteuid?.() === 0 && owner.uid >= 0) fchownSync(fd, owner.uid, owner.gid);
      futimesSync(fd, new Date(Number(before.atimeMs)), new Date(Number(before.mtimeMs)));
    } finally {
      closeSync(fd);
    }
    // The last look before the swap.
    const now = lstatSync(target, { bigint: true });
    if (!unchanged(now, expected, kind)) return { ok: false, reason: 'changed', detail: 'the file changed while its copy was made' };
    renameSync(tmp, target);
    tmp = undefined;
    return { ok: true, stat: lstatSync(target, { bigint: true }) };
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') return { ok: false, reason: 'changed', detail: 'the file disappeared meanwhile' };
    return { ok: false, reason: 'error', detail: code ?? String(err) };
  } finally {
    if (tmp !== undefined) {
      try {
        unlinkSync(tmp);
      } catch {
        // never created
      }
    }
  }
}
