import { chmodSync, chownSync, mkdirSync, mkdtempSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRoot, REQUIRE, requireOrSkip } from '../helpers/require.js';
import { PycstoreError } from '../../src/errors.js';
import { checkPrivateDir, ensurePrivateDir } from '../../src/store/permissions.js';
import { runCli } from '../helpers/cli.js';

const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'pycstore-perm-'));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof PycstoreError ? e.code : 'not-a-PycstoreError';
  }
  return undefined;
}

describe('store permissions', () => {
  it('creates the store 0700', () => {
    const dir = path.join(tmp(), 'store');
    ensurePrivateDir(dir, 'store');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('refuses a store writable by group or others, and says how to fix it', async () => {
    const dir = path.join(tmp(), 'store');
    mkdirSync(dir);
    chmodSync(dir, 0o775);
    expect(codeOf(() => checkPrivateDir(dir, 'store'))).toBe('ESTOREPERM');
    const r = await runCli(['--store', dir, 'dedup', tmp()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/writable by group or others/);
    expect(r.stderr).toMatch(/chmod go-w/);
  });

  it('refuses a store owned by another user (as root: a store chowned to nobody)', async (ctx) => {
    requireOrSkip(ctx, REQUIRE.root, 'a store owned by another user', isRoot ? undefined : 'needs root to chown a folder to another user');
    const dir = path.join(tmp(), 'store');
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, 65534, 65534);
    expect(codeOf(() => checkPrivateDir(dir, 'store'))).toBe('ESTOREPERM');
    const r = await runCli(['--store', dir, '--json', 'status']);
    expect(r.code).toBe(2);
    expect(r.json?.['error']?.code).toBe('ESTOREPERM');
    expect(r.stderr).toMatch(/owned by uid 65534/);
  });
});
