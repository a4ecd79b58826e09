/**
 * The hard-link limit, for real: 65,001 identical pycs on an ext4 image, whose
 * limit is 65,000 links per inode. dedup must start a replica of the object
 * and link every file. Needs root (loop mount); otherwise the test says so.
 * --byte-identical: the canonical form would name each module differently
 * (m0.py, m1.py, …), giving 65,001 distinct objects; the replica logic is the
 * same for canonical objects.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, linkSync, lstatSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { objectPath } from '../../src/store/location.js';
import { initHash, xxh64Hex } from '../../src/hash/xxhash.js';
import { runCli } from '../helpers/cli.js';
import { pythonEnv } from '../helpers/interpreters.js';
import { useLoopFs } from '../helpers/loopfs.js';

const FILES = 65_001;
const PER_DIR = 500;

describe('EMLINK', () => {
  const lf = useLoopFs('ext4', { sizeMiB: 600, mkfsArgs: ['-N', '200000'] });

  it('starts a replica when an object reaches ext4\'s 65,000 links, and links every file', async (ctx) => {
    const fs = lf.require(ctx);
    const root = path.join(fs.mountpoint, 'many');
    // One pyc, compiled once, copied next to 65,001 sources of the same size and mtime.
    const seedDir = path.join(fs.mountpoint, 'seed');
    mkdirSync(seedDir);
    writeFileSync(path.join(seedDir, 'm.py'), 'VALUE = 1\n');
    utimesSync(path.join(seedDir, 'm.py'), 1700000000, 1700000000);
    execFileSync('python3', ['-c', 'import py_compile,sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2])', path.join(seedDir, 'm.py'), path.join(seedDir, 'm.pyc')], { env: pythonEnv() });
    const tag = execFileSync('python3', ['-c', 'import sys; print(sys.implementation.cache_tag)']).toString().trim();
    const pyc = readFileSync(path.join(seedDir, 'm.pyc'));
    for (let d = 0; d * PER_DIR < FILES; d++) {
      const dir = path.join(root, `d${d}`);
      mkdirSync(path.join(dir, '__pycache__'), { recursive: true });
      for (let i = d * PER_DIR; i < Math.min(FILES, (d + 1) * PER_DIR); i++) {
        const src = path.join(dir, `m${i}.py`);
        copyFileSync(path.join(seedDir, 'm.py'), src);
        utimesSync(src, 1700000000, 1700000000);
        writeFileSync(path.join(dir, '__pycache__', `m${i}.${tag}.pyc`), pyc);
      }
    }
    void linkSync;
    const store = path.join(fs.mountpoint, 'store');
    const r = await runCli(['--store', store, '--json', 'dedup', '--no-discover', '--byte-identical', '--link-mode', 'hardlink', root]);
    expect(r.code, r.stderr.slice(0, 2000)).toBe(0);
    expect(r.json).toMatchObject({ files: FILES, linked: FILES });
    expect(r.stderr).toMatch(/hard-link limit; started replica 1/);
    await initHash();
    const key = { hash: xxh64Hex(pyc), size: pyc.length };
    const n0 = Number(lstatSync(objectPath(store, key, 0)).nlink);
    const n1 = Number(lstatSync(objectPath(store, key, 1)).nlink);
    expect(n0).toBe(65_000);
    expect(n0 + n1).toBe(FILES + 2); // every file, plus the two store names
    const st = await runCli(['--store', store, '--json', 'status']);
    expect(st.json).toMatchObject({ objects: 2, links: FILES });
  });
});
