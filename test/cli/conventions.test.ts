/**
 * The conventions users expect from uv and pnpm, through the built CLI:
 * `pycstore path`, `pycstore help [COMMAND]`, `--quiet` and `--verbose`,
 * PYCSTORE_LINK_MODE beside --link-mode; and the one progress line shape.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bar } from '../../src/util/format.js';
import { memoryOutput, progressOf, progressText } from '../../src/util/output.js';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { pythonEnv } from '../helpers/interpreters.js';
import { makeVenv } from '../helpers/venv.js';

let home: string;
let work: string;
beforeAll(() => {
  home = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'pycstore-conv-home-')));
  work = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'pycstore-conv-')));
  // One project env with a compiled module, where a new user keeps it.
  const venv = makeVenv(path.join(home, 'src', 'app', '.venv'), 'python3', { withoutPip: true });
  writeFileSync(path.join(home, 'src', 'app', 'uv.lock'), '');
  const sp = execFileSync(path.join(venv, 'bin', 'python'), ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])']).toString().trim();
  mkdirSync(path.join(sp, 'mod'));
  writeFileSync(path.join(sp, 'mod', '__init__.py'), 'X = 1\n');
  execFileSync('python3', ['-m', 'compileall', '-q', path.join(sp, 'mod')], { env: pythonEnv() });
});
afterAll(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

const inHome = (args: string[], extra: Record<string, string> = {}) => runCli(args, { env: cleanEnv(home, extra) });

describe('pycstore path', () => {
  it("prints the store's location: --store, else PYCSTORE_HOME, else the user cache dir", async () => {
    const def = await inHome(['path']);
    expect(def.code).toBe(0);
    expect(def.stdout).toBe(`${path.join(home, '.cache', 'pycstore')}\n`);
    expect((await inHome(['path'], { XDG_CACHE_HOME: path.join(work, 'xdg') })).stdout).toBe(`${path.join(work, 'xdg', 'pycstore')}\n`);
    expect((await inHome(['path'], { PYCSTORE_HOME: path.join(work, 'env-store') })).stdout).toBe(`${path.join(work, 'env-store')}\n`);
    const flag = await inHome(['--json', 'path', '--store', path.join(work, 's')], { PYCSTORE_HOME: path.join(work, 'env-store') });
    expect(flag.json).toEqual({ store: path.join(work, 's'), exists: false });
    expect((await inHome(['path', 'extra'])).code).toBe(2);
  });
});

describe('pycstore help', () => {
  it('help is --help, help COMMAND is COMMAND --help, an unknown one is a usage error', async () => {
    const main = await inHome(['help']);
    expect(main.code).toBe(0);
    expect(main.stdout).toBe((await inHome(['--help'])).stdout);
    expect(main.stdout).toMatch(/\n {2}envs {2,}/);
    expect(main.stdout).toMatch(/\n {2}help {2,}/);
    for (const cmd of ['dedup', 'envs', 'path', 'schedule']) {
      const h = await inHome(['help', cmd]);
      expect(h.code).toBe(0);
      expect(h.stdout).toBe((await inHome([cmd, '--help'])).stdout);
    }
    const bad = await inHome(['help', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown command "nope"/);
  });
});

describe('--quiet and --verbose', () => {
  it('a bare dedup says what it found; --quiet keeps only the result; --verbose names each environment and how it was found', async () => {
    const store = path.join(work, 'store-q');
    const normal = await inHome(['--store', store, 'dedup', '--dry-run']);
    expect(normal.code, normal.stderr).toBe(0);
    expect(normal.stderr).toMatch(/^pycstore: found 1 environment \(1 uv\)$/m);
    const quiet = await inHome(['--store', store, '--quiet', 'dedup', '--dry-run']);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe('');
    expect(quiet.stdout).toBe(normal.stdout);
    const verbose = await inHome(['-v', '--store', store, 'dedup', '--dry-run']);
    expect(verbose.stderr).toContain(`uv                3.11  ${path.join(home, 'src', 'app', '.venv')}  (workspace ${home})`);
  });
});

describe('PYCSTORE_LINK_MODE', () => {
  it('sets the link mode; --link-mode wins; a bad value is a usage error naming the variable', async () => {
    const store = path.join(work, 'store-lm');
    const bad = await inHome(['--store', store, 'dedup'], { PYCSTORE_LINK_MODE: 'symlink' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/PYCSTORE_LINK_MODE must be auto, reflink or hardlink \(got "symlink"\)/);
    const fromEnv = await inHome(['--store', store, '--json', 'dedup'], { PYCSTORE_LINK_MODE: 'hardlink' });
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
    expect(fromEnv.json).toMatchObject({ files: 1, linked: 1, linkKinds: { [store]: 'hardlink' } });
    const flagWins = await inHome(['--store', store, '--json', 'dedup', '--link-mode', 'hardlink'], { PYCSTORE_LINK_MODE: 'symlink' });
    expect(flagWins.code, flagWins.stderr).toBe(0);
    expect(flagWins.json).toMatchObject({ files: 1, shared: 1 });
  });
});

describe('the progress line', () => {
  it('counts, percentage when the total is known, and the rate once a second has passed', () => {
    expect(progressText({ label: 'reading', done: 1234, total: 5000, unit: 'pycs', elapsedMs: 2000, extra: '12.0 MiB' })).toBe('reading: 1,234/5,000 pycs (24%), 617/s, 12.0 MiB');
    expect(progressText({ label: 'scanning', done: 80, unit: 'folders', elapsedMs: 500 })).toBe('scanning: 80 folders');
    expect(progressText({ label: 'linking', done: 0, total: 0, unit: 'pycs', elapsedMs: 0 })).toBe('linking: 0/0 pycs');
  });

  it('progressOf draws through the output with its own clock', () => {
    const lines: string[] = [];
    const out = { ...memoryOutput(), progress: (l: string) => void lines.push(l) };
    let t = 1000;
    const p = progressOf(out, 'verifying', 'objects', 10, () => t);
    t += 4000;
    p.update(8);
    expect(lines).toEqual(['verifying: 8/10 objects (80%), 2/s']);
  });

  it('bars: solid for the part, light for the rest, eighths at the edge', () => {
    expect(bar(8, 8)).toBe('████████');
    expect(bar(8, 2, 2)).toBe('██░░');
    expect(bar(8, 2.5)).toBe('██▌');
    expect(bar(8, 0, 3)).toBe('░░░');
    expect(bar(4, 9)).toBe('████');
  });
});
