/**
 * The compile workers with a real interpreter (python3 here): a worker says
 * its magic number, compiles source exactly as importlib does (the answer is
 * marshal.dumps of the code, loading to the same code as py_compile's), reports
 * a syntax error instead of dying, and closes; the compile cache compiles each
 * compilation once, also when many files ask at once.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { initHash } from '../../src/hash/xxhash.js';
import { PY_VERSIONS } from '../../src/pyc/magic.js';
import { CanonicalCompiler } from '../../src/python/compile.js';
import { CompilerPool } from '../../src/python/pool.js';
import { pythonEnv } from '../helpers/interpreters.js';

const python3 = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { env: pythonEnv() }).toString().trim();
const info = JSON.parse(
  execFileSync('python3', ['-c', 'import importlib.util, json, sys; print(json.dumps({"magic": importlib.util.MAGIC_NUMBER.hex(), "minor": sys.version_info[1]}))'], { env: pythonEnv() }).toString(),
) as { magic: string; minor: number };

describe('CompilerPool', () => {
  it("reports the interpreter's magic, compiles as importlib does, and reports errors as answers", async () => {
    const pool = new CompilerPool(2);
    try {
      expect((await pool.identify(python3)).magic).toBe(info.magic);
      const source = Buffer.from('X = {1, 2}\ndef f(a):\n    return a * 2\n');
      const ans = await pool.compile(python3, { source, filename: 'pkg/mod.py', optimize: 0 });
      expect(ans.ok).toBe(true);
      // Python itself says the body loads to the code compile() makes for that source and filename.
      const same = execFileSync(
        'python3',
        ['-c', 'import marshal, sys; b = sys.stdin.buffer.read(); print(marshal.loads(b) == compile(open(sys.argv[1], "rb").read(), "pkg/mod.py", "exec", dont_inherit=True))', writeTemp(source)],
        { input: Buffer.from((ans as { body: Uint8Array }).body), env: pythonEnv() },
      ).toString().trim();
      expect(same).toBe('True');
      const bad = await pool.compile(python3, { source: Buffer.from('def (:\n'), filename: 'bad.py', optimize: 0 });
      expect(bad).toMatchObject({ ok: false, error: expect.stringMatching(/^SyntaxError/) });
      expect(pool.compiled).toBe(2);
    } finally {
      await pool.close();
    }
  });

  it('a worker that cannot start is an answer, not a crash', async () => {
    const pool = new CompilerPool(1);
    try {
      await expect(pool.identify('/nonexistent/python3')).rejects.toMatchObject({ code: 'EPYTHON' });
    } finally {
      await pool.close();
    }
  });
});

function writeTemp(bytes: Buffer): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pycstore-pool-'));
  const p = path.join(dir, 'src.py');
  writeFileSync(p, bytes);
  return p;
}

describe('CanonicalCompiler (the compile cache)', () => {
  it('compiles each compilation once, also when twenty files ask at once; says when no interpreter fits', async () => {
    await initHash();
    const version = PY_VERSIONS.find((v) => v.minor === info.minor)!;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pycstore-compiler-'));
    mkdirSync(path.join(dir, 'pkg'));
    const sourcePath = path.join(dir, 'pkg', 'mod.py');
    const source = Buffer.from('Y = 3\n');
    writeFileSync(sourcePath, source);
    const compiler = new CanonicalCompiler(1);
    try {
      // No venv around the source: the interpreter comes from PATH (python3.X).
      const what = { sourcePath, source, version, optimization: 0, relName: 'pkg/mod.py' };
      const all = await Promise.all(Array.from({ length: 20 }, () => compiler.compile(what)));
      expect(all.every((o) => o.ok)).toBe(true);
      expect(all.filter((o) => o.ok && o.made)).toHaveLength(1);
      expect(compiler.compiled).toBe(1);
      const other = PY_VERSIONS.find((v) => v.minor !== info.minor && v.minor > 15) ?? { ...version, magic: 1, version: '3.99' };
      const none = await compiler.compile({ ...what, version: other });
      expect(none).toMatchObject({ ok: false, reason: 'no-interpreter' });
    } finally {
      await compiler.close();
    }
  });
});
