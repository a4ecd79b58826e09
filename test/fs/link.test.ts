/**
 * The linker and the swap directly, on real files: a venv file replaced by a
 * hard link only while it is what was read; never a missing path, never a
 * leftover temp name; --fill's create never replaces; `auto` asks the
 * filesystem once per linker (ext4 here: hard links; XFS with reflink=1:
 * clones) and a refused reflink is not retried.
 */
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REQUIRE, requireOrSkip } from '../helpers/require.js';
import { fingerprintOf } from '../../src/fs/fingerprint.js';
import { createLink, makeLinker, replaceWithLink } from '../../src/fs/link.js';
import { isSwapTemp, swapIn } from '../../src/fs/swap.js';
import { useLoopFs } from '../helpers/loopfs.js';

function setUp(root = mkdtempSync(path.join(os.tmpdir(), 'pycstore-link-'))): { dir: string; object: string; target: string } {
  const dir = path.join(root, 'venv', '__pycache__');
  mkdirSync(dir, { recursive: true });
  const object = path.join(root, 'object');
  writeFileSync(object, 'canonical bytes');
  chmodSync(object, 0o444);
  const target = path.join(dir, 'm.cpython-311.pyc');
  writeFileSync(target, 'original bytes');
  return { dir, object, target };
}

const fpOf = (p: string) => fingerprintOf(lstatSync(p, { bigint: true }));
const obj = (p: string) => ({ path: p, fp: fpOf(p) });
const temps = (dir: string) => readdirSync(dir).filter(isSwapTemp);

describe('replaceWithLink', () => {
  it('makes the file a hard link of the object, leaving no temp name', async () => {
    const { dir, object, target } = setUp();
    const r = await replaceWithLink(obj(object), target, 'hardlink', fpOf(target));
    expect(r.ok).toBe(true);
    expect(lstatSync(target).ino).toBe(lstatSync(object).ino);
    expect(readFileSync(target, 'utf8')).toBe('canonical bytes');
    expect(temps(dir)).toEqual([]);
  });

  it('leaves a file that changed since it was read alone (changed), and no temp name', async () => {
    const { dir, object, target } = setUp();
    const read = fpOf(target);
    writeFileSync(target, 'rewritten by Python');
    expect(await replaceWithLink(obj(object), target, 'hardlink', read)).toEqual({ ok: false, reason: 'changed' });
    expect(readFileSync(target, 'utf8')).toBe('rewritten by Python');
    expect(temps(dir)).toEqual([]);
  });

  it('a reflink where the filesystem cannot clone (ext4) is an outcome, not an exception', async () => {
    const { object, target } = setUp();
    const r = await replaceWithLink(obj(object), target, 'reflink', fpOf(target));
    expect(r).toMatchObject({ ok: false, reason: 'no-reflink' });
    expect(readFileSync(target, 'utf8')).toBe('original bytes');
  });
});

describe('createLink (--fill)', () => {
  it('creates a missing file, and never replaces one that appeared meanwhile', async () => {
    const { dir, object } = setUp();
    const fresh = path.join(dir, 'n.cpython-311.pyc');
    expect((await createLink(obj(object), fresh, 'hardlink', 0o644)).ok).toBe(true);
    expect(lstatSync(fresh).ino).toBe(lstatSync(object).ino);
    const taken = path.join(dir, 'o.cpython-311.pyc');
    writeFileSync(taken, 'someone else');
    expect(await createLink(obj(object), taken, 'hardlink', 0o644)).toEqual({ ok: false, reason: 'exists' });
    expect(readFileSync(taken, 'utf8')).toBe('someone else');
    expect(temps(dir)).toEqual([]);
  });
});

describe('swapIn', () => {
  it("passes a maker's own failure back, and an error as an outcome, never leaving the temp", async () => {
    const { dir, target } = setUp();
    expect(await swapIn(target, async () => ({ ok: false as const, why: 'mine' }), () => true)).toEqual({ ok: false, why: 'mine' });
    const r = await swapIn(target, async (tmp) => void writeFileSync(tmp, 'x'), () => false);
    expect(r).toEqual({ ok: false, reason: 'changed' });
    expect(readFileSync(target, 'utf8')).toBe('original bytes');
    expect(await swapIn(path.join(dir, 'missing', 'x.pyc'), async (tmp) => void writeFileSync(tmp, 'x'), () => true)).toMatchObject({ ok: false, reason: 'changed', errno: 'ENOENT' });
    expect(temps(dir)).toEqual([]);
  });
});

describe('makeLinker', () => {
  it('auto on ext4: asks for a clone once, then hard links for good', async () => {
    const { dir, object } = setUp();
    const linker = makeLinker('auto');
    expect(linker.settled()).toBeUndefined();
    for (const n of ['a', 'b', 'c']) {
      const t = path.join(dir, `${n}.cpython-311.pyc`);
      writeFileSync(t, n);
      const r = await linker.replace(obj(object), t, fpOf(t));
      expect(r).toMatchObject({ ok: true, kind: 'hardlink' });
    }
    expect(linker.settled()).toBe('hardlink');
    expect(linker.refused()).toBeUndefined();
  });

  it('auto on ext4, a burst of calls: one asks for a clone, the others wait for its answer (strace counts the clones)', (ctx) => {
    requireOrSkip(ctx, REQUIRE.strace, 'strace', spawnSync('strace', ['-V']).status === 0 ? undefined : 'strace not found (apt-get install strace)');
    const { dir, object } = setUp();
    const targets = Array.from({ length: 24 }, (_, i) => path.join(dir, `t${i}.cpython-311.pyc`));
    targets.forEach((t, i) => writeFileSync(t, `t${i}`));
    const linkJs = pathToFileURL(path.join(process.cwd(), 'dist', 'fs', 'link.js')).href;
    const fpJs = pathToFileURL(path.join(process.cwd(), 'dist', 'fs', 'fingerprint.js')).href;
    const script = `
      const { makeLinker } = await import(${JSON.stringify(linkJs)});
      const { fingerprintOf } = await import(${JSON.stringify(fpJs)});
      const { lstatSync } = await import('node:fs');
      const fp = (p) => fingerprintOf(lstatSync(p, { bigint: true }));
      const linker = makeLinker('auto');
      const targets = ${JSON.stringify(targets)};
      const out = await Promise.all(targets.map((t) => linker.replace({ path: ${JSON.stringify(object)}, fp: fp(${JSON.stringify(object)}) }, t, fp(t))));
      console.log(JSON.stringify(out.map((o) => o.ok && o.kind)));`;
    const r = spawnSync('strace', ['-f', '-e', 'trace=ioctl', process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(targets.map(() => 'hardlink'));
    const clones = r.stderr.split('\n').filter((l) => /ioctl\(\d+, (BTRFS_IOC_CLONE|FICLONE)\b/.test(l));
    expect(clones).toHaveLength(1);
    for (const t of targets) expect(lstatSync(t).ino).toBe(lstatSync(object).ino);
    expect(temps(dir)).toEqual([]);
  });

  it('reflink on ext4: refused once, then every call fails the same way without trying', async () => {
    const { dir, object, target } = setUp();
    const linker = makeLinker('reflink');
    expect(await linker.replace(obj(object), target, fpOf(target))).toMatchObject({ ok: false, reason: 'no-reflink', kind: 'reflink' });
    const other = path.join(dir, 'x.cpython-311.pyc');
    writeFileSync(other, 'x');
    expect(await linker.replace(obj(object), other, fpOf(other))).toBe(linker.refused());
    expect(linker.settled()).toBeUndefined();
  });

  const xfs = useLoopFs('xfs');
  it('auto on XFS (reflink=1): clones, each file its own inode sharing the object\'s extents', async (ctx) => {
    const fs = xfs.require(ctx);
    const { object, target } = setUp(mkdtempSync(path.join(fs.mountpoint, 'link-')));
    const linker = makeLinker('auto');
    const r = await linker.replace(obj(object), target, fpOf(target));
    expect(r).toMatchObject({ ok: true, kind: 'reflink' });
    expect(lstatSync(target).ino).not.toBe(lstatSync(object).ino);
    expect(readFileSync(target, 'utf8')).toBe('canonical bytes');
    expect(linker.settled()).toBe('reflink');
  });
});
