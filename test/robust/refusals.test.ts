/**
 * Refusals before any work: the folders above the store (OpenSSH-style), reflinks asked for where
 * the store can't clone (a real ext4 image refused, a real XFS reflink=1 image accepted), and the
 * store path checks made without creating anything.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PycstoreError } from '../../src/errors.js';
import { probeReflink } from '../../src/fs/reflink-probe.js';
import { checkAncestors, ensurePrivateDir, foreignWriter, preflightPrivateDir } from '../../src/store/permissions.js';
import { runCli } from '../helpers/cli.js';
import { useLoopFs } from '../helpers/loopfs.js';
import { REQUIRE, requireOrSkip } from '../helpers/require.js';
import { snapshot } from '../helpers/venv.js';
import { expectCleanError, makePkgTree } from './helpers.js';

let work: string;
beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'pycstore-refusals-'));
  chmodSync(work, 0o755);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof PycstoreError ? e.code : `not a PycstoreError: ${String(e)}`;
  }
  return undefined;
}

const root = process.geteuid?.() === 0;

describe('the folders above the store (as OpenSSH checks the folders above its keys)', () => {
  it('the rule: owned by you or root, and nobody else may write unless sticky', () => {
    expect(foreignWriter({ uid: 0, mode: 0o40755 }, 1000)).toBeUndefined();
    expect(foreignWriter({ uid: 1000, mode: 0o40700 }, 1000)).toBeUndefined();
    expect(foreignWriter({ uid: 0, mode: 0o41777 }, 1000)).toBeUndefined(); // /tmp
    expect(foreignWriter({ uid: 1000, mode: 0o41777 }, 1000)).toBeUndefined(); // sticky and yours
    expect(foreignWriter({ uid: 0, mode: 0o40777 }, 1000)).toBe('mode');
    expect(foreignWriter({ uid: 0, mode: 0o40775 }, 1000)).toBe('mode');
    expect(foreignWriter({ uid: 2000, mode: 0o41777 }, 1000)).toBe('owner'); // sticky but someone else's: they may delete anything
    expect(foreignWriter({ uid: 2000, mode: 0o40755 }, 1000)).toBe('owner');
  });

  it('refuses a store below a 0777 folder that is not sticky, says the chmod, and creates nothing', async () => {
    const open = path.join(work, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const store = path.join(open, 'deeper', 'store');
    expect(codeOf(() => checkAncestors(store, 'store'))).toBe('ESTOREPERM');
    expect(codeOf(() => ensurePrivateDir(store, 'store'))).toBe('ESTOREPERM');
    const tree = path.join(work, 'tree-open');
    makePkgTree(tree);
    const r = await runCli(['--store', store, '--json', 'dedup', tree]);
    expect(r.code).toBe(2);
    expect(r.json?.['error']?.code).toBe('ESTOREPERM');
    expect(r.stderr).toContain(`chmod go-w '${open}'`);
    expectCleanError(r.stderr);
    expect(existsSync(path.join(open, 'deeper'))).toBe(false);
    // A store that exists already is refused the same way, by every command.
    chmodSync(open, 0o755);
    expect((await runCli(['--store', store, 'dedup', tree])).code).toBe(0);
    chmodSync(open, 0o777);
    for (const args of [['status'], ['gc'], ['verify'], ['audit'], ['unshare', '--all']]) {
      const c = await runCli(['--store', store, '--json', ...args]);
      expect(c.code, `${args[0]}: ${c.stderr}`).toBe(2);
      expect(c.json?.['error']?.code).toBe('ESTOREPERM');
    }
  });

  it('accepts a store in a /tmp-like folder (1777, owned by root)', async () => {
    const shared = path.join(work, 'shared-tmp');
    mkdirSync(shared);
    chmodSync(shared, 0o1777);
    expect(statSync(shared).mode & 0o7777).toBe(0o1777);
    const store = path.join(shared, 'store');
    const tree = path.join(work, 'tree-sticky');
    makePkgTree(tree);
    const r = await runCli(['--store', store, 'dedup', tree]);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(store).mode & 0o777).toBe(0o700);
  });

  it('refuses a folder above the store owned by another user, even sticky', (ctx) => {
    requireOrSkip(ctx, REQUIRE.root, 'a folder owned by another user', root ? undefined : 'needs root to chown a folder to uid 65534');
    const theirs = path.join(work, 'theirs');
    mkdirSync(theirs, { mode: 0o755 });
    chownSync(theirs, 65534, 65534);
    expect(codeOf(() => preflightPrivateDir(path.join(theirs, 'store'), 'store'))).toBe('ESTOREPERM');
    chmodSync(theirs, 0o1777);
    expect(codeOf(() => preflightPrivateDir(path.join(theirs, 'store'), 'store'))).toBe('ESTOREPERM');
  });

  it('follows symlinks on the way: a symlinked store path is checked where it really is too', () => {
    const open = path.join(work, 'open-real');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const link = path.join(work, 'link-to-open');
    execFileSync('ln', ['-s', open, link]);
    expect(codeOf(() => preflightPrivateDir(path.join(link, 'store'), 'store'))).toBe('ESTOREPERM');
  });
});

describe('--link-mode reflink is refused up front where the store cannot clone', () => {
  const ext4 = useLoopFs('ext4', { sizeMiB: 64 });
  const xfs = useLoopFs('xfs');

  it('ext4: the probe says no, dedup exits 2 once, writes no object, registers no root, leaves no probe file', async (ctx) => {
    const fs = ext4.require(ctx);
    expect(probeReflink(fs.mountpoint)).toMatchObject({ ok: false });
    const trees = ['A', 'B'].map((n) => path.join(fs.mountpoint, 'ext4-trees', n));
    for (const t of trees) makePkgTree(t);
    const before = snapshot(path.join(fs.mountpoint, 'ext4-trees'));
    const store = path.join(fs.mountpoint, 'store');
    const r = await runCli(['--store', store, '--json', 'dedup', '--link-mode', 'reflink', ...trees]);
    expect(r.code).toBe(2);
    expect(r.json?.['error']?.code).toBe('ENOREFLINK');
    expect(r.stderr).not.toMatch(/warning/);
    expectCleanError(r.stderr);
    expect(existsSync(store)).toBe(false);
    expect(snapshot(path.join(fs.mountpoint, 'ext4-trees'))).toEqual(before);
    expect(readdirSync(fs.mountpoint).filter((n) => n.startsWith('.pycstore-'))).toEqual([]);
    // An existing store is probed in place, and keeps its roots as they were.
    expect((await runCli(['--store', store, 'dedup', trees[0]!])).code).toBe(0);
    const again = await runCli(['--store', store, '--json', 'dedup', '--link-mode', 'reflink', trees[1]!]);
    expect(again.code).toBe(2);
    const status = await runCli(['--store', store, '--json', 'status']);
    expect(status.json?.['rootPaths']).toEqual([trees[0]]);
  });

  it('XFS (reflink=1): the probe says yes, dedup makes reflinks and exits 0', async (ctx) => {
    const fs = xfs.require(ctx);
    expect(probeReflink(fs.mountpoint)).toMatchObject({ ok: true });
    expect(probeReflink(path.join(fs.mountpoint, 'not', 'yet'))).toMatchObject({ ok: true, dir: fs.mountpoint });
    const trees = ['A', 'B'].map((n) => path.join(fs.mountpoint, 'xfs-trees', n));
    for (const t of trees) makePkgTree(t);
    const store = path.join(fs.mountpoint, 'store');
    const r = await runCli(['--store', store, '--json', 'dedup', '--link-mode', 'reflink', ...trees]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json?.['linkKinds']).toEqual({ [store]: 'reflink' });
    expect(readdirSync(fs.mountpoint).filter((n) => n.startsWith('.pycstore-'))).toEqual([]);
    expect(readdirSync(store).filter((n) => n.startsWith('.pycstore-'))).toEqual([]);
  });
});
