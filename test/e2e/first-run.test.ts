/**
 * The first run of a new user, end to end with the built CLI: a temporary
 * HOME (no XDG_* or tool variables) holding environments at the default places
 * of a dozen tools on CPython 3.10, 3.11 and 3.12 (test/e2e/home.ts). A bare
 * `pycstore dedup`, with no PATH and no store yet, finds them all and shares
 * ≥ 95% of the pycs between environments of one Python version; every
 * environment imports its packages as before; nothing under node_modules or
 * .git is touched; `pycstore envs` lists each environment once with its kind,
 * and its --json matches `pycstore audit` on the same trees; the two installs
 * of CPython 3.12 share their stdlib pycs; the conda env linked from its
 * package cache is unchanged (linked-elsewhere) and the `cp -al` copy is
 * shared; environments moved by POETRY_VIRTUALENVS_PATH and WORKON_HOME are
 * found there; a deleted environment is dropped by gc.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, runCli, type CliResult } from '../helpers/cli.js';
import { announceMissing, interpreter, pythonEnv, REPO_ROOT } from '../helpers/interpreters.js';
import { REQUIRE, requireOrSkip } from '../helpers/require.js';
import { isPyc, listFiles } from '../helpers/venv.js';
import { buildVenvs, COPY, CONDA_ENV, CONDA_ROOT, exe, makeConda, makeDecoys, makeInstalls, markTools, STDLIB_INSTALLS, VENVS, type Corpus } from './home.js';

const CHECK = path.join(REPO_ROOT, 'scripts', 'corpus-import-check.py');
const MINORS = [10, 11, 12];
const missing = MINORS.filter((m) => !interpreter(m));

let home: string;
let outside: string;
let work: string;
let corpus: Corpus | { skip: string } | undefined;
/** PATH for the CLI: python3.X of each version first (the recompile fallback finds them as on any machine). */
let binPath: string;

const h = (...p: string[]) => path.join(home, ...p);
const cli = (args: string[], extra: Record<string, string> = {}): Promise<CliResult> => runCli(args, { env: cleanEnv(home, { PATH: binPath, ...extra }) });

/** inode, link count and content of every file under each dir. */
function fileState(dirs: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const d of dirs) {
    for (const f of listFiles(d)) m.set(f.path, `${f.ino}:${f.nlink}:${createHash('sha256').update(readFileSync(f.path)).digest('hex')}`);
  }
  return m;
}

function importCheck(python: string, tag: string): string {
  const f = path.join(work, `${tag}-${createHash('sha256').update(python).digest('hex').slice(0, 8)}.json`);
  execFileSync('python3', [CHECK, python, f, '--load-all', '--jobs', '2'], { env: pythonEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  return f;
}

/** Import from a tree that is not a venv (a conda env, an interpreter install) with a real interpreter; returns the modules' files. */
function importFrom(minor: number, dir: string, modules: readonly string[]): string[] {
  const code = `import sys, importlib; sys.path.insert(0, sys.argv[1]); print("\\n".join(importlib.import_module(m).__file__ for m in sys.argv[2:]))`;
  return execFileSync(exe(minor), ['-I', '-c', code, dir, ...modules], { env: pythonEnv() }).toString().trim().split('\n');
}

let before: Map<string, string>;
let decoys: string[];
let dedup: CliResult;
const importsBefore = new Map<string, string>();

beforeAll(() => {
  announceMissing('the first-run test');
  if (missing.length) return;
  home = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'pycstore-newuser-')));
  outside = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'pycstore-newuser-outside-')));
  work = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'pycstore-newuser-work-')));
  const bin = path.join(work, 'bin');
  mkdirSync(bin);
  for (const m of MINORS) symlinkSync(exe(m), path.join(bin, `python3.${m}`));
  binPath = `${bin}:/usr/local/bin:/usr/bin:/bin`;
  corpus = buildVenvs(home, outside, path.join(work, 'corpus'));
  if ('skip' in corpus) return;
  markTools(home);
  makeInstalls(home);
  makeConda(home);
  execFileSync('cp', ['-al', h('.virtualenvs', 'work'), h(COPY)]);
  decoys = makeDecoys(home);
  before = fileState([...decoys, h(CONDA_ENV), h(CONDA_ROOT, 'pkgs'), h(CONDA_ROOT, 'lib')]);
  for (const v of corpus.venvs) if (!v.path.startsWith(outside)) importsBefore.set(v.path, importCheck(v.venv_python, 'before'));
}, 900_000);

afterAll(() => {
  for (const d of [home, outside, work]) if (d) rmSync(d, { recursive: true, force: true });
});

interface EnvRow {
  kind: string;
  path: string;
  python: string | null;
  foundBy: string;
  aliases: string[];
  pycs: number;
  linked: number;
  linkedElsewhere: number;
  apparentBytes: number;
  allocatedBytes: number;
  bytesSaved: number;
}

describe('a new user, first run', () => {
  it('a bare `pycstore dedup` finds every environment, says so, and shares ≥ 95% of the pycs per Python version', async (ctx) => {
    if (missing.length) return requireOrSkip(ctx, REQUIRE.pythons, 'the first-run test', `no CPython ${missing.map((m) => `3.${m}`).join(', ')} here`);
    if (corpus && 'skip' in corpus) return requireOrSkip(ctx, REQUIRE.corpus, 'the first-run test', `the package venvs could not be built here: ${corpus.skip}`);
    const listed = await cli(['--json', 'envs']);
    expect(listed.code, listed.stderr).toBe(0);
    const rowsBefore = listed.json!['environments'] as EnvRow[];
    const kinds = new Map(rowsBefore.map((r) => [r.path, r.kind]));
    // each environment once, with its kind
    expect(new Set(rowsBefore.map((r) => r.path)).size).toBe(rowsBefore.length);
    for (const v of VENVS.filter((x) => !x.outside)) expect(kinds.get(h(v.rel)), v.rel).toBe(v.kind);
    expect(kinds.get(h(COPY))).toBe('virtualenvwrapper');
    expect(kinds.get(h(STDLIB_INSTALLS[0]))).toBe('pyenv-python');
    expect(kinds.get(h(STDLIB_INSTALLS[1]))).toBe('uv-python');
    expect(kinds.get(h(CONDA_ROOT))).toBe('conda');
    expect(kinds.get(h(CONDA_ENV))).toBe('conda');
    expect(rowsBefore).toHaveLength(VENVS.filter((x) => !x.outside).length + 5);
    expect(rowsBefore.find((r) => r.path === h('.pyenv', 'versions', '3.12.1', 'envs', 'tools'))!.aliases).toEqual([h('.pyenv', 'versions', 'tools')]);
    expect(rowsBefore.filter((r) => /node_modules|\.git\b/.test(r.path))).toEqual([]);
    const tools = new Set(rowsBefore.map((r) => r.kind.replace(/-(python|tool|virtualenv)$/, '')));
    console.log(`[first-run] ${rowsBefore.length} environments of ${tools.size} tools: ${[...tools].sort().join(', ')}`);
    expect(tools.size).toBeGreaterThanOrEqual(10);

    dedup = await cli(['--json', 'dedup']);
    expect(dedup.code, dedup.stderr).toBe(0);
    expect(dedup.stderr).toMatch(/^pycstore: found 16 environments \(/m);
    expect(dedup.json!['discovery']).toMatchObject({ environments: 16, registeredRoots: 0, emptyPaths: [] });
    expect(dedup.json!['failures']).toEqual([]);
    const after = (await cli(['--json', 'envs'])).json!['environments'] as EnvRow[];
    // conda's files are hard links into its package cache: left alone, each of them
    const conda = [h(CONDA_ROOT), h(CONDA_ENV)].map((p) => after.find((r) => r.path === p)!);
    for (const c of conda) expect(c).toMatchObject({ linked: 0, linkedElsewhere: c.pycs });
    expect(conda[0]!.pycs).toBeGreaterThan(300);
    expect(dedup.json!['skipped']).toEqual({ 'linked-elsewhere': conda[0]!.pycs + conda[1]!.pycs });
    // Of the pycs pycstore may share (all but those), per Python version:
    const byVersion = new Map<string, { pycs: number; linked: number; envs: number }>();
    for (const r of after) {
      if (r.linkedElsewhere === r.pycs) continue;
      const v = byVersion.get(r.python!) ?? { pycs: 0, linked: 0, envs: 0 };
      byVersion.set(r.python!, { pycs: v.pycs + r.pycs - r.linkedElsewhere, linked: v.linked + r.linked, envs: v.envs + 1 });
    }
    expect([...byVersion.keys()].sort()).toEqual(['3.10', '3.11', '3.12']);
    for (const [version, v] of byVersion) {
      console.log(`[first-run] Python ${version}: ${v.linked}/${v.pycs} pycs shared (${((100 * v.linked) / v.pycs).toFixed(1)}%) over ${v.envs} environments`);
      expect(v.envs).toBeGreaterThanOrEqual(4);
      expect(v.linked / v.pycs, version).toBeGreaterThanOrEqual(0.95);
    }
    const saved = after.reduce((s, r) => s + r.bytesSaved, 0);
    const allocated = after.reduce((s, r) => s + r.allocatedBytes, 0);
    console.log(`[first-run] saved ${saved} of ${allocated} allocated pyc bytes; dedup took ${dedup.json!['durationMs']} ms`);
  });

  it('every environment imports its packages as before, and nothing under node_modules, .git or the conda package cache changed', async (ctx) => {
    if (!dedup) return ctx.skip('needs the first test');
    for (const v of (corpus as Corpus).venvs) {
      if (v.path.startsWith(outside)) continue;
      const cmp = spawnSync('python3', [CHECK, '--compare', importsBefore.get(v.path)!, importCheck(v.venv_python, 'after')], { encoding: 'utf8' });
      expect(cmp.status, `${v.path}:\n${cmp.stdout}${cmp.stderr}`).toBe(0);
    }
    const copy = spawnSync(path.join(h(COPY), 'bin', 'python'), ['-c', 'import six, requests; print(requests.__file__)'], { env: pythonEnv(), encoding: 'utf8' });
    expect(copy.stdout.trim()).toBe(path.join(h(COPY), 'lib', 'python3.10', 'site-packages', 'requests', '__init__.py'));
    expect(importFrom(11, path.join(h(CONDA_ENV), 'lib', 'python3.11', 'site-packages'), ['demo', 'demo.extra'])[0]).toContain(h(CONDA_ENV));
    expect(fileState([...decoys, h(CONDA_ENV), h(CONDA_ROOT, 'pkgs'), h(CONDA_ROOT, 'lib')])).toEqual(before);
  });

  it('the two installs of CPython 3.12 share their stdlib pycs, which still load', async (ctx) => {
    if (!dedup) return ctx.skip('needs the first test');
    const [a, b] = STDLIB_INSTALLS.map((p) => path.join(h(p), 'lib', 'python3.12'));
    const inB = new Map(listFiles(b!, isPyc).map((f) => [path.relative(b!, f.path), f.ino]));
    const inA = listFiles(a!, isPyc);
    expect(inA.length).toBeGreaterThan(300);
    const same = inA.filter((f) => inB.get(path.relative(a!, f.path)) === f.ino).length;
    console.log(`[first-run] stdlib of two CPython 3.12 installs: ${same}/${inA.length} pycs share one inode`);
    expect(same / inA.length).toBeGreaterThanOrEqual(0.95);
    const inodes = listFiles(b!, isPyc).map((f) => `${f.path}:${f.ino}`);
    expect(importFrom(12, b!, ['json.decoder', 'email.parser', 'http.client', 'asyncio.base_events'])).toEqual(
      ['json/decoder.py', 'email/parser.py', 'http/client.py', 'asyncio/base_events.py'].map((m) => path.join(b!, m)),
    );
    expect(listFiles(b!, isPyc).map((f) => `${f.path}:${f.ino}`)).toEqual(inodes); // nothing recompiled
  });

  it('the cp -al copy is shared with its original; envs --json matches audit on the same trees', async (ctx) => {
    if (!dedup) return ctx.skip('needs the first test');
    const orig = listFiles(h('.virtualenvs', 'work'), isPyc);
    const copy = new Map(listFiles(h(COPY), isPyc).map((f) => [path.relative(h(COPY), f.path), f]));
    for (const f of orig) {
      const c = copy.get(path.relative(h('.virtualenvs', 'work'), f.path))!;
      expect(c.ino).toBe(f.ino);
      expect(f.nlink).toBeGreaterThanOrEqual(3n); // both names and the store's (more when another 3.10 env has the same pyc)
    }
    const rows = (await cli(['--json', 'envs'])).json!['environments'] as EnvRow[];
    const audit = await cli(['--json', 'audit', ...rows.map((r) => r.path)]);
    expect(audit.code, audit.stderr).toBe(0);
    const roots = audit.json!['roots'] as (Omit<EnvRow, 'kind' | 'python' | 'foundBy' | 'aliases'>)[];
    expect(rows.map(({ kind: _k, python: _p, foundBy: _f, aliases: _a, ...fig }) => fig)).toEqual(roots);
    const elsewhere = rows.reduce((s, r) => s + r.linkedElsewhere, 0);
    expect(elsewhere).toBeGreaterThan(0);
    expect(audit.json!['totals']).toMatchObject({ linkedElsewhere: elsewhere });
  });

  it('POETRY_VIRTUALENVS_PATH and WORKON_HOME: the environments there are found and shared', async (ctx) => {
    if (!dedup) return ctx.skip('needs the first test');
    const vars = { POETRY_VIRTUALENVS_PATH: path.join(outside, 'poetry-envs'), WORKON_HOME: path.join(outside, 'workon') };
    const listed = (await cli(['--json', 'envs'], vars)).json!['environments'] as EnvRow[];
    const moved = listed.filter((r) => r.path.startsWith(outside)).map((r) => `${r.kind} ${path.relative(outside, r.path)} [${r.foundBy}]`);
    expect(moved.sort()).toEqual(['poetry poetry-envs/svc-QwErTyUi-py3.11 [POETRY_VIRTUALENVS_PATH]', 'virtualenvwrapper workon/scratch [WORKON_HOME]']);
    // WORKON_HOME moves virtualenvwrapper's place: ~/.virtualenvs is no longer a tool's; the walk of ~ still finds its envs
    expect(listed.find((r) => r.path === h('.virtualenvs', 'work'))).toBeDefined();
    const r = await cli(['--json', 'dedup'], vars);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!['discovery']).toMatchObject({ environments: 18 });
    const pycs = VENVS.filter((v) => v.outside).reduce((s, v) => s + listFiles(path.join(outside, v.rel), isPyc).length, 0);
    expect(r.json!['linked']).toBe(pycs);
    for (const v of VENVS.filter((x) => x.outside)) {
      for (const f of listFiles(path.join(outside, v.rel), isPyc)) expect(f.nlink, f.path).toBeGreaterThanOrEqual(2n);
    }
  });

  it('a deleted environment is dropped by gc', async (ctx) => {
    if (!dedup) return ctx.skip('needs the first test');
    const gone = h('src', 'noxproj', '.nox', 'tests');
    const listFilesCount = listFiles(gone, isPyc).length;
    rmSync(gone, { recursive: true });
    expect(existsSync(gone)).toBe(false);
    const gc = await cli(['--json', 'gc', '--grace', '0']);
    expect(gc.code, gc.stderr).toBe(0);
    expect(gc.json).toMatchObject({ rootsDropped: 1, linksDropped: listFilesCount });
    const again = await cli(['--json', 'dedup']);
    expect(again.json).toMatchObject({ linked: 0, bytesRead: 0 });
    expect(again.json!['roots']).not.toContain(gone);
  });
});
