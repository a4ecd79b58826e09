/**
 * dedup's roots from discovery, through the built CLI in a temporary HOME
 * (no XDG_* or tool variables): a bare run covers the environments found plus
 * the registered roots; a PATH that is no environment covers only the
 * environments under it; --exclude (and the config file's exclude) and
 * --workspace; --no-discover keeps the old behaviour; nothing found is one
 * line saying where it looked; envs prints bars only on a terminal.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envsLines } from '../../src/commands/envs.js';
import type { EnvsReport } from '../../src/api/envs.js';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { pythonEnv } from '../helpers/interpreters.js';
import { isPyc, listFiles, makeVenv } from '../helpers/venv.js';

let home: string;
let work: string;
const h = (...p: string[]) => path.join(home, ...p);

/** A venv with one compiled module, at `dir`. */
function env(dir: string): string {
  makeVenv(dir, 'python3', { withoutPip: true });
  const sp = execFileSync(path.join(dir, 'bin', 'python'), ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])']).toString().trim();
  mkdirSync(path.join(sp, 'mod'));
  writeFileSync(path.join(sp, 'mod', '__init__.py'), 'X = [1, 2, 3]\n');
  execFileSync('python3', ['-m', 'compileall', '-q', path.join(sp, 'mod')], { env: pythonEnv() });
  return dir;
}

/** A tree of pycs that is no environment (a source checkout). */
function plainTree(dir: string): void {
  mkdirSync(path.join(dir, 'pkg'), { recursive: true });
  writeFileSync(path.join(dir, 'pkg', '__init__.py'), 'Y = 1\n');
  execFileSync('python3', ['-m', 'compileall', '-q', dir], { env: pythonEnv() });
}

beforeAll(() => {
  home = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'pycstore-disc-home-')));
  work = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'pycstore-disc-')));
  env(h('src', 'one', '.venv'));
  env(h('src', 'two', '.tox', 'py311'));
  env(h('archive', 'old', '.venv'));
  env(h('.virtualenvs', 'tool'));
  plainTree(h('src', 'one', 'checkout'));
  plainTree(h('src', 'web', 'node_modules', 'gyp'));
  env(path.join(work, 'elsewhere', 'proj', '.venv'));
});
afterAll(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

const run = (args: string[], extra: Record<string, string> = {}) => runCli(args, { env: cleanEnv(home, extra) });
const pycsOf = (dirs: string[]) => dirs.reduce((s, d) => s + listFiles(d, isPyc).length, 0);

describe('dedup with discovery', () => {
  it('a PATH that is no environment: only the environments under it, node_modules and plain trees left alone', async () => {
    const store = path.join(work, 'store-path');
    const r = await run(['--store', store, '--json', 'dedup', h('src')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!['roots']).toEqual([h('src', 'one', '.venv'), h('src', 'two', '.tox', 'py311')]);
    expect(r.json).toMatchObject({ files: 2, linked: 2, discovery: { environments: 2, kinds: { venv: 1, tox: 1 }, emptyPaths: [] } });
    expect(r.stderr).toMatch(/^pycstore: found 2 environments \((1 tox, 1 venv|1 venv, 1 tox)\)$/m);
    // A PATH inside an environment is scanned as it is.
    const inside = await run(['--store', path.join(work, 'store-inside'), '--json', 'dedup', '--dry-run', h('src', 'one', '.venv', 'lib')]);
    expect(inside.json).toMatchObject({ roots: [h('src', 'one', '.venv', 'lib')], files: 1 });
  });

  it('a bare run: every environment found plus the registered roots; --exclude and the config file leave some out', async () => {
    const store = path.join(work, 'store-bare');
    expect((await run(['--store', store, 'dedup', path.join(work, 'elsewhere')])).code).toBe(0); // registers .../proj/.venv
    const r = await run(['--store', store, '--json', 'dedup', '--exclude', '~/archive/**']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!['discovery']).toMatchObject({ environments: 3, registeredRoots: 1 });
    expect([...(r.json!['roots'] as string[])].sort()).toEqual([h('.virtualenvs', 'tool'), h('src', 'one', '.venv'), h('src', 'two', '.tox', 'py311'), path.join(work, 'elsewhere', 'proj', '.venv')].sort());
    expect(r.stderr).toMatch(/found 3 environments \(.*\), and 1 registered root$/m);
    const config = path.join(work, 'config.toml');
    writeFileSync(config, 'exclude = ["tool", "~/archive/**"]\n');
    const c = await run(['--store', store, '--json', 'dedup', '--dry-run'], { PYCSTORE_CONFIG: config });
    expect(c.json!['discovery']).toMatchObject({ environments: 2, looked: { config } });
    // the scanner applies the globs too: an excluded folder inside a PATH is not scanned
    const scan = await run(['--store', path.join(work, 'store-x'), '--json', 'dedup', '--dry-run', '--exclude', '**/mod', h('src', 'one', '.venv')]);
    expect(scan.json).toMatchObject({ files: 0 });
  });

  it('--workspace replaces the folders searched for projects', async () => {
    const r = await run(['--store', path.join(work, 'store-ws'), '--json', 'dedup', '--dry-run', '--workspace', path.join(work, 'elsewhere')]);
    expect(r.json!['discovery']).toMatchObject({ environments: 2, looked: { workspaces: [path.join(work, 'elsewhere')] } });
    expect([...(r.json!['roots'] as string[])].sort()).toEqual([h('.virtualenvs', 'tool'), path.join(work, 'elsewhere', 'proj', '.venv')].sort());
  });

  it('--no-discover: PATHs as the trees they are, no PATH = the registered roots, the usage error when there are none', async () => {
    const store = path.join(work, 'store-nd');
    const none = await run(['--store', store, 'dedup', '--no-discover']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no PATH given and no roots registered yet/);
    const fresh = path.join(work, 'fresh');
    env(path.join(fresh, '.venv'));
    plainTree(path.join(fresh, 'checkout'));
    const tree = await run(['--store', store, '--json', 'dedup', '--no-discover', fresh]);
    expect(tree.json).toMatchObject({ roots: [fresh], files: 2, linked: 2 }); // the venv's pyc and the checkout's
    expect(tree.json!['discovery']).toBeUndefined();
    const again = await run(['--store', store, '--json', 'dedup', '--no-discover']);
    expect(again.json).toMatchObject({ roots: [fresh], files: 2, shared: 2 });
    // node_modules stays out even then
    const web = await run(['--store', store, '--json', 'dedup', '--no-discover', h('src', 'web')]);
    expect(web.json).toMatchObject({ files: 0 });
  });

  it('`discover = false` in the config file: a bare dedup covers the registered roots only; envs still lists', async () => {
    const config = path.join(work, 'no-discover.toml');
    writeFileSync(config, 'discover = false\n');
    const store = path.join(work, 'store-cfg');
    expect((await run(['--store', store, 'dedup', path.join(work, 'elsewhere')], { PYCSTORE_CONFIG: config })).code).toBe(0);
    const bare = await run(['--store', store, '--json', 'dedup'], { PYCSTORE_CONFIG: config });
    expect(bare.json).toMatchObject({ roots: [path.join(work, 'elsewhere', 'proj', '.venv')] });
    expect(bare.json!['discovery']).toBeUndefined();
    const listed = await run(['--store', store, '--json', 'envs'], { PYCSTORE_CONFIG: config });
    expect((listed.json!['environments'] as unknown[]).length).toBe(4);
  });

  it('unshare of a discovered environment says the next bare dedup shares it again, and how to keep it private', async () => {
    const store = path.join(work, 'store-unshare');
    const venv = h('src', 'two', '.tox', 'py311');
    expect((await run(['--store', store, 'dedup', h('src', 'two')])).code).toBe(0);
    const u = await run(['--store', store, 'unshare', venv]);
    expect(u.code, u.stderr).toBe(0);
    expect(u.stderr).toContain(`${venv} is in the environment ${venv}, which a bare \`pycstore dedup\` (and a scheduled one) finds and shares again; to keep it private, add it to \`exclude\``);
  });

  it('nothing found: one line saying where it looked and how to name one; no store is created', async () => {
    const empty = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'pycstore-disc-empty-')));
    try {
      const store = path.join(work, 'store-empty');
      const r = await runCli(['--store', store, 'dedup'], { env: cleanEnv(empty) });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toMatch(/^no Python environment found: looked in the places of uv, poetry, pipx, .* and under ~ \(6 levels deep\)\. Name one: pycstore dedup PATH, or a folder of projects: pycstore dedup --workspace DIR\n$/);
      const p = await runCli(['--store', store, 'dedup', h('src', 'web')], { env: cleanEnv(empty) });
      expect(p.stdout).toMatch(/^no Python environment in .*src\/web \(looked 6 levels deep\): its pycs are left alone\..*--no-discover PATH\n$/);
      expect(listFiles(work, (f) => f.startsWith(store))).toEqual([]);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('pycstore envs', () => {
  it('one row per environment with its kind, no bars when piped; bars on a terminal', async () => {
    const r = await run(['--store', path.join(work, 'store-envs'), 'envs']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/[█░]/);
    expect(r.stdout).toMatch(/^kind +python +pycs +linked +apparent +allocated +saved +path$/m);
    expect(r.stdout).toMatch(/^tox +3\.11 +1 +0 .* ~\/src\/two\/\.tox\/py311$/m);
    expect(r.stdout).toMatch(/^total +4 +0 /m);
    const json = await run(['--store', path.join(work, 'store-envs'), '--json', 'envs']);
    const rows = json.json!['environments'] as { kind: string; path: string }[];
    expect(rows.map((e) => `${e.kind} ${path.relative(home, e.path)}`).sort()).toEqual(['tox src/two/.tox/py311', 'venv archive/old/.venv', 'venv src/one/.venv', 'virtualenvwrapper .virtualenvs/tool']);
  });

  it('the table: sorted rows, a bar of allocated bytes solid for the saved part, totals', () => {
    const row = (kind: string, p: string, allocated: number, saved: number) => ({
      kind, path: p, python: '3.11', foundBy: 'x', aliases: [], pycs: 10, linked: saved ? 10 : 0, linkedElsewhere: 0, apparentBytes: allocated, allocatedBytes: allocated, bytesSaved: saved,
    });
    const report: EnvsReport = {
      store: '/s',
      exists: true,
      environments: [row('uv', '/home/u/a/.venv', 8192, 4096), row('pipx', '/home/u/.local/share/pipx/venvs/b', 4096, 0)],
      totals: { environments: 2, pycs: 20, linked: 10, linkedElsewhere: 0, apparentBytes: 12288, allocatedBytes: 12288, bytesSaved: 4096 },
      discovery: { environments: 2, kinds: { uv: 1, pipx: 1 }, registeredRoots: 0, looked: { tools: [], workspaces: [], maxDepth: 6, config: null }, emptyPaths: [] },
    };
    const lines = envsLines(report, { bars: true, columns: 200, home: '/home/u' });
    expect(lines[1]).toMatch(/^uv +3\.11 +10 +10 +8\.0 KiB +8\.0 KiB +4\.0 KiB {2}████████░░░░░░░░ {2}~\/a\/\.venv$/);
    expect(lines[2]).toMatch(/^pipx .* 0 B {2}░░░░░░░░ {10}~\/\.local\/share\/pipx\/venvs\/b$/);
    expect(lines[3]).toMatch(/^total +20 +10 /);
    expect(lines).toContain('10 pycs are not shared yet: pycstore dedup');
  });
});
