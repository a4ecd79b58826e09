/**
 * Many pycstore runs on one store at once, as real processes started
 * together: four dedups over overlapping venvs, on a new store (all four
 * create and migrate the ledger at once) and on an existing one, and dedups
 * beside a gc, and dedups while a `compileall -f` loop rewrites the same pycs. Every run exits 0, every venv imports, `verify --full` finds
 * nothing wrong, and a last dedup finds every pyc shared.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { pythonEnv } from '../helpers/interpreters.js';
import { cpCopies, isPyc, listFiles, makeVenv, runInVenv, venvPython } from '../helpers/venv.js';
import { IMPORT_PIP, addPackage, distinctModules, ledgerLinks } from '../gc/helpers.js';

let work: string;
let template: string;

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'pycstore-concurrent-'));
  template = makeVenv(path.join(work, 'template'));
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Venvs named `names` under `dir`, each with a package of its own (so each run also writes objects nobody else does). */
function venvs(dir: string, names: string[]): string[] {
  const out = cpCopies(template, path.join(work, dir), names);
  out.forEach((v, i) => addPackage(v, `own_${names[i]!.toLowerCase()}`, distinctModules(`${dir}${i}`, 6)));
  return out;
}

/** Start every run at once; wait for all. */
async function together(runs: string[][]): Promise<{ code: number | null; stdout: string; stderr: string }[]> {
  const procs = runs.map((args) => startCli(args));
  return Promise.all(procs.map((p) => p.done));
}

async function expectStoreSound(store: string, trees: readonly string[]): Promise<void> {
  const v = await runCli(['--store', store, '--json', 'verify', '--full']);
  expect(v.code, v.stderr).toBe(0);
  expect(v.json).toMatchObject({ corrupt: [], missing: [], errors: [] });
  for (const t of trees) expect(runInVenv(t, IMPORT_PIP)).toContain(t);
  // A last run over everything finds every pyc shared: nothing was left half-done or unrecorded.
  const last = await runCli(['--store', store, '--json', 'dedup', ...trees]);
  expect(last.code, last.stderr).toBe(0);
  const pycs = trees.reduce((n, t) => n + listFiles(t, isPyc).length, 0);
  expect(last.json).toMatchObject({ files: pycs, failures: [] });
  expect(last.json!['shared'] + last.json!['linked']).toBe(pycs);
  expect(ledgerLinks(store).length).toBe(pycs);
}

describe('four dedups at once over overlapping venvs', () => {
  it('on a new store: all exit 0 (one migrates the ledger, the others wait), every venv imports, verify --full passes', async () => {
    const [a, b, c, d] = venvs('new', ['A', 'B', 'C', 'D']) as [string, string, string, string];
    const store = path.join(work, 'store-new');
    const results = await together([
      ['--store', store, '--json', 'dedup', a, b],
      ['--store', store, '--json', 'dedup', b, c],
      ['--store', store, '--json', 'dedup', c, d],
      ['--store', store, '--json', 'dedup', d, a],
    ]);
    for (const r of results) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(/SqliteError|database is locked|already exists/);
      expect(JSON.parse(r.stdout)).toMatchObject({ failures: [] });
    }
    await expectStoreSound(store, [a, b, c, d]);
  });

  it('on an existing store: all exit 0, every venv imports, verify --full passes', async () => {
    const [a, b, c, d, e] = venvs('existing', ['A', 'B', 'C', 'D', 'E']) as [string, string, string, string, string];
    const store = path.join(work, 'store-existing');
    const first = await runCli(['--store', store, '--json', 'dedup', a]);
    expect(first.code, first.stderr).toBe(0);
    const results = await together([
      ['--store', store, '--json', 'dedup', a, b],
      ['--store', store, '--json', 'dedup', b, c],
      ['--store', store, '--json', 'dedup', c, d, e],
      ['--store', store, '--json', 'dedup', e, a],
    ]);
    for (const r of results) {
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ failures: [] });
    }
    await expectStoreSound(store, [a, b, c, d, e]);
  });
});

describe('dedups and a gc at once', () => {
  it('all exit 0; gc runs before or after the dedups, never between their links and their records', async () => {
    const [old, a, b, c] = venvs('gc', ['Old', 'A', 'B', 'C']) as [string, string, string, string];
    const store = path.join(work, 'store-gc');
    expect((await runCli(['--store', store, 'dedup', old, a])).code).toBe(0);
    rmSync(old, { recursive: true });
    const results = await together([
      ['--store', store, '--json', 'dedup', a, b],
      ['--store', store, '--json', 'gc', '--grace', '0'],
      ['--store', store, '--json', 'dedup', b, c],
    ]);
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    // Every link the ledger has is its object's inode, whichever order the lock gave them.
    for (const l of ledgerLinks(store)) expect(listFiles(path.dirname(l.path)).some((f) => f.path === l.path)).toBe(true);
    await expectStoreSound(store, [a, b, c]);
  });
});

/** Recompiles every pyc under argv[1] again and again (as a user's `compileall -f` would) until argv[2] exists. */
const COMPILEALL_LOOP = `
import compileall, os, sys
target, stop = sys.argv[1], sys.argv[2]
n = 0
while not os.path.exists(stop):
    compileall.compile_dir(target, force=True, quiet=1)
    n += 1
    print(n, flush=True)
`;

describe('dedups while compileall -f rewrites the same pycs', () => {
  it('every run exits 0; afterwards the venvs import, verify --full passes and a last dedup shares every pyc', async () => {
    const [a, b] = venvs('compileall', ['A', 'B']) as [string, string];
    const store = path.join(work, 'store-compileall');
    const stop = path.join(work, 'compileall-stop');
    const loop = spawn(venvPython(a), ['-c', COMPILEALL_LOOP, path.join(a, 'lib'), stop], { env: pythonEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let passes = 0;
    loop.stdout.on('data', (d: Buffer) => (passes = Number(d.toString().trim().split('\n').pop())));
    const ended = new Promise<number | null>((resolve) => loop.on('close', resolve));
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await runCli(['--store', store, '--json', 'dedup', a, b]));
    const during = passes;
    writeFileSync(stop, '');
    expect(await ended).toBe(0);
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    expect(during, 'compileall passes that overlapped the dedups').toBeGreaterThanOrEqual(1);
    await expectStoreSound(store, [a, b]);
  });
});
