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
import fs, { readFileSync, type BigIntStats } from 'node:fs';
import { link, lstat, mkdir, unlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import path from 'node:path';
import { PycstoreError, errnoCode } from '../errors.js';
import { type ObjectKey, keyString } from '../hash/key.js';
import { objectPath, objectTempPath, shardDir, tmpDir } from './location.js';

export const OBJECT_MODE = 0o444;

export interface PutResult {
  readonly path: string;
  readonly created: boolean;
  /**
   * The object file's stat: for one this call wrote, taken before its name was added (its ctime
   * moves with every name added; the caller records the final one after linking).
   */
  readonly stat: BigIntStats;
}

export interface PutOptions {
  /** fdatasync the object before linking it into place (default); false: the caller makes it durable (store/durable.ts). */
  readonly sync?: boolean;
  /** Folders this run has already made (the shard and tmp folders are made once per run, not per object). */
  readonly madeDirs?: Set<string>;
}

/** Byte equality of two buffers. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

async function makeDir(dir: string, made: Set<string> | undefined): Promise<void> {
  if (made?.has(dir)) return;
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    // A recursive mkdir whose parent failed (ENOSPC, EDQUOT) says ENOENT: make the parent alone, to get its real error.
    if (errnoCode(err) !== 'ENOENT') throw err;
    await mkdir(path.dirname(dir), { recursive: true, mode: 0o700 });
    await mkdir(dir, { recursive: true, mode: 0o700 });
  }
  made?.add(dir);
}

async function removeQuietly(p: string): Promise<void> {
  try {
    await unlink(p);
  } catch {
    // already gone
  }
}

/** One file descriptor's calls, through the libuv pool without a FileHandle (each of those costs this thread more than the write). */
const fd = {
  open: promisify(fs.open),
  write: promisify(fs.write),
  datasync: promisify(fs.fdatasync),
  chmod: promisify(fs.fchmod),
  stat: promisify(fs.fstat) as (fd: number, o: { bigint: true }) => Promise<BigIntStats>,
  close: promisify(fs.close),
};

/** Write `bytes` to a new temp file (exclusively created; the next name if one is taken), read-only. */
async function writeTemp(rootDir: string, bytes: Uint8Array, sync: boolean): Promise<{ tmp: string; stat: BigIntStats }> {
  for (let tries = 0; ; tries++) {
    const tmp = objectTempPath(rootDir);
    let h: number;
    try {
      h = await fd.open(tmp, 'wx', 0o600);
    } catch (err) {
      if (errnoCode(err) === 'EEXIST' && tries < 8) continue; // left by a crashed process with our pid
      throw err;
    }
    try {
      let off = 0;
      while (off < bytes.length) off += (await fd.write(h, bytes, off, bytes.length - off)).bytesWritten;
      if (sync) await fd.datasync(h); // else the caller makes it durable (store/durable.ts) before linking to it
      await fd.chmod(h, OBJECT_MODE);
      const stat = await fd.stat(h, { bigint: true });
      await fd.close(h);
      return { tmp, stat };
    } catch (err) {
      await fd.close(h).catch(() => undefined);
      await removeQuietly(tmp);
      throw err;
    }
  }
}

/**
 * Make sure the object `key` (replica `replica`) exists in `rootDir` with exactly `bytes`.
 * Throws EINTEGRITY if a different content already sits at that address. An existing object is
 * found by link(2) failing with EEXIST (no look beforehand), then compared byte for byte.
 */
export async function putObject(rootDir: string, key: ObjectKey, bytes: Uint8Array, replica = 0, opts: PutOptions = {}): Promise<PutResult> {
  if (bytes.length !== key.size) {
    throw new PycstoreError('EINTERNAL', `object ${keyString(key)} given ${bytes.length} bytes`);
  }
  const target = objectPath(rootDir, key, replica);
  await makeDir(shardDir(rootDir, key), opts.madeDirs);
  await makeDir(tmpDir(rootDir), opts.madeDirs);
  const { tmp, stat } = await writeTemp(rootDir, bytes, opts.sync ?? true);
  try {
    await link(tmp, target);
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
    // Someone else wrote it first (or an earlier run): theirs stands if it is the same content.
    const st = await lstat(target, { bigint: true });
    return { path: target, created: false, stat: checkExisting(target, st, bytes, key) };
  } finally {
    await removeQuietly(tmp);
  }
  return { path: target, created: true, stat };
}

/** An object file found at its address: a regular file holding exactly `bytes`, else EINTEGRITY. */
export function checkExisting(target: string, st: BigIntStats, bytes: Uint8Array, key: ObjectKey, onDisk: Uint8Array = readFileSync(target)): BigIntStats {
  if (!st.isFile()) {
    throw new PycstoreError('EINTEGRITY', `store object ${target} is not a regular file`, {
      hint: 'run: pycstore verify --repair',
      data: { path: target },
    });
  }
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
