import { appendFileSync, chmodSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PycstoreError } from '../../src/errors.js';
import { initHash, xxh64Hex } from '../../src/hash/xxhash.js';
import { parseObjectFileName, objectFileName } from '../../src/store/location.js';
import { objectPath, tmpDir } from '../../src/store/location.js';
import { putObject } from '../../src/store/objects.js';

const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'pycstore-obj-'));
beforeAll(() => initHash());

describe('objects', () => {
  it('writes an object read-only at its address, leaving no temp file', () => {
    const root = tmp();
    const bytes = Buffer.from('hello pyc');
    const key = { hash: xxh64Hex(bytes), size: bytes.length };
    const r = putObject(root, key, bytes);
    expect(r.created).toBe(true);
    expect(r.path).toBe(objectPath(root, key));
    expect(readFileSync(r.path)).toEqual(bytes);
    expect(lstatSync(r.path).mode & 0o777).toBe(0o444);
    expect(readdirSync(tmpDir(root))).toEqual([]);
  });

  it('treats "already there" as success only for the same bytes', () => {
    const root = tmp();
    const bytes = Buffer.from('abcdef');
    const key = { hash: xxh64Hex(bytes), size: bytes.length };
    putObject(root, key, bytes);
    expect(putObject(root, key, bytes).created).toBe(false);
    // Same address, one byte different (a forced collision): refused, and the object is untouched.
    const other = Buffer.from('abcdeg');
    let err: unknown;
    try {
      putObject(root, key, other);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PycstoreError);
    expect((err as PycstoreError).code).toBe('EINTEGRITY');
    expect(readFileSync(objectPath(root, key))).toEqual(bytes);
  });

  it('refuses an object corrupted on disk', () => {
    const root = tmp();
    const bytes = Buffer.from('0123456789');
    const key = { hash: xxh64Hex(bytes), size: bytes.length };
    const r = putObject(root, key, bytes);
    chmodSync(r.path, 0o644);
    appendFileSync(r.path, 'x');
    expect(() => putObject(root, key, bytes)).toThrow(/does not hold the content/);
  });

  it('names replicas and parses names back', () => {
    const key = { hash: '0123456789abcdef', size: 42 };
    expect(objectFileName(key, 0)).toBe('0123456789abcdef-42');
    expect(objectFileName(key, 2)).toBe('0123456789abcdef-42.r2');
    expect(parseObjectFileName('0123456789abcdef-42.r2')).toEqual({ key, replica: 2 });
    expect(parseObjectFileName('junk')).toBeUndefined();
    const root = tmp();
    const bytes = Buffer.alloc(42, 1);
    const k = { hash: xxh64Hex(bytes), size: 42 };
    putObject(root, k, bytes, 1);
    expect(existsSync(objectPath(root, k, 1))).toBe(true);
    expect(existsSync(objectPath(root, k, 0))).toBe(false);
  });
});
