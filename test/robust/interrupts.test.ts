/**
 * SIGINT / SIGTERM for the commands that honour ctx.signal (unshare, verify, gc): they stop at
 * their next safe point, say so in one line, record what they did, and exit 130 / 143; the next
 * run finishes. Also: unshare removes the swap temps a SIGKILLed unshare left behind.
 *
 * strace (attached to the running pycstore) slows one kind of syscall down so the signal lands
 * mid-run, and its output is the event the signal waits for; without strace these tests say so
 * and skip (they fail instead when PYCSTORE_REQUIRE_STRACE is set, as CI does).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { objectsDir } from '../../src/store/location.js';
import { CLI, runCli, cleanEnv } from '../helpers/cli.js';
import { isPyc, listFiles, makeVenv } from '../helpers/venv.js';
import { REQUIRE, requireOrSkip } from '../helpers/require.js';
import { checker, expectCleanError , testHome } from './helpers.js';

let work: string;
let template: string;
beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'pycstore-interrupts-'));
  chmodSync(work, 0o755);
  template = makeVenv(path.join(work, 'template'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const haveStrace = spawnSync('strace', ['-V']).status === 0;
function needStrace(ctx: TestContext): void {
  requireOrSkip(ctx, REQUIRE.strace, 'strace', haveStrace ? undefined : 'strace not found (apt-get install strace)');
}

let n = 0;
/** Two copies of the template venv, deduplicated into a fresh store. */
async function linkedVenvs(): Promise<{ venvs: string[]; store: string }> {
  const dir = path.join(work, `case${++n}`);
  const venvs = ['A', 'B'].map((v) => path.join(dir, v));
  mkdirSync(dir);
  for (const v of venvs) execFileSync('cp', ['-a', template, v]);
  const store = path.join(dir, 'store');
  const r = await runCli(['--store', store, 'dedup', ...venvs]);
  expect(r.code, r.stderr).toBe(0);
  return { venvs, store };
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs pycstore; strace attached to it delays every `syscall` by 5 ms; once strace has shown a
 * call whose line matches `when`, `sig` is sent to pycstore.
 */
function runSignalled(args: string[], syscall: string, when: RegExp, sig: NodeJS.Signals): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: cleanEnv(testHome()), stdio: ['ignore', 'pipe', 'pipe'] });
    const tracer = spawn('strace', ['-qq', '-f', '-p', String(child.pid), '-e', `trace=${syscall}`, '-e', `inject=${syscall}:delay_enter=5000`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let trace = '';
    let sent = false;
    tracer.stderr.on('data', (d: Buffer) => {
      trace += d.toString();
      if (!sent && when.test(trace)) {
        sent = true;
        child.kill(sig);
      }
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (!sent) reject(new Error(`the run ended before strace showed ${when} (exit ${code}): ${stderr}`));
      else resolve({ code, signal, stdout, stderr });
    });
  });
}

const linkedCount = (venvs: readonly string[]): number => venvs.flatMap((v) => listFiles(v, isPyc)).filter((f) => f.nlink > 1n).length;

describe('interrupts honoured', () => {
  it('unshare: SIGINT stops it between two files; one line, exit 130, the ledger in step; the next run finishes', async (ctx) => {
    needStrace(ctx);
    const { venvs, store } = await linkedVenvs();
    const r = await runSignalled(['--store', store, 'unshare', venvs[0]!], 'rename', /rename\(/, 'SIGINT');
    expect(r.code, r.stderr).toBe(130);
    expect(r.stdout).toMatch(/^interrupted: [\d,]+ pycs? given a private copy so far; run the same unshare again to finish\.$/m);
    expectCleanError(r.stderr, 0);
    const stillLinked = linkedCount([venvs[0]!]);
    expect(stillLinked, 'stopped part-way').toBeGreaterThan(0);
    expect(stillLinked).toBeLessThan(listFiles(venvs[0]!, isPyc).length);
    // Ledger in step with the disk: a link row for each file that still shares an inode with the store.
    const status = await runCli(['--store', store, '--json', 'status']);
    expect(status.json?.['links']).toBe(linkedCount(venvs));
    expect(status.json?.['rootPaths']).toContain(venvs[0]); // kept until every file under it is private
    const again = await runCli(['--store', store, '--json', 'unshare', venvs[0]!]);
    expect(again.code, again.stderr).toBe(0);
    expect(linkedCount([venvs[0]!])).toBe(0);
    expect((await runCli(['--store', store, 'verify', '--full'])).code).toBe(0);
  });

  it('verify: SIGTERM stops it between two objects; exit 143, what was checked is recorded; the next run finishes', async (ctx) => {
    needStrace(ctx);
    const { store } = await linkedVenvs();
    const r = await runSignalled(['--store', store, '--json', 'verify', '--full'], 'openat', /objects-v1\//, 'SIGTERM');
    expect(r.code, r.stderr).toBe(143);
    const report = JSON.parse(r.stdout) as { interrupted: boolean; checked: number; objects: number };
    expect(report.interrupted).toBe(true);
    expect(report.checked).toBeGreaterThan(0);
    expect(report.checked).toBeLessThan(report.objects);
    expectCleanError(r.stderr, 0);
    const again = await runCli(['--store', store, '--json', 'verify', '--full']);
    expect(again.code).toBe(0);
    expect(again.json?.['interrupted']).toBe(false);
  });

  it('gc: SIGINT while it looks stops it before it deletes anything; exit 130; the next gc collects', async (ctx) => {
    needStrace(ctx);
    const { venvs, store } = await linkedVenvs();
    rmSync(venvs[1]!, { recursive: true });
    execFileSync('cp', ['-a', template, venvs[1]!]); // B's old links are gone: A still holds every object
    rmSync(venvs[0]!, { recursive: true }); // now nothing holds them
    const objects = (): number => readdirSync(objectsDir(store)).flatMap((d) => readdirSync(path.join(objectsDir(store), d))).length;
    const before = objects();
    const r = await runSignalled(['--store', store, '--json', 'gc', '--grace', '0'], 'statx', /venvs|\/A\/|\/B\//, 'SIGINT');
    expect(r.code, r.stderr).toBe(130);
    expect(JSON.parse(r.stdout)).toMatchObject({ interrupted: true, objectsDeleted: 0 });
    expect(objects()).toBe(before);
    const again = await runCli(['--store', store, '--json', 'gc', '--grace', '0']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json?.['objectsDeleted']).toBe(before);
  });
});

describe('unshare after a SIGKILL', () => {
  it('removes the swap temps the killed unshare left; nothing was lost meanwhile', async (ctx) => {
    needStrace(ctx);
    const { venvs, store } = await linkedVenvs();
    const snap = path.join(work, `snap-${n}.json`);
    const py = path.join(venvs[0]!, 'bin', 'python');
    // The checker's snapshot is of the venv as it was before pycstore touched it: a fresh copy of the template.
    const original = path.join(work, `original-${n}`);
    execFileSync('cp', ['-a', template, original]);
    expect(checker(py, ['snapshot', snap, original]).code).toBe(0);
    // Killed (SIGKILL, delivered by strace) as it enters its 5th rename: that file's private copy is written, not renamed.
    const killed = spawnSync('strace', ['-qq', '-f', '-o', '/dev/null', '-e', 'trace=rename', '-e', 'inject=rename:signal=SIGKILL:when=5', process.execPath, CLI, '--store', store, 'unshare', venvs[0]!], {
      env: cleanEnv(testHome()),
    });
    expect(killed.signal ?? killed.status).not.toBe(0);
    const temps = listFiles(venvs[0]!, (p) => /\/\.pycstore-\d+-[0-9a-f]{12}\.tmp$/.test(p));
    expect(temps.length, 'the kill left a temp name').toBe(1);
    // A temp of a process that is alive (this one) is not ours to remove.
    const alive = path.join(path.dirname(temps[0]!.path), `.pycstore-${process.pid}-0123456789ab.tmp`);
    writeFileSync(alive, 'in use');

    const again = await runCli(['--store', store, '--json', 'unshare', venvs[0]!]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json?.['leftoversRemoved']).toBe(1);
    expect(existsSync(temps[0]!.path)).toBe(false);
    expect(existsSync(alive)).toBe(true);
    rmSync(alive);
    expect(linkedCount([venvs[0]!])).toBe(0);
    // Every pyc of A loads as before (compared with the untouched copy, path for path).
    const moved = path.join(work, `original-${n}`);
    rmSync(moved, { recursive: true });
    execFileSync('cp', ['-a', venvs[0]!, moved]);
    const cmp = checker(py, ['compare', snap, moved]);
    expect(cmp.json?.problems ?? cmp.stderr).toEqual([]);
    expect(lstatSync(venvs[0]!).isDirectory()).toBe(true);
  });
});

describe('verify --repair after a SIGKILL', () => {
  it('killed right after moving a corrupt object to quarantine (its rows not yet forgotten): the next repair finishes', async (ctx) => {
    needStrace(ctx);
    const { venvs, store } = await linkedVenvs();
    const pyc = listFiles(venvs[0]!, isPyc)[0]!.path;
    const info = (await runCli(['--store', store, '--json', 'audit', pyc])).json!['files'][0] as { objectPath: string };
    chmodSync(info.objectPath, 0o644);
    const bytes = readFileSync(info.objectPath);
    bytes[bytes.length - 1]! ^= 0xff;
    writeFileSync(info.objectPath, bytes);
    chmodSync(info.objectPath, 0o444);
    // Held at the exit of its rename into quarantine-v1 (strace delays it), then SIGKILLed there.
    const child = spawn(process.execPath, [CLI, '--store', store, '--json', 'verify', '--full', '--repair'], { env: cleanEnv(testHome()), stdio: 'ignore' });
    const tracer = spawn('strace', ['-qq', '-f', '-p', String(child.pid), '-e', 'trace=rename', '-e', 'inject=rename:delay_exit=3000000'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let trace = '';
    const killed = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
    tracer.stderr.on('data', (d: Buffer) => {
      trace += d.toString();
      if (/rename\(.*quarantine-v1.*\) = 0/.test(trace)) child.kill('SIGKILL');
    });
    expect(await killed).toBe('SIGKILL');
    expect(existsSync(info.objectPath)).toBe(false);
    expect(readdirSync(path.join(store, 'quarantine-v1'))).toHaveLength(1);
    const audit = await runCli(['--store', store, '--json', 'audit']);
    expect(audit.json?.['anomalies'].map((a: { kind: string }) => a.kind)).toContain('missing-object');

    const again = await runCli(['--store', store, '--json', 'verify', '--full', '--repair']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json).toMatchObject({ finished: [info.objectPath], missing: [], corrupt: [] });
    expect((await runCli(['--store', store, 'verify', '--full'])).code).toBe(0);
    expect((await runCli(['--store', store, 'audit'])).code).toBe(0);
  });
});
