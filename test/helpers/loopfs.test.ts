import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { constants, existsSync, readFileSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, open, readFile, rm, stat, statfs, truncate, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it, vi, type TestContext } from 'vitest';
import {
  LOOPFS_KINDS,
  isLoopFsSkip,
  mountLoopFs,
  requireLoopFs,
  sweepStaleLoopFs,
  useLoopFs,
  type LoopFs,
  type LoopFsKind,
} from './loopfs.js';

const run = promisify(execFile);
const SBIN_ENV = { ...process.env, PATH: `${process.env['PATH'] ?? ''}:/usr/sbin:/sbin` };

/** statfs(2) f_type, as Node's fs.statfs reports it (native-notes/linux.md). */
const MAGIC: Record<LoopFsKind, number> = { ext4: 0xef53, xfs: 0x58465342, btrfs: 0x9123683e };

function mounted(p: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === p);
}

function loopBacking(device: string): string | undefined {
  try {
    return readFileSync(`/sys/block/${path.basename(device)}/loop/backing_file`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The `flags` column of every extent `filefrag -v` lists. */
async function extentFlags(file: string): Promise<string[]> {
  const { stdout } = await run('filefrag', ['-v', '-s', file], { env: { ...SBIN_ENV, LC_ALL: 'C' } });
  return stdout
    .split('\n')
    .filter((l) => /^\s*\d+:/.test(l))
    .map((l) => l.split(':').slice(-1)[0]!.trim());
}

function expectGone(fs: LoopFs): void {
  expect(mounted(fs.mountpoint)).toBe(false);
  expect(loopBacking(fs.device)).not.toBe(fs.image);
  expect(existsSync(path.dirname(fs.image))).toBe(false);
}

for (const kind of LOOPFS_KINDS) {
  describe(`${kind} loop filesystem`, () => {
    const lf = useLoopFs(kind);

    it('is mounted, writable, and reports its own statfs type and st_dev', async (ctx) => {
      const fs = lf.require(ctx);
      expect(mounted(fs.mountpoint)).toBe(true);
      expect(loopBacking(fs.device)).toBe(fs.image);
      const file = path.join(fs.mountpoint, 'hello.pyc');
      await writeFile(file, 'hello');
      expect(await readFile(file, 'utf8')).toBe('hello');
      expect((await statfs(fs.mountpoint)).type).toBe(MAGIC[kind]);
      expect((await stat(file)).dev).not.toBe((await stat(os.tmpdir())).dev);
      // The image is sparse: a 64+ MiB image uses far fewer blocks than its size.
      const img = await stat(fs.image);
      expect(img.blocks * 512).toBeLessThan(img.size);
    });

    if (kind === 'ext4') {
      it('refuses FICLONE: copyFile with COPYFILE_FICLONE_FORCE fails with ENOTSUP (errno 95, EOPNOTSUPP)', async (ctx) => {
        const fs = lf.require(ctx);
        const src = path.join(fs.mountpoint, 'src.bin');
        await writeFile(src, randomBytes(64 * 1024));
        const err = await copyFile(src, path.join(fs.mountpoint, 'dst.bin'), constants.COPYFILE_FICLONE_FORCE).catch(
          (e: NodeJS.ErrnoException) => e,
        );
        expect(err).toMatchObject({ code: 'ENOTSUP', errno: -95 });
        expect(existsSync(path.join(fs.mountpoint, 'dst.bin'))).toBe(false); // libuv unlinks the failed destination
      });
    } else {
      it('reflinks: copyFile FICLONE_FORCE shares every extent, filefrag -v says "shared" on both files', async (ctx) => {
        const fs = lf.require(ctx);
        // 1 MiB, far above btrfs's max_inline (2048): inline extents are copied, never shared.
        const data = randomBytes(1024 * 1024);
        const src = path.join(fs.mountpoint, 'src.bin');
        const dst = path.join(fs.mountpoint, 'dst.bin');
        await writeFile(src, data);
        await copyFile(src, dst, constants.COPYFILE_FICLONE_FORCE);
        expect((await readFile(dst)).equals(data)).toBe(true);
        const [s, d] = [await stat(src), await stat(dst)];
        expect(d.ino).not.toBe(s.ino); // a reflink is a new inode, unlike a hard link
        expect(s.nlink).toBe(1);
        for (const f of [src, dst]) {
          const flags = await extentFlags(f);
          expect(flags.length).toBeGreaterThan(0);
          for (const fl of flags) expect(fl.split(',')).toContain('shared');
        }
      });
    }

    it('cleanup unmounts, detaches the loop device and deletes the image; a second call is a no-op', async (ctx) => {
      lf.require(ctx); // skips when this kind can't be mounted here
      // A second, private filesystem, so the shared one stays for the other tests.
      const fs = requireLoopFs(ctx, await mountLoopFs(kind));
      await writeFile(path.join(fs.mountpoint, 'x'), 'x');
      // An open file makes umount fail with EBUSY; cleanup must retry rather than leak.
      const fh = await open(path.join(fs.mountpoint, 'x'), 'r');
      setTimeout(() => void fh.close(), 300);
      await fs.cleanup();
      expectGone(fs);
      await fs.cleanup();
      expectGone(fs);
    });
  });
}

describe('when it cannot mount', () => {
  it('says so precisely when not root (euid nobody), and PYCSTORE_REQUIRE_LOOPFS turns that into an error', async (ctx) => {
    if (process.geteuid?.() !== 0) {
      // Already not root: the real skip path, visibly.
      const r = await mountLoopFs('ext4');
      expect(isLoopFsSkip(r) && r.skip).toMatch(/needs root/);
      requireLoopFs(ctx, r); // marks this test skipped, with the reason
      return;
    }
    const saved = process.env['PYCSTORE_REQUIRE_LOOPFS'];
    delete process.env['PYCSTORE_REQUIRE_LOOPFS'];
    process.seteuid!(65534);
    try {
      const r = await mountLoopFs('xfs');
      expect(r).toEqual({
        skip: 'xfs loop filesystem unavailable: needs root to losetup and mount (running as euid 65534); run the tests as root or in CI',
      });
      process.env['PYCSTORE_REQUIRE_LOOPFS'] = '1';
      await expect(mountLoopFs('xfs')).rejects.toThrow(/needs root.*PYCSTORE_REQUIRE_LOOPFS is set/);
    } finally {
      process.seteuid!(0);
      if (saved === undefined) delete process.env['PYCSTORE_REQUIRE_LOOPFS'];
      else process.env['PYCSTORE_REQUIRE_LOOPFS'] = saved;
    }
  });

  it('requireLoopFs turns a skip into ctx.skip(reason), after a console.warn', () => {
    const notes: string[] = [];
    const fake = {
      task: { name: 'fake' },
      skip: (note?: string): never => {
        notes.push(note ?? '');
        throw new Error('skipped');
      },
    } as unknown as TestContext;
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      expect(() => requireLoopFs(fake, { skip: 'btrfs loop filesystem unavailable: because' })).toThrow('skipped');
      expect(warn).toHaveBeenCalledWith('[loopfs] SKIPPED "fake": btrfs loop filesystem unavailable: because');
    } finally {
      warn.mockRestore();
    }
    expect(notes).toEqual(['btrfs loop filesystem unavailable: because']);
  });

  it('rejects a size below the mkfs minimum as a caller error, not a skip', async () => {
    await expect(mountLoopFs('xfs', { sizeMiB: 64 })).rejects.toThrow(RangeError);
  });
});

describe('stale leftovers of a killed test process', () => {
  it('are unmounted, detached and deleted by the next mountLoopFs (via sweepStaleLoopFs)', async (ctx) => {
    // Stand-in for a worker killed by SIGKILL: a directory named after a pid that has exited,
    // with its image attached and mounted by hand.
    const probe = await mountLoopFs('ext4'); // skips (visibly) where loop devices are unusable
    const fs = requireLoopFs(ctx, probe);
    await fs.cleanup();
    const deadPid = spawnSync('true').pid!;
    const dir = await mkdtemp(path.join(os.tmpdir(), `pycstore-loopfs-ext4-${deadPid}-`));
    const image = path.join(dir, 'image.ext4');
    const mnt = path.join(dir, 'mnt');
    await mkdir(mnt);
    await writeFile(image, '');
    await truncate(image, 16 * 1024 * 1024);
    execFileSync('mkfs.ext4', ['-q', '-F', image], { env: SBIN_ENV });
    const dev = execFileSync('losetup', ['--find', '--show', image], { encoding: 'utf8', env: SBIN_ENV }).trim();
    try {
      execFileSync('mount', ['-t', 'ext4', dev, mnt], { env: SBIN_ENV });
      const swept = await sweepStaleLoopFs();
      expect(swept).toContain(dir);
      expect(mounted(mnt)).toBe(false);
      expect(loopBacking(dev)).not.toBe(image);
      expect(existsSync(dir)).toBe(false);
    } finally {
      // Only if the sweep failed: never leave our own mess behind.
      if (mounted(mnt)) execFileSync('umount', ['-l', mnt], { env: SBIN_ENV });
      if (loopBacking(dev) === image) execFileSync('losetup', ['-d', dev], { env: SBIN_ENV });
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// Runs after every describe's afterAll: the shared filesystems must be gone too.
afterAll(() => {
  const mine = readdirSync(os.tmpdir()).filter((n) => n.startsWith('pycstore-loopfs-') && n.includes(`-${process.pid}-`));
  expect(mine).toEqual([]);
  const loops = readdirSync('/sys/block')
    .map((d) => loopBacking(`/dev/${d}`))
    .filter((b) => b?.includes(`pycstore-loopfs-`) && b.includes(`-${process.pid}-`));
  expect(loops).toEqual([]);
});
