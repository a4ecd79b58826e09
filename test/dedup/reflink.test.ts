/**
 * Reflinks for real, on loop-mounted XFS (mkfs.xfs -m reflink=1) and btrfs
 * images: each venv file keeps its own inode and shares its extents with the
 * store object (filefrag -v says "shared"). Needs root and xfsprogs/btrfs-progs
 * (.ci/run installs them); where that isn't possible the tests say so and skip.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { useLoopFs } from '../helpers/loopfs.js';
import { isPyc, listFiles, makeVenv, runInVenv, snapshot } from '../helpers/venv.js';

let work: string;
let template: string;
beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'pycstore-reflink-'));
  template = makeVenv(path.join(work, 'template'));
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

const IMPORT_PIP = 'import pip, pip._internal.cli.main; print(pip.__file__)';

function sharedExtents(file: string): boolean {
  return /\bshared\b/.test(execFileSync('filefrag', ['-v', file]).toString());
}

for (const kind of ['xfs', 'btrfs'] as const) {
  describe(`reflinks on ${kind}`, () => {
    const lf = useLoopFs(kind, { sizeMiB: kind === 'xfs' ? 400 : 512 });

    it(`--link-mode reflink keeps each venv's own inode and shares the extents`, async (ctx) => {
      const fs = lf.require(ctx);
      const venvs = ['A', 'B', 'C'].map((n) => path.join(fs.mountpoint, 'reflink', n));
      for (const v of venvs) {
        mkdirSync(path.dirname(v), { recursive: true });
        execFileSync('cp', ['-a', template, v]);
      }
      const store = path.join(fs.mountpoint, 'store');
      const before = listFiles(venvs[0]!, isPyc);
      const r = await runCli(['--store', store, '--json', 'dedup', '--link-mode', 'reflink', ...venvs]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json).toMatchObject({ linked: before.length * 3, linkKinds: { [store]: 'reflink' } });

      const per = venvs.map((v) => listFiles(v, isPyc));
      for (let i = 0; i < before.length; i++) {
        const inodes = new Set(per.map((files) => files[i]!.ino));
        expect(inodes.size, per[0]![i]!.path).toBe(3); // every venv keeps its own inode
        for (const files of per) {
          expect(files[i]!.nlink).toBe(1n);
          expect(files[i]!.mode & 0o777n).toBe(before[i]!.mode & 0o777n); // the original's mode, not the store's 0444
        }
      }
      // The extents are shared with the store object (btrfs keeps files under 2 KiB inline, never shared).
      const big = per[1]!.filter((f) => f.size > 8192).slice(0, 20);
      expect(big.length).toBeGreaterThan(5);
      for (const f of big) expect(sharedExtents(f.path), f.path).toBe(true);

      for (const v of venvs) expect(runInVenv(v, IMPORT_PIP)).toContain(v);
      const after = venvs.map((v) => listFiles(v, isPyc).map((f) => f.ino));
      expect(after).toEqual(per.map((files) => files.map((f) => f.ino))); // imports rewrote nothing

      const r2 = await runCli(['--store', store, '--json', 'dedup', '--link-mode', 'reflink', ...venvs]);
      expect(r2.json).toMatchObject({ linked: 0, bytesRead: 0, shared: before.length * 3 });
    });

    it('auto picks reflinks here', async (ctx) => {
      const fs = lf.require(ctx);
      const venvs = ['A', 'B'].map((n) => path.join(fs.mountpoint, 'auto', n));
      for (const v of venvs) {
        mkdirSync(path.dirname(v), { recursive: true });
        execFileSync('cp', ['-a', template, v]);
      }
      const store = path.join(fs.mountpoint, 'store-auto');
      const r = await runCli(['--store', store, '--json', 'dedup', ...venvs]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json!['linkKinds']).toEqual({ [store]: 'reflink' });
      const a = listFiles(venvs[0]!, isPyc);
      const b = listFiles(venvs[1]!, isPyc);
      expect(a[0]!.ino).not.toBe(b[0]!.ino);
    });
  });
}

describe('reflinks where the filesystem has none (ext4)', () => {
  const lf = useLoopFs('ext4', { sizeMiB: 256 });
  it('--link-mode reflink is refused up front (exit 2) and changes nothing; auto falls back to hard links', async (ctx) => {
    const fs = lf.require(ctx);
    const venvs = ['A', 'B'].map((n) => path.join(fs.mountpoint, 'noreflink', n));
    for (const v of venvs) {
        mkdirSync(path.dirname(v), { recursive: true });
        execFileSync('cp', ['-a', template, v]);
      }
    const store = path.join(fs.mountpoint, 'store');
    const before = snapshot(path.join(fs.mountpoint, 'noreflink'));
    const r = await runCli(['--store', store, '--json', 'dedup', '--link-mode', 'reflink', ...venvs]);
    expect(r.code).toBe(2);
    expect(r.json!['error']['code']).toBe('ENOREFLINK');
    expect(r.stderr).toMatch(/can't make reflinks/);
    expect(existsSync(store)).toBe(false);
    expect(snapshot(path.join(fs.mountpoint, 'noreflink'))).toEqual(before);

    const auto = await runCli(['--store', store, '--json', 'dedup', ...venvs]);
    expect(auto.code, auto.stderr).toBe(0);
    expect(auto.json!['linkKinds']).toEqual({ [store]: 'hardlink' });
    const a = listFiles(venvs[0]!, isPyc);
    const b = listFiles(venvs[1]!, isPyc);
    expect(a.map((f) => f.ino)).toEqual(b.map((f) => f.ino));
  });
});
