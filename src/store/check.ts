/**
 * Checking one store object on disk: is it there, a regular file, read-only,
 * and does its content still hash to its address? Shared by `verify` (which
 * then records what it found) and `audit` (which only reports).
 *
 * Re-hashing is the expensive part, so by default an object is re-hashed only
 * when its inode, mtime or ctime differ from what the ledger recorded when it
 * was written or last verified (`objects.dev/ino/mtime_ns/ctime_ns`): any
 * write through the filesystem moves mtime and ctime. Damage below the
 * filesystem (bit rot) moves neither, which is what `full` (re-hash every
 * object) is for.
 */
import { readFileSync, type BigIntStats } from 'node:fs';
import { errnoCode } from '../errors.js';
import { fingerprintOf, sameFingerprint, type Fingerprint } from '../fs/fingerprint.js';
import { tryLstat } from '../fs/stat.js';
import { xxh64Hex } from '../hash/xxhash.js';
import type { ObjectKey } from '../hash/key.js';

export type ObjectCheck =
  /** No file at the object's address. */
  | { readonly state: 'missing' }
  /** Could not look (EACCES, EIO, …): neither good nor bad. */
  | { readonly state: 'unreadable'; readonly reason: string }
  /** Something other than a regular file sits at the address. */
  | { readonly state: 'not-file'; readonly stat: BigIntStats }
  /** Not re-hashed: inode and times are those recorded. */
  | { readonly state: 'unchanged'; readonly stat: BigIntStats; readonly writable: boolean }
  /** Re-hashed and it matches its address. `stable`: the file did not change while it was read. */
  | { readonly state: 'ok'; readonly stat: BigIntStats; readonly writable: boolean; readonly bytes: number; readonly stable: boolean }
  /** Re-hashed and it does not match its address: what its content hashes to instead. */
  | { readonly state: 'corrupt'; readonly stat: BigIntStats; readonly writable: boolean; readonly bytes: number; readonly found: ObjectKey };

/** Any write bit set: the object lost its read-only mode (0444). */
function isWritable(st: BigIntStats): boolean {
  return (Number(st.mode) & 0o222) !== 0;
}

/**
 * Check the object file `file` that should hold the address `key`; `recorded` is its inode, size and
 * times as last recorded (the ledger's row). `initHash()` must have been awaited.
 */
export function checkObject(key: ObjectKey, recorded: Fingerprint, file: string, full: boolean): ObjectCheck {
  let st: BigIntStats | undefined;
  try {
    st = tryLstat(file);
  } catch (err) {
    return { state: 'unreadable', reason: `cannot stat: ${errnoCode(err) ?? String(err)}` };
  }
  if (!st) return { state: 'missing' };
  if (!st.isFile()) return { state: 'not-file', stat: st };
  const writable = isWritable(st);
  if (!full && sameFingerprint(fingerprintOf(st), recorded)) return { state: 'unchanged', stat: st, writable };
  let content: Buffer;
  try {
    content = readFileSync(file);
  } catch (err) {
    // Vanished between lstat and read (gc, or a concurrent repair), or unreadable.
    const code = errnoCode(err);
    return code === 'ENOENT' ? { state: 'missing' } : { state: 'unreadable', reason: `cannot read: ${code ?? String(err)}` };
  }
  let after: BigIntStats | undefined;
  try {
    after = tryLstat(file);
  } catch {
    after = undefined;
  }
  const stable = after !== undefined && sameFingerprint(fingerprintOf(after), fingerprintOf(st));
  const found: ObjectKey = { hash: xxh64Hex(content), size: content.length };
  if (found.hash === key.hash && found.size === key.size) {
    return { state: 'ok', stat: after ?? st, writable, bytes: content.length, stable };
  }
  return { state: 'corrupt', stat: st, writable, bytes: content.length, found };
}

/** Does a file's content hash to this address? (reads it; false when unreadable) */
export function holdsAddress(file: string, key: ObjectKey): boolean {
  try {
    const content = readFileSync(file);
    return content.length === key.size && xxh64Hex(content) === key.hash;
  } catch {
    return false;
  }
}
