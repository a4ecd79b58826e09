/**
 * The published package, as a user gets it: `npm pack`, the tarball installed
 * into an empty project, `import { dedup } from 'pycstore'` deduplicating two
 * real venvs and returning what `pycstore dedup --json` prints. Only the
 * exports map's surface is reachable.
 *
 * Dependencies come from npm's cache (--prefer-offline; `npm ci` filled it).
 * Install scripts are skipped: better-sqlite3's native build is its own
 * install step (exercised by `npm ci`), so its compiled binding is copied from
 * this checkout, after checking the versions match.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/interpreters.js';
import { cpCopies, isPyc, listFiles, makeVenv, runInVenv } from '../helpers/venv.js';

let work: string;
let project: string;

const npm = (args: string[], cwd: string): string =>
  execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'pycstore-pack-'));
  // dist/ is built by `npm test` (and checked fresh by the CLI helper); packing must not rebuild it under the other tests.
  npm(['pack', '--ignore-scripts', '--pack-destination', work], REPO_ROOT);
  const tarball = readdirSync(work).find((n) => n.endsWith('.tgz'))!;
  project = path.join(work, 'project');
  mkdirSync(project);
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'scratch', version: '1.0.0', private: true, type: 'module' }));
  npm(['install', '--prefer-offline', '--ignore-scripts', path.join(work, tarball)], project);
  const ours = JSON.parse(readFileSync(path.join(REPO_ROOT, 'node_modules', 'better-sqlite3', 'package.json'), 'utf8')) as { version: string };
  const theirs = JSON.parse(readFileSync(path.join(project, 'node_modules', 'better-sqlite3', 'package.json'), 'utf8')) as { version: string };
  expect(theirs.version, 'the binding copied must be of the same better-sqlite3').toBe(ours.version);
  const release = path.join(project, 'node_modules', 'better-sqlite3', 'build', 'Release');
  mkdirSync(release, { recursive: true });
  copyFileSync(path.join(REPO_ROOT, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'), path.join(release, 'better_sqlite3.node'));
}, 300_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

function node(script: string): string {
  writeFileSync(path.join(project, 'run.mjs'), script);
  return execFileSync(process.execPath, ['run.mjs'], { cwd: project, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
}

describe('the packed package', () => {
  it("import { dedup } from 'pycstore' deduplicates two real venvs and returns the dedup --json object", async () => {
    const template = makeVenv(path.join(work, 'template'));
    const [a, b] = cpCopies(template, path.join(work, 'lib'), ['A', 'B']) as [string, string];
    const store = path.join(work, 'store-lib');
    const out = node(`
      import { dedup, status, PycstoreError, ERROR_CODES } from 'pycstore';
      const r = await dedup({ store: ${JSON.stringify(store)}, paths: [${JSON.stringify(a)}, ${JSON.stringify(b)}] });
      const s = await status({ store: ${JSON.stringify(store)} });
      let refused;
      try { await dedup({ store: ${JSON.stringify(store)}, linkMode: 'symlink' }); } catch (e) { refused = { isError: e instanceof PycstoreError, code: e.code }; }
      console.log(JSON.stringify({ r, s, refused, codes: ERROR_CODES.includes('EUSAGE') }));
    `);
    const { r, s, refused, codes } = JSON.parse(out) as { r: Record<string, any>; s: Record<string, any>; refused: unknown; codes: boolean };
    const pycs = listFiles(a, isPyc).length + listFiles(b, isPyc).length;
    expect(r).toMatchObject({ files: pycs, linked: pycs, shared: 0, skipped: {}, failures: [], dryRun: false });
    expect(r['bytesSaved']).toBeGreaterThan(0);
    expect(s).toMatchObject({ exists: true, links: pycs, roots: 2 });
    expect(refused).toEqual({ isError: true, code: 'EUSAGE' });
    expect(codes).toBe(true);
    for (const v of [a, b]) expect(runInVenv(v, 'import pip; print(pip.__file__)')).toContain(v);

    // The same keys as the CLI's --json object for the same work.
    const [c, d] = cpCopies(template, path.join(work, 'cli'), ['C', 'D']) as [string, string];
    const cli = await runCli(['--store', path.join(work, 'store-cli'), '--json', 'dedup', c, d]);
    expect(cli.code, cli.stderr).toBe(0);
    expect(Object.keys(r).sort()).toEqual(Object.keys(cli.json!).sort());
    expect(r['linked']).toBe(cli.json!['linked']);
  });

  it('exposes only the exports map: no deep imports; the bin runs', () => {
    const out = node(`
      try { await import('pycstore/dist/dedup/run.js'); console.log('reachable'); } catch (e) { console.log(e.code); }
    `);
    expect(out.trim()).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
    const version = execFileSync(path.join(project, 'node_modules', '.bin', 'pycstore'), ['--version'], { encoding: 'utf8' });
    expect(version.trim()).toMatch(/^pycstore \d+\.\d+\.\d+$/);
  });
});
