/**
 * "Is this store root usable?" has one answer for every command: a store root
 * on another filesystem that is not mounted any more (its mount point is an
 * empty folder of the parent filesystem now) is not. gc keeps its objects
 * unchecked, audit and verify don't check them (no "missing-object"), dedup
 * skips the files of that filesystem, and each says so.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { isRoot, REQUIRE, requireOrSkip } from '../helpers/require.js';
import { cpCopies, isPyc, listFiles, makeVenv } from '../helpers/venv.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'pycstore-roots-'));
let mounted: string | undefined;
afterAll(() => {
  if (mounted) execFileSync('umount', [mounted]);
  rmSync(work, { recursive: true, force: true });
});

describe('a store root whose filesystem is not mounted', () => {
  it('is unusable for gc, audit, verify and dedup alike: kept, not checked, and each says so', async (ctx) => {
    requireOrSkip(ctx, REQUIRE.root, 'an unmounted store root', isRoot ? undefined : 'needs root to mount and unmount a tmpfs');
    const template = makeVenv(path.join(work, 'template'));
    const [a] = cpCopies(template, path.join(work, 'main'), ['A']) as [string];
    const mnt = path.join(work, 'mnt');
    execFileSync('mkdir', ['-p', mnt]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256m,mode=0700', 'tmpfs', mnt]);
    mounted = mnt;
    const [b] = cpCopies(template, path.join(mnt, 'venvs'), ['B']) as [string];
    const store = path.join(work, 'store');
    const root = mnt; // the mount point itself: once unmounted, an empty folder of another filesystem is there
    const d = await runCli(['--store', store, '--json', 'dedup', '--store-root', root, a, b]);
    expect(d.code, d.stderr).toBe(0);
    expect(d.json!['linked']).toBe(listFiles(a, isPyc).length + listFiles(b, isPyc).length);

    execFileSync('umount', [mnt]);
    mounted = undefined;

    const g = await runCli(['--store', store, '--json', 'gc', '--grace', '0']);
    expect(g.code, g.stderr).toBe(0);
    expect(g.json).toMatchObject({ unreachableStoreRoots: [root], objectsDeleted: 0, failures: [] });
    expect(g.json!['objectsUnverified']).toBeGreaterThan(0);
    expect(g.stderr).toMatch(/store root .*mnt: not the filesystem it was registered on/);

    const au = await runCli(['--store', store, '--json', 'audit', a]);
    expect(au.code, au.stderr).toBe(0);
    expect(au.json!['anomalies']).toEqual([]); // not "missing-object" for every object of the unmounted root
    const all = await runCli(['--store', store, '--json', 'audit']);
    expect(all.json!['anomalies'].filter((x: { kind: string }) => x.kind === 'missing-object')).toEqual([]);
    expect(all.stderr).toMatch(/store root .*mnt: not the filesystem it was registered on.*its objects are not checked/);

    const v = await runCli(['--store', store, '--json', 'verify']);
    expect(v.code, v.stderr).toBe(0);
    expect(v.json).toMatchObject({ missing: [], corrupt: [] });
    expect(v.stderr).toMatch(/its objects are not checked/);

    const again = await runCli(['--store', store, '--json', 'dedup', a]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/files on its filesystem are skipped/);
  });
});
