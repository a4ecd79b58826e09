/**
 * Real third-party packages (Debian's python3-* packages, scripts/build-corpus.py),
 * pip-style and uv-style venvs on several interpreters: after dedup every
 * top-level module imports exactly as before (same __file__, no new exception),
 * nothing is rewritten by those imports, and the venvs share their pycs.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REQUIRE, requireOrSkip } from '../helpers/require.js';
import { runCli } from '../helpers/cli.js';
import { pythonEnv, REPO_ROOT } from '../helpers/interpreters.js';
import { isPyc, listFiles } from '../helpers/venv.js';

const BUILD = path.join(REPO_ROOT, 'scripts', 'build-corpus.py');
const CHECK = path.join(REPO_ROOT, 'scripts', 'corpus-import-check.py');
let work: string;
beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'pycstore-corpus-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Corpus {
  venvs: { path: string; venv_python: string; python_version: string; pyc_count: number; modules: string[] }[];
}

function build(name: string, args: string[]): Corpus | { skip: string } {
  const out = path.join(work, name);
  const r = spawnSync('python3', [BUILD, '--out', out, '--packages', 'small', '--venvs', '4', '--pythons', '3.11,3.10', ...args], {
    env: pythonEnv(),
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    // Without Debian's mirror (apt-get download) there are no packages to install.
    if (/apt-get|download|dpkg/i.test(r.stderr) && !/Traceback/.test(r.stderr)) return { skip: r.stderr.trim().split('\n').slice(-3).join(' ') };
    throw new Error(`build-corpus failed:\n${r.stderr}`);
  }
  return JSON.parse(readFileSync(path.join(out, 'corpus.json'), 'utf8')) as Corpus;
}

function importCheck(c: Corpus, tag: string): string[] {
  return c.venvs.map((v) => {
    const f = path.join(work, `${tag}-${path.basename(v.path)}.json`);
    execFileSync('python3', [CHECK, v.venv_python, f, '--load-all', '--jobs', '2'], { env: pythonEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    return f;
  });
}

for (const layout of ['pip', 'uv'] as const) {
  describe(`${layout}-style venvs of real packages`, () => {
    it('import exactly as before after dedup, rewrite nothing, and share their pycs', async (ctx) => {
      const c = build(layout, layout === 'pip' ? ['--layout', 'pip', '--without-pip'] : ['--layout', 'uv']);
      if ('skip' in c) {
        requireOrSkip(ctx, REQUIRE.corpus, `corpus test (${layout})`, `the corpus could not be built here: ${c.skip}`);
        return;
      }
      const pycs = c.venvs.reduce((a, v) => a + v.pyc_count, 0);
      expect(pycs).toBeGreaterThan(500);
      const before = importCheck(c, 'before');
      const store = path.join(work, `store-${layout}`);
      const r = await runCli(['--store', store, '--json', 'dedup', ...c.venvs.map((v) => v.path)]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json).toMatchObject({ files: pycs, linked: pycs, skipped: {} });
      const after = importCheck(c, 'after');
      for (let i = 0; i < before.length; i++) {
        const cmp = spawnSync('python3', [CHECK, '--compare', before[i]!, after[i]!], { encoding: 'utf8' });
        expect(cmp.status, `${c.venvs[i]!.path}:\n${cmp.stdout}${cmp.stderr}`).toBe(0);
      }
      // Venvs of the same Python share every pyc: same inode at the same relative path.
      const byVersion = new Map<string, string[]>();
      for (const v of c.venvs) byVersion.set(v.python_version, [...(byVersion.get(v.python_version) ?? []), v.path]);
      for (const [version, venvs] of byVersion) {
        if (venvs.length < 2) continue;
        const first = new Map(listFiles(venvs[0]!, isPyc).map((f) => [path.relative(venvs[0]!, f.path), f.ino]));
        for (const other of venvs.slice(1)) {
          for (const f of listFiles(other, isPyc)) expect(f.ino, `${version}: ${f.path}`).toBe(first.get(path.relative(other, f.path)));
        }
      }
      const again = await runCli(['--store', store, '--json', 'dedup']);
      expect(again.json).toMatchObject({ linked: 0, bytesRead: 0, shared: pycs });
    });
  });
}
