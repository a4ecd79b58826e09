/**
 * Files hard-linked by other tools, with real venvs and the CLI: a venv whose
 * pycs are hard links into a package cache outside the scan (as conda links
 * them) is left unchanged and counted `linked-elsewhere`, by dedup and by
 * audit; two `cp -al` copies scanned together are shared; one of them alone
 * is not.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { pythonEnv } from '../helpers/interpreters.js';
import { isPyc, listFiles, makeVenv, runInVenv } from '../helpers/venv.js';

let work: string;
beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'pycstore-elsewhere-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const sitePackages = (venv: string): string => execFileSync(path.join(venv, 'bin', 'python'), ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])']).toString().trim();

/** A package `demo` of a few modules under `dir`, compiled there. */
function demoPackage(dir: string): void {
  const pkg = path.join(dir, 'demo');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(path.join(pkg, '__init__.py'), 'from .a import A\nfrom .b import B\n');
  writeFileSync(path.join(pkg, 'a.py'), 'A = [i * i for i in range(10)]\n');
  writeFileSync(path.join(pkg, 'b.py'), 'def B(x):\n    return {"b": x}\n');
  execFileSync('python3', ['-m', 'compileall', '-q', pkg], { env: pythonEnv() });
}

const IMPORT = 'import demo; assert demo.A[3] == 9 and demo.B(1) == {"b": 1}; print(demo.__file__)';

function state(venv: string): string[] {
  return listFiles(venv, isPyc).map((f) => `${path.relative(venv, f.path)} ${f.ino} ${f.nlink} ${readFileSync(f.path).toString('hex')}`);
}

describe('pycs hard-linked by other tools', () => {
  it('a venv linked from a package cache outside the scan is unchanged, counted linked-elsewhere by dedup and audit', async () => {
    const cache = path.join(work, 'pkgs', 'demo-1.0-py311');
    demoPackage(cache);
    const venv = makeVenv(path.join(work, 'envs', 'ml'), 'python3', { withoutPip: true });
    execFileSync('cp', ['-al', path.join(cache, 'demo'), sitePackages(venv)]);
    const pycs = listFiles(venv, isPyc).length;
    expect(pycs).toBe(3);
    const before = state(venv);
    const store = path.join(work, 'store-cache');
    const r = await runCli(['--store', store, '--json', 'dedup', venv]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ files: pycs, linked: 0, skipped: { 'linked-elsewhere': pycs } });
    expect(state(venv)).toEqual(before);
    const a = await runCli(['--store', store, '--json', 'audit', venv]);
    expect(a.json!['totals']).toMatchObject({ pycs, linked: 0, linkedElsewhere: pycs });
    const human = await runCli(['--store', store, 'audit', venv]);
    expect(human.stdout).toMatch(/3 pycs are hard links with names outside these roots \(linked-elsewhere/);
    expect(runInVenv(venv, IMPORT)).toContain(sitePackages(venv));
    expect(state(venv)).toEqual(before);
  });

  it('two cp -al copies scanned together are shared; one scanned alone is left alone', async () => {
    const a = makeVenv(path.join(work, 'copies', 'a'), 'python3', { withoutPip: true });
    demoPackage(sitePackages(a));
    const b = path.join(work, 'copies', 'b');
    execFileSync('cp', ['-al', a, b]);
    const c = path.join(work, 'copies', 'c');
    execFileSync('cp', ['-al', a, c]);

    const alone = await runCli(['--store', path.join(work, 'store-alone'), '--json', 'dedup', c]);
    expect(alone.json).toMatchObject({ files: 3, linked: 0, skipped: { 'linked-elsewhere': 3 } });

    rmSync(c, { recursive: true });
    const store = path.join(work, 'store-pair');
    const r = await runCli(['--store', store, '--json', 'dedup', a, b]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ files: 6, linked: 6, skipped: {} });
    const ia = listFiles(a, isPyc);
    const ib = listFiles(b, isPyc);
    for (const [i, f] of ia.entries()) {
      expect(f.nlink).toBe(3n); // a, b and the store's own name
      expect(ib[i]!.ino).toBe(f.ino);
    }
    for (const v of [a, b]) expect(runInVenv(v, IMPORT)).toContain(path.join(v, 'lib'));
    const audit = await runCli(['--store', store, '--json', 'audit', a, b]);
    expect(audit.json!['totals']).toMatchObject({ pycs: 6, linked: 6, linkedElsewhere: 0 });
  });
});
