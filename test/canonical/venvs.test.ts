/**
 * Canonical bytecode against real interpreters, for every CPython 3.8–3.15 the
 * machine has (missing versions are printed): venvs made at different paths,
 * with their own install-time mtimes, end up sharing every pyc; CPython accepts
 * the shared pycs (importing rewrites nothing) and puts the real path back into
 * co_filename; an edited source is recompiled in that venv alone.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHeader } from '../../src/pyc/header.js';
import { CLI, cleanEnv, runCli } from '../helpers/cli.js';
import { REQUIRE, requireOrSkip } from '../helpers/require.js';
import { findInterpreters, announceMissing, missingVersions, pythonEnv, type Interpreter } from '../helpers/interpreters.js';
import { isPyc, listFiles, venvPython } from '../helpers/venv.js';

let work: string;
beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'pycstore-canon-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const found = findInterpreters();
const missing = missingVersions(found);
announceMissing('canonical venv tests', found);

const PKG: Record<string, string> = {
  'demo/__init__.py': 'from .core import answer, Thing\n',
  'demo/core.py': [
    'import os, re',
    'KINDS = {"a", "b", "c", "d", "e", "f", "g"}',
    'def answer(x):',
    '    if x in {"red", "green", "blue", 1, 2.5, (1, 2)}:',
    '        return 42',
    '    return [i * 2 for i in range(x)]',
    'class Thing:',
    '    """A thing."""',
    '    def where(self):',
    '        return Thing.where.__code__.co_filename',
    '    def boom(self):',
    '        raise ValueError("boom")',
    '',
  ].join('\n'),
  'demo/sub/__init__.py': '',
  'demo/sub/deep.py': 'def f():\n    return lambda y: (y, f"{y!r:>10}")\n',
  'single.py': 'VALUE = frozenset({"x", "y", "z"})\n',
};

/** A venv with a small package installed pip-style: fresh copies, an install-time mtime, compiled by the venv's Python. */
function makeVenvWithPackage(py: Interpreter, dir: string, installTime: number): { venv: string; site: string } {
  const withoutPip = py.origin === 'debian'; // Debian strips ensurepip's wheels
  execFileSync(py.exe, ['-m', 'venv', ...(withoutPip ? ['--without-pip'] : []), dir], { env: pythonEnv(), stdio: 'pipe' });
  const site = execFileSync(venvPython(dir), ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'], { env: pythonEnv() })
    .toString()
    .trim();
  for (const [rel, text] of Object.entries(PKG)) {
    const p = path.join(site, rel);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, text);
    utimesSync(p, installTime, installTime);
  }
  // As pip does: compileall.compile_file(path, force=True) per file, in the venv's interpreter, random hash seed.
  execFileSync(
    venvPython(dir),
    ['-c', 'import compileall, sys, pathlib\nfor p in sorted(pathlib.Path(sys.argv[1]).rglob("*.py")):\n    compileall.compile_file(str(p), force=True, quiet=1)', site],
    { env: pythonEnv({ PYTHONHASHSEED: String(installTime % 1000) }) },
  );
  return { venv: dir, site };
}

function run(venv: string, code: string): string {
  return execFileSync(venvPython(venv), ['-c', code], { env: pythonEnv() }).toString().trim();
}

for (const py of found) {
  describe(`Python ${py.version} (${py.origin})`, () => {
    it('venvs at different paths share every pyc; CPython accepts them; an edit recompiles in that venv alone', async () => {
      const base = path.join(work, `py${py.minor}`);
      const a = makeVenvWithPackage(py, path.join(base, 'first', 'A'), 1_700_000_000);
      const b = makeVenvWithPackage(py, path.join(base, 'second', 'deeper', 'B'), 1_700_100_000);
      const rels = (v: { venv: string }) => listFiles(v.venv, isPyc).map((f) => path.relative(v.venv, f.path));
      expect(rels(a)).toEqual(rels(b));
      const pycs = listFiles(a.venv, isPyc);
      expect(pycs.length).toBeGreaterThanOrEqual(5);
      // As installed: not one pyc pair is byte-identical (absolute paths, mtimes).
      const identical = pycs.filter((f) => readFileSync(f.path).equals(readFileSync(path.join(b.venv, path.relative(a.venv, f.path))))).length;
      expect(identical).toBe(0);

      const store = path.join(base, 'store');
      const r = await runCli(['--store', store, '--json', 'dedup', a.venv, b.venv]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json).toMatchObject({ files: pycs.length * 2, linked: pycs.length * 2, skipped: {} });

      // Every pyc of B is the same inode as A's: byte-identical canonical objects.
      const ia = new Map(listFiles(a.venv, isPyc).map((f) => [path.relative(a.venv, f.path), f.ino]));
      for (const f of listFiles(b.venv, isPyc)) expect(f.ino, f.path).toBe(ia.get(path.relative(b.venv, f.path)));
      // Different mtimes (pip-style): the default policy stored checked-hash pycs.
      const demoPyc = listFiles(path.join(a.site, 'demo'), isPyc)[0]!;
      const h = parseHeader(readFileSync(demoPyc.path));
      expect(typeof h !== 'string' && h.invalidation).toBe('checked-hash');

      // CPython loads them (no rewrite: same inode afterwards), with the real path in co_filename.
      const probe =
        'import demo, demo.core, demo.sub.deep, single, traceback\n' +
        'print(demo.core.Thing().where())\n' +
        'print(demo.sub.deep.f().__code__.co_filename)\n' +
        'print(demo.answer("red"), single.VALUE == frozenset("xyz"))\n' +
        'try:\n    demo.Thing().boom()\nexcept ValueError:\n    print(traceback.format_exc().splitlines()[-2].strip())';
      for (const v of [a, b]) {
        const lines = run(v.venv, probe).split('\n');
        expect(lines[0]).toBe(path.join(v.site, 'demo', 'core.py'));
        expect(lines[1]).toBe(path.join(v.site, 'demo', 'sub', 'deep.py'));
        expect(lines[2]).toBe('42 True');
        expect(lines[3]).toBe('raise ValueError("boom")');
      }
      for (const f of listFiles(a.venv, isPyc)) expect(f.ino, f.path).toBe(ia.get(path.relative(a.venv, f.path)));
      if (!py.exe.includes('.cache')) {
        // pip itself (pyenv venvs have it): imports from the shared pycs.
        expect(run(a.venv, 'import pip._internal.cli.main as m; print(m.main.__code__.co_filename)')).toBe(
          path.join(a.site, 'pip', '_internal', 'cli', 'main.py'),
        );
      }

      // An edited source in A: CPython recompiles it there; B keeps the shared pyc.
      const corePyc = listFiles(path.join(a.site, 'demo'), (p) => isPyc(p) && p.includes('core.'))[0]!;
      writeFileSync(path.join(a.site, 'demo', 'core.py'), PKG['demo/core.py']!.replace('return 42', 'return 44'));
      expect(run(a.venv, 'import demo; print(demo.answer("red"))')).toBe('44');
      expect(run(b.venv, 'import demo; print(demo.answer("red"))')).toBe('42');
      expect(statSync(corePyc.path).ino).not.toBe(corePyc.ino); // A's pyc replaced by CPython
      const bCore = path.join(b.venv, path.relative(a.venv, corePyc.path));
      expect(BigInt(statSync(bCore, { bigint: true }).ino)).toBe(corePyc.ino); // B's still the shared object
    });
  });
}

describe('header policy', () => {
  const py = found.find((p) => p.minor === 11) ?? found[found.length - 1]!;

  it('keeps timestamp headers where all copies agree on the source mtime and size (uv), and shares them', async () => {
    const base = path.join(work, 'uvlike');
    const a = makeVenvWithPackage(py, path.join(base, 'A'), 1_700_000_000);
    const b = makeVenvWithPackage(py, path.join(base, 'B'), 1_700_000_000);
    const store = path.join(base, 'store');
    const r = await runCli(['--store', store, '--json', 'dedup', a.venv, b.venv]);
    expect(r.code, r.stderr).toBe(0);
    for (const f of listFiles(path.join(a.site, 'demo'), isPyc)) {
      const h = parseHeader(readFileSync(f.path));
      expect(typeof h !== 'string' && h.invalidation, f.path).toBe('timestamp');
      expect(f.ino).toBe(statSync(path.join(b.site, path.relative(a.site, f.path)), { bigint: true }).ino);
    }
    expect(run(a.venv, 'import demo.core; print(demo.core.answer("blue"))')).toBe('42');
  });

  it('moves copies shared through a timestamp object to checked-hash once a copy with another mtime arrives', async () => {
    const base = path.join(work, 'convert');
    const a = makeVenvWithPackage(py, path.join(base, 'A'), 1_700_000_000);
    const b = makeVenvWithPackage(py, path.join(base, 'B'), 1_700_000_000);
    const c = makeVenvWithPackage(py, path.join(base, 'C'), 1_700_200_000);
    const store = path.join(base, 'store');
    const core = (v: { site: string }) => listFiles(path.join(v.site, 'demo'), (p) => isPyc(p) && p.includes('core.'))[0]!;
    const header = (v: { site: string }) => {
      const h = parseHeader(readFileSync(core(v).path));
      return typeof h === 'string' ? h : h.invalidation;
    };
    expect((await runCli(['--store', store, 'dedup', a.venv, b.venv])).code).toBe(0);
    expect(header(a)).toBe('timestamp');
    expect(core(a).ino).toBe(core(b).ino);
    // C alone: it can't share A's and B's timestamp object; it gets a checked-hash one.
    const dc = await runCli(['--store', store, 'dedup', c.venv]);
    expect(dc.code, dc.stderr).toBe(0);
    expect(header(c)).toBe('checked-hash');
    // All registered roots: A and B move to C's checked-hash object.
    const r = await runCli(['--store', store, '--json', 'dedup']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!['linked']).toBeGreaterThanOrEqual(10);
    expect(header(a)).toBe('checked-hash');
    expect(core(a).ino).toBe(core(c).ino);
    expect(core(b).ino).toBe(core(c).ino);
    for (const v of [a, b, c]) expect(run(v.venv, 'import demo; print(demo.answer("red"))')).toBe('42');
    const again = await runCli(['--store', store, '--json', 'dedup']);
    expect(again.json).toMatchObject({ linked: 0, bytesRead: 0 });
  });

  it('--invalidation unchecked-hash is opt-in and says what it costs', async () => {
    const base = path.join(work, 'unchecked');
    const a = makeVenvWithPackage(py, path.join(base, 'A'), 1_700_000_000);
    const store = path.join(base, 'store');
    const r = await runCli(['--store', store, '--json', 'dedup', '--invalidation', 'unchecked-hash', a.venv]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/never checked against their source/);
    const h = parseHeader(readFileSync(listFiles(path.join(a.site, 'demo'), isPyc)[0]!.path));
    expect(typeof h !== 'string' && h.invalidation).toBe('unchecked-hash');
    const bad = await runCli(['dedup', '--invalidation', 'sometimes', a.venv]);
    expect(bad.code).toBe(2);
  });
});

describe('dedup --fill', () => {
  const py = found.find((p) => p.minor === 11) ?? found[found.length - 1]!;

  it('gives uv-style venvs without pycs their pycs: compiled once, then from the store', async () => {
    const base = path.join(work, 'fill');
    const mk = (name: string) => {
      const dir = path.join(base, name);
      execFileSync(py.exe, ['-m', 'venv', '--without-pip', dir], { env: pythonEnv(), stdio: 'pipe' });
      const site = execFileSync(venvPython(dir), ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'], { env: pythonEnv() }).toString().trim();
      for (const [rel, text] of Object.entries(PKG)) {
        const p = path.join(site, rel);
        mkdirSync(path.dirname(p), { recursive: true });
        writeFileSync(p, text);
        utimesSync(p, 1_700_000_000, 1_700_000_000);
      }
      return { venv: dir, site };
    };
    const a = mk('A');
    const store = path.join(base, 'store');
    const r1 = await runCli(['--store', store, '--json', 'dedup', '--fill', a.venv]);
    expect(r1.code, r1.stderr).toBe(0);
    expect(r1.json!['fill']).toMatchObject({ venvs: 1, sources: 5, compiled: 5, fromStore: 0, filled: 5 });
    const filled = listFiles(a.venv, isPyc);
    expect(filled).toHaveLength(5);
    // CPython takes them as they are.
    expect(run(a.venv, 'import demo.core, demo.sub.deep, single; print(demo.core.Thing().where())')).toBe(path.join(a.site, 'demo', 'core.py'));
    expect(listFiles(a.venv, isPyc).map((f) => f.ino)).toEqual(filled.map((f) => f.ino));

    const b = mk('B');
    const r2 = await runCli(['--store', store, '--json', 'dedup', '--fill', b.venv]);
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.json!['fill']).toMatchObject({ sources: 5, compiled: 0, fromStore: 5, filled: 5 });
    const bFiles = listFiles(b.venv, isPyc);
    expect(bFiles.map((f) => f.ino)).toEqual(filled.map((f) => f.ino)); // same objects
    expect(run(b.venv, 'import demo; print(demo.answer("green"))')).toBe('42');

    const again = await runCli(['--store', store, '--json', 'dedup', '--fill', a.venv, b.venv]);
    expect(again.json).toMatchObject({ linked: 0, bytesRead: 0 });
    expect(again.json!['fill']).toMatchObject({ sources: 0, filled: 0 });
  });

  it('reads and looks up many targets in the worker threads (their own read-only ledger connection); a dry run looks them up here', async () => {
    const base = path.join(work, 'fill-many');
    const MODULES = 90; // above the pool's threshold (64 files): the targets go to worker threads
    const mk = (name: string) => {
      const dir = path.join(base, name);
      execFileSync(py.exe, ['-m', 'venv', '--without-pip', dir], { env: pythonEnv(), stdio: 'pipe' });
      const site = execFileSync(venvPython(dir), ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'], { env: pythonEnv() }).toString().trim();
      mkdirSync(path.join(site, 'many'), { recursive: true });
      writeFileSync(path.join(site, 'many', '__init__.py'), '');
      for (let i = 0; i < MODULES; i++) writeFileSync(path.join(site, 'many', `m${i}.py`), `VALUE = ${i} * 7\ndef f(x):\n    return x + VALUE\n`);
      for (const f of ['__init__.py', ...Array.from({ length: MODULES }, (_, i) => `m${i}.py`)]) utimesSync(path.join(site, 'many', f), 1_700_000_000, 1_700_000_000);
      return { venv: dir, site };
    };
    const [a, b, c, d] = [mk('A'), mk('B'), mk('C'), mk('D')];
    const store = path.join(base, 'store');
    // Two venvs at once: each source compiled once, its twin takes the body compiled this run.
    const r1 = await runCli(['--store', store, '--json', 'dedup', '--fill', '--jobs', '2', a.venv, b.venv]);
    expect(r1.code, r1.stderr).toBe(0);
    expect(r1.json!['fill']).toMatchObject({ venvs: 2, sources: 2 * (MODULES + 1), compiled: MODULES + 1, fromStore: 0, filled: 2 * (MODULES + 1) });
    // A dry run: no worker opens the ledger; the bodies are looked up in this thread and counted.
    const dry = await runCli(['--store', store, '--json', 'dedup', '--fill', '--dry-run', '--jobs', '2', c.venv]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json!['fill']).toMatchObject({ sources: MODULES + 1, compiled: 0, fromStore: MODULES + 1 });
    expect(listFiles(c.venv, isPyc)).toHaveLength(0);
    // The workers find every body in the store: nothing compiled, the same objects, and CPython imports them.
    const r2 = await runCli(['--store', store, '--json', 'dedup', '--fill', '--jobs', '2', c.venv, d.venv]);
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.json!['fill']).toMatchObject({ sources: 2 * (MODULES + 1), compiled: 0, fromStore: 2 * (MODULES + 1), filled: 2 * (MODULES + 1) });
    const inodes = (v: string) => listFiles(v, isPyc).map((f) => f.ino).sort();
    expect(inodes(c.venv)).toEqual(inodes(a.venv));
    expect(inodes(d.venv)).toEqual(inodes(a.venv));
    const sum = `import many, importlib; print(sum(importlib.import_module(f"many.m{i}").f(1) for i in range(${MODULES})))`;
    const expected = String(Array.from({ length: MODULES }, (_, i) => 1 + i * 7).reduce((x, y) => x + y, 0));
    expect(run(d.venv, sum)).toBe(expected);
    // Importing rewrote nothing: the filled pycs are fresh for CPython.
    expect(inodes(d.venv)).toEqual(inodes(a.venv));
  });

  it('links a target to the object its worker read the body from, without reading that object again in the run\'s thread (strace)', async (ctx) => {
    requireOrSkip(ctx, REQUIRE.strace, 'strace', spawnSync('strace', ['-V']).status === 0 ? undefined : 'strace not found (apt-get install strace)');
    const base = path.join(work, 'fill-once');
    const MODULES = 80; // above the pool's threshold: the stored bodies are read in the worker threads
    const mk = (name: string) => {
      const dir = path.join(base, name);
      execFileSync(py.exe, ['-m', 'venv', '--without-pip', dir], { env: pythonEnv(), stdio: 'pipe' });
      const site = execFileSync(venvPython(dir), ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'], { env: pythonEnv() }).toString().trim();
      mkdirSync(path.join(site, 'once'), { recursive: true });
      for (let i = 0; i < MODULES; i++) {
        const p = path.join(site, 'once', `m${i}.py`);
        writeFileSync(p, `VALUE = ${i} * 3\n`);
        utimesSync(p, 1_700_000_000, 1_700_000_000);
      }
      return dir;
    };
    const [a, b] = [mk('A'), mk('B')];
    const store = path.join(base, 'store');
    const r1 = await runCli(['--store', store, '--json', 'dedup', '--fill', '--jobs', '2', a]);
    expect(r1.code, r1.stderr).toBe(0);
    // The same sources (same mtimes): B's pycs are A's objects, read from the store by the workers.
    const log = path.join(base, 'strace.log');
    const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=openat', '-o', log, process.execPath, CLI, '--store', store, '--json', 'dedup', '--fill', '--jobs', '2', b], { env: cleanEnv(), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)['fill']).toMatchObject({ sources: MODULES, compiled: 0, fromStore: MODULES, filled: MODULES });
    const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    const mainThread = lines[0]!.split(' ')[0]; // the first open is the dynamic loader's, in the process's own thread
    const objectOpens = lines.filter((l) => /\/objects-v1\/[0-9a-f]{2}\/[0-9a-f]{16}-\d+"/.test(l) && !/= -1 /.test(l));
    expect(objectOpens.length).toBeGreaterThanOrEqual(MODULES); // each body read (by a worker) once
    expect(objectOpens.filter((l) => l.split(' ')[0] === mainThread)).toEqual([]);
    const inodes = (v: string) => listFiles(v, isPyc).map((f) => f.ino).sort();
    expect(inodes(b)).toEqual(inodes(a));
    expect(run(b, `import importlib; print(sum(importlib.import_module(f"once.m{i}").VALUE for i in range(${MODULES})))`)).toBe(String(3 * (MODULES * (MODULES - 1)) / 2));
    expect(inodes(b)).toEqual(inodes(a)); // importing rewrote nothing
  });
});
