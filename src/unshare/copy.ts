/**
 * Giving a linked venv file a private copy again, atomically, by the one swap
 * (src/fs/swap.ts): the copy is written under a unique temp name in the
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
import { closeSync, fchmodSync, fchownSync, futimesSync, lstatSync, openSync, readFileSync, writeSync, type BigIntStats } from 'node:fs';
import { errnoCode } from '../errors.js';
import { fingerprintOf, sameFingerprint, type Fingerprint } from '../fs/fingerprint.js';
import type { LinkKind } from '../fs/link.js';
import { swapIn } from '../fs/swap.js';

export type CopyOutcome =
  | { readonly ok: true; readonly stat: BigIntStats }
  | { readonly ok: false; readonly reason: 'changed' | 'error'; readonly detail: string };

type CopyFailed = Extract<CopyOutcome, { ok: false }>;

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

/** Write `bytes` to the new file `tmp` with the mode, owner and times a pyc CPython wrote would have. */
function writeCopy(tmp: string, bytes: Uint8Array, mode: number, owner: { uid: number; gid: number }, before: BigIntStats): void {
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
}

export async function makePrivateCopy(
  target: string,
  expected: Fingerprint,
  kind: LinkKind,
  mode: number,
  owner: { uid: number; gid: number },
  /** The bytes the copy gets, from the linked file's (e.g. its remembered header restored). */
  rewrite: (bytes: Uint8Array) => Uint8Array = (b) => b,
): Promise<CopyOutcome> {
  const out = await swapIn<CopyFailed>(
    target,
    async (tmp) => {
      const before = lstatSync(target, { bigint: true });
      if (!unchanged(before, expected, kind)) return { ok: false, reason: 'changed', detail: 'the file changed since it was looked at' };
      const bytes = readFileSync(target);
      if (bytes.length !== expected.size) return { ok: false, reason: 'changed', detail: 'the file changed while it was read' };
      try {
        writeCopy(tmp, rewrite(bytes), mode, owner, before);
      } catch (err) {
        if (errnoCode(err) === 'EEXIST') return 'EEXIST'; // a crashed run's temp of the same name: take another
        throw err;
      }
      return undefined;
    },
    // The last look before the swap.
    (st) => unchanged(st, expected, kind),
  );
  if (out.ok) return { ok: true, stat: lstatSync(target, { bigint: true }) }; // the private copy, now at the path
  if ('detail' in out) return out;
  if (out.reason === 'changed') {
    return { ok: false, reason: 'changed', detail: out.errno === 'ENOENT' ? 'the file disappeared meanwhile' : 'the file changed while its copy was made' };
  }
  return { ok: false, reason: 'error', detail: out.errno };
}
