/**
 * Runs every row of the hostile-input table (hostile-table.ts) against the built CLI: exit code,
 * message, error code, skip reason, and that nothing was lost (see the table's header). Each row's
 * checks are soft: a row that fails reports every way it falls short of its contract, not only the first.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { ledgerPath } from '../../src/store/location.js';
import { CLI, cleanEnv } from '../helpers/cli.js';
import { isLoopFsSkip, mountLoopFs, requireLoopFs, type LoopFs } from '../helpers/loopfs.js';
import { isRoot, REQUIRE, requireOrSkip } from '../helpers/require.js';
import { makeVenv } from '../helpers/venv.js';
import { checker, expectCleanError, fileIdentity, makePkgTree , testHome } from './helpers.js';
import { giveToNobody, HOSTILE, NOBODY, type HostileRow, type RowCtx } from './hostile-table.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  json: Record<string, any> | undefined;
  rssKiB?: number;
}

let work: string;
let smallTemplate: string;
let venvTemplate: string;
const mounts: LoopFs[] = [];

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'pycstore-hostile-'));
  chmodSync(work, 0o755);
  smallTemplate = path.join(work, 'template-small');
  makePkgTree(smallTemplate);
  venvTemplate = makeVenv(path.join(work, 'template-venv'));
});
afterAll(async () => {
  for (const m of mounts) await m.cleanup();
  rmSync(work, { recursive: true, force: true });
});

/** The row's folder with its trees (on a loop filesystem if the row wants one). */
async function prepare(row: HostileRow, ctx: TestContext): Promise<RowCtx> {
  let base = work;
  if (row.fs) {
    const fs = await mountLoopFs(row.fs.kind, { sizeMiB: row.fs.sizeMiB, mkfsArgs: row.fs.mkfsArgs });
    if (!isLoopFsSkip(fs)) mounts.push(fs);
    base = requireLoopFs(ctx, fs).mountpoint;
  }
  const dir = path.join(base, row.kind);
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  const copy = (template: string, name: string): string => {
    execFileSync('cp', ['-a', template, path.join(dir, name)]);
    return path.join(dir, name);
  };
  const tree = copy(smallTemplate, 'tree');
  const tree2 = copy(smallTemplate, 'tree2');
  const venvs = row.venvs ? [copy(venvTemplate, 'venvA'), copy(venvTemplate, 'venvB')] : [];
  mkdirSync(path.join(dir, 'stores'), { mode: 0o755 });
  const site = path.join('lib', 'python3.11', 'site-packages', 'pkg');
  return { dir, tree, tree2, pkg: path.join(tree, site), pkg2: path.join(tree2, site), store: path.join(dir, 'stores', 'store'), venvs };
}

function cliArgv(row: HostileRow, args: string[], rss = false): string[] {
  const argv = [process.execPath, CLI, ...(row.json === false ? [] : ['--json']), ...args];
  const withUser = row.how === 'as-nobody' ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', ...argv] : argv;
  return rss ? ['/usr/bin/time', '-f', 'RSS-KiB %M', ...withUser] : withUser;
}

function spawnRun(argv: string[], opts: { closeStdout?: boolean; onStart?: (pid: number) => void } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env: cleanEnv(testHome()), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    if (opts.closeStdout) child.stdout.destroy();
    else child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    if (child.pid !== undefined) opts.onStart?.(child.pid);
    child.on('close', (code, signal) => {
      let json: Record<string, any> | undefined;
      try {
        json = JSON.parse(stdout) as Record<string, any>;
      } catch {
        json = undefined;
      }
      const m = /^RSS-KiB (\d+)$/m.exec(stderr);
      const rssKiB = m ? Number(m[1]) : undefined;
      if (m) stderr = stderr.replace(/^RSS-KiB \d+\n?/m, '');
      resolve({ code: code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : -1), stdout, stderr, json, ...(rssKiB ? { rssKiB } : {}) });
    });
  });
}

/** Every pyc of the venvs, to watch for the first one that becomes a store link. */
function venvPycs(venvs: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith('.pyc') && d.endsWith('__pycache__')) out.push(p);
    }
  };
  venvs.forEach(walk);
  return out;
}

/** Sends `sig` once the first venv pyc has become a link (nlink > 1), polling with a deadline. */
async function signalWhileLinking(pid: number, pycs: readonly string[], sig: NodeJS.Signals, done: () => boolean): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline && !done()) {
    if (pycs.some((p) => lstatSync(p).nlink > 1)) {
      process.kill(pid, sig);
      return;
    }
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`no venv pyc became a link within the deadline (or the run ended first) before ${sig}`);
}

async function runRow(row: HostileRow, c: RowCtx): Promise<Run> {
  const argv = cliArgv(row, row.command(c), row.kind === 'too-large');
  if (row.how === 'closed-stdout') return spawnRun(argv, { closeStdout: true });
  if (row.how === 'sigint-while-linking' || row.how === 'sigterm-while-linking') {
    const sig = row.how === 'sigint-while-linking' ? 'SIGINT' : 'SIGTERM';
    let ended = false;
    let watcher: Promise<void> = Promise.resolve();
    // strace, attached right away, delays each rename (a venv file swapped for its link) by 5 ms: the signal lands mid-way.
    const run = spawnRun(argv, {
      onStart: (pid) => {
        const slow = spawn('strace', ['-qq', '-f', '-o', '/dev/null', '-p', String(pid), '-e', 'trace=rename', '-e', 'inject=rename:delay_enter=5000'], { stdio: 'ignore' });
        slow.on('error', () => undefined);
        watcher = signalWhileLinking(pid, venvPycs(c.venvs), sig, () => ended);
      },
    });
    const r = await run;
    ended = true;
    await watcher;
    return r;
  }
  return spawnRun(argv);
}

/** A plain CLI run of this row (same user), for the checks after. */
const cli = (row: HostileRow, args: string[]): Promise<Run> => spawnRun(cliArgv({ ...row, json: true }, args));

function snapshotTrees(c: RowCtx, row: HostileRow): Map<string, string> {
  const snaps = new Map<string, string>();
  for (const t of [c.tree, c.tree2, ...c.venvs]) {
    const dir = path.join(work, 'snapshots', row.kind); // off the row's filesystem (which may be full on purpose)
    mkdirSync(dir, { recursive: true });
    const snap = path.join(dir, `${path.basename(t)}.json`);
    const r = checker('python3', ['snapshot', snap, t]);
    expect(r.code, `snapshot of ${t} for ${row.kind}: ${r.stderr}`).toBe(0);
    snaps.set(t, snap);
  }
  return snaps;
}

function expectNothingLost(snaps: Map<string, string>): void {
  for (const [tree, snap] of snaps) {
    const r = checker('python3', ['compare', snap, tree]);
    expect.soft(r.json?.problems ?? r.stderr, `${tree}: what the venv runs changed`).toEqual([]);
  }
}

async function expectStoreConsistent(row: HostileRow, c: RowCtx): Promise<void> {
  if (row.storeBroken || !existsSync(ledgerPath(c.store))) return;
  const v = await cli(row, ['--store', c.store, 'verify', '--full']);
  expect.soft(v.code, `verify --full: ${v.stderr}`).toBe(0);
  const a = await cli(row, ['--store', c.store, 'audit']);
  expect.soft(a.code, `audit: ${JSON.stringify(a.json?.['anomalies'])}`).toBe(0);
}

function hasStrace(): boolean {
  return spawnSync('strace', ['-V']).status === 0;
}

/** Extra checks some kinds need beyond the table's columns. */
const EXTRA: Record<string, (row: HostileRow, c: RowCtx, r: Run) => Promise<void>> = {
  'corrupt-ledger': async (row, c) => {
    for (const args of [['dedup', c.tree], ['status'], ['audit'], ['verify'], ['unshare', '--all'], ['dedup', '--dry-run', c.tree]]) {
      const r = await cli(row, ['--store', c.store, ...args]);
      expect.soft(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect.soft(r.json?.['error']?.code).toBe('ELEDGER');
      expectCleanError(r.stderr);
    }
    // The way out the hint gives: move it aside, dedup again (it adopts what is linked).
    renameSync(ledgerPath(c.store), `${ledgerPath(c.store)}.broken`);
    for (const side of ['-wal', '-shm']) rmSync(`${ledgerPath(c.store)}${side}`, { force: true });
    const again = await cli(row, ['--store', c.store, 'dedup', c.tree, c.tree2]);
    expect.soft(again.code, again.stderr).toBe(0);
    expect.soft((await cli(row, ['--store', c.store, 'verify', '--full'])).code).toBe(0);
  },
  'too-large': async (row, c, r) => {
    const base = [path.join(c.dir, 'base1'), path.join(c.dir, 'base2')];
    for (const b of base) execFileSync('cp', ['-a', smallTemplate, b]);
    const baseline = await spawnRun(cliArgv(row, ['--store', path.join(c.dir, 'stores', 'base'), 'dedup', ...base], true));
    expect(baseline.rssKiB, baseline.stderr).toBeGreaterThan(0);
    expect.soft(r.rssKiB! - baseline.rssKiB!, `peak RSS ${r.rssKiB} KiB vs ${baseline.rssKiB} KiB without the big file`).toBeLessThanOrEqual(100 * 1024);
  },
  enospc: async (row, c, r) => {
    const lines = r.stderr.split('\n').filter((l) => /ENOSPC|no space/i.test(l));
    expect.soft(lines, r.stderr.slice(0, 3000)).toHaveLength(1);
    expect.soft(r.stderr).toContain(c.store);
    rmSync(path.join(c.dir, 'filler'));
    const again = await cli(row, ['--store', c.store, 'dedup', ...c.venvs]);
    expect.soft(again.code, again.stderr).toBe(0);
  },
  'sigint-while-linking': async (row, c) => expectLedgerInStep(row, c),
  'sigterm-while-linking': async (row, c) => expectLedgerInStep(row, c),
};

/** `status` links equal the venv pycs that share their inode with the store (hard links). */
async function expectLedgerInStep(row: HostileRow, c: RowCtx): Promise<void> {
  const status = await cli(row, ['--store', c.store, 'status']);
  const linked = venvPycs(c.venvs).filter((p) => lstatSync(p).nlink > 1).length;
  expect.soft(status.json?.['links'], 'ledger links vs venv pycs that are store links').toBe(linked);
}

describe('bad and hostile input: one clear line, the right exit code, nothing lost', () => {
  it('the table has at least 30 kinds, each named once', () => {
    const kinds = HOSTILE.map((r) => r.kind);
    expect(new Set(kinds).size).toBe(kinds.length);
    expect(kinds.length).toBeGreaterThanOrEqual(30);
  });

  for (const row of HOSTILE) {
    it(`${row.kind}: ${row.input}`, async (ctx) => {
      if (row.how === 'as-nobody') requireOrSkip(ctx, REQUIRE.root, row.kind, isRoot ? undefined : `needs root to run pycstore as uid ${NOBODY}`);
      if (row.how?.startsWith('sig')) {
        requireOrSkip(ctx, REQUIRE.strace, row.kind, hasStrace() ? undefined : 'strace not found (apt-get install strace): it slows the linking so the signal lands mid-run');
      }
      const c = await prepare(row, ctx);
      row.setup(c);
      if (row.how === 'as-nobody') giveToNobody(c.dir);
      const snaps = snapshotTrees(c, row);
      const untouched = (row.untouched?.(c) ?? []).map((p) => [p, fileIdentity(p)] as const);

      const r = await runRow(row, c);
      const said = `${r.stderr}\n${r.stdout}\n${JSON.stringify(r.json?.['error'] ?? '')}`;
      expect.soft(r.code, `exit code; stderr:\n${r.stderr.slice(0, 2000)}`).toBe(row.exit);
      expectCleanError(r.stderr, 1, expect.soft);
      if (row.message) expect.soft(said).toMatch(row.message);
      if (row.errorCode) expect.soft(r.json?.['error']?.code, said).toBe(row.errorCode);
      if (row.skippedAs) {
        const skipped = (r.json?.['skipped'] ?? {}) as Record<string, number>;
        const n = row.skippedAs.reduce((s, k) => s + (skipped[k] ?? 0), 0);
        expect.soft(n, `counted under ${row.skippedAs.join(' or ')}; skipped: ${JSON.stringify(skipped)}`).toBeGreaterThanOrEqual(1);
      }
      for (const [p, before] of untouched) expect.soft(fileIdentity(p), `${p} must be untouched`).toBe(before);
      if (row.createsNothing) expect.soft(existsSync(c.store), `${c.store} was created by a refusal`).toBe(false);
      await EXTRA[row.kind]?.(row, c, r);
      await row.after?.(c, r);
      expectNothingLost(snaps);
      await expectStoreConsistent(row, c);
    });
  }
});
