/**
 * The recompile fallback: a pyc the canonicalizer refuses (its co_filename
 * string object is also a constant) is compiled again by the venv's own
 * interpreter and the result canonicalized; no matching interpreter → a
 * counted skip, the file untouched.
 */
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { pythonEnv, REPO_ROOT } from '../helpers/interpreters.js';
import { makeVenv, runInVenv, venvPython } from '../helpers/venv.js';

const CRAFT = path.join(REPO_ROOT, 'test', 'fixtures', 'shared-filename-pyc.py');
let work: string;
beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'pycstore-fallback-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function site(venv: string): string {
  return execFileSync(venvPython(venv), ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'], { env: pythonEnv() }).toString().trim();
}

describe('recompile fallback', () => {
  it('recompiles a pyc the canonicalizer refuses with the venv\'s interpreter, once', async () => {
    const venvs = ['A', 'B'].map((n) => makeVenv(path.join(work, n), 'python3', { withoutPip: true }));
    const pycs: string[] = [];
    for (const v of venvs) {
      const src = path.join(site(v), 'selfref.py');
      writeFileSync(src, `HERE = ${JSON.stringify(src)}\nSAME = "x"\n`);
      const tag = execFileSync(venvPython(v), ['-c', 'import sys; print(sys.implementation.cache_tag)']).toString().trim();
      const pyc = path.join(site(v), '__pycache__', `selfref.${tag}.pyc`);
      execFileSync(venvPython(v), [CRAFT, src, pyc], { env: pythonEnv() });
      pycs.push(pyc);
    }
    const store = path.join(work, 'store');
    const r = await runCli(['--store', store, '--json', 'dedup', ...venvs]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ files: 2, linked: 2, recompiled: 2 }); // two different sources (HERE differs)
    for (const [i, v] of venvs.entries()) {
      const out = runInVenv(v, 'import selfref; print(selfref.HERE); print(selfref.__loader__.get_code("selfref").co_filename)').trim().split('\n');
      expect(out[0]).toBe(path.join(site(v), 'selfref.py'));
      expect(out[1]).toBe(path.join(site(v), 'selfref.py'));
      expect(lstatSync(pycs[i]!).nlink).toBe(2); // still the store's object: CPython accepted it
    }
  });

  it('skips, counted, when no interpreter with that magic exists', async () => {
    const dir = path.join(work, 'novenv', 'pkg');
    execFileSync('mkdir', ['-p', dir]);
    const src = path.join(dir, 'selfref.py');
    writeFileSync(src, `HERE = ${JSON.stringify(src)}\n`);
    const pyc = path.join(dir, '__pycache__', 'selfref.cpython-311.pyc');
    execFileSync('python3', [CRAFT, src, pyc], { env: pythonEnv() });
    const before = readFileSync(pyc);
    const ino = lstatSync(pyc).ino;
    const r = await runCli(['--store', path.join(work, 'store2'), '--json', 'dedup', '--no-discover', path.dirname(dir)], { env: { PATH: '/nonexistent' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!['skipped']).toEqual({ 'no-interpreter': 1 });
    expect(lstatSync(pyc).ino).toBe(ino);
    expect(readFileSync(pyc)).toEqual(before);
  });
});
