/**
 * The blob layer: write an object at its address, read it back, check it.
 *
 * Writing: temp file in the root's tmp dir (O_EXCL, fdatasync unless the caller
 * batches durability with store/durable.ts, mode 0444),
 * then link(2) to its address and unlink the temp. link, unlike rename, never
 * replaces an existing file, so two concurrent writers of the same address can't
 * swap an inode from under links the other already made; "already exists" is
 * success only after a byte-for-byte comparison.
 */
import { closeSync, fdatasyncSync, fchmodSync, linkSync, lstatSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync, type BigIntStats } from 'node:fs';
import path from 'node:path';
import { PycstoreError, errnoCode } from '../errors.js';
import { tryLstat } from '../fs/stat.js';
import { type ObjectKey, keyString } from '../hash/key.js';
import { objectPath, objectTempPath, shardDir, tmpDir } from './location.js';

export const OBJECT_MODE = 0o444;

export interface PutResult {
  readonly path: string;
  readonly created: boolean;
  readonly stat: BigIntStats;
}

/** Byte equality of two buffers. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

/**
 * Make sure the object `key` (replica `replica`) exists in `rootDir` with exactly `bytes`.
 * Throws EINTEGRITY if a different content already sits at that address.
 */
export function putObject(rootDir: string, key: ObjectKey, bytes: Uint8Array, replica = 0, opts: { sync?: boolean } = {}): PutResult {
  if (bytes.length !== key.size) {
    throw new PycstoreError('EINTERNAL', `object ${keyString(key)} given ${bytes.length} bytes`);
  }
  const target = objectPath(rootDir, key, replica);
  const existing = tryLstat(target);
  if (existing) return { path: target, created: false, stat: checkExisting(target, existing, bytes, key) };

  makeDir(shardDir(rootDir, key));
  makeDir(tmpDir(rootDir));
  const tmp = objectTempPath(rootDir);
  try {
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      if (opts.sync ?? true) fdatasyncSync(fd); // else the caller makes it durable (store/durable.ts) before linking to it
      fchmodSync(fd, OBJECT_MODE);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(tmp, target);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
      // Someone else wrote it first: theirs stands if it is the same content.
      const st = lstatSync(target, { bigint: true });
      return { path: target, created: false, stat: checkExisting(target, st, bytes, key) };
    }
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  }
  return { path: target, created: true, stat: lstatSync(target, { bigint: true }) };
}

/** mkdir -p; a recursive mkdir whose parent could not be made (ENOSPC, EDQUOT) says ENOENT: make the parent alone, for its real error. */
function makeDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
    mkdirSync(path.dirname(dir), { recursive: true, mode: 0o700 });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
}

function checkExisting(target: string, st: BigIntStats, bytes: Uint8Array, key: ObjectKey): BigIntStats {
  if (!st.isFile()) {
    throw new PycstoreError('EINTEGRITY', `store object ${target} is not a regular file`, {
      hint: 'run: pycstore verify --repair',
      data: { path: target },
    });
  }
  const onDisk = readFileSync(target);
  if (!sameBytes(onDisk, bytes)) {
    throw new PycstoreError('EINTEGRITY', `store object ${target} does not hold the content of its address ${keyString(key)}`, {
      hint: 'a hash collision or a corrupted object; run: pycstore verify --full',
      data: { path: target, expected: keyString(key), foundSize: onDisk.length },
    });
  }
  return st;
}

export function readObject(rootDir: string, key: ObjectKey, replica = 0): Buffer {
  return readFileSync(objectPath(rootDir, key, replica));
}
