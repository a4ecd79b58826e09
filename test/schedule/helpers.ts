/**
 * Shared pieces of the schedule tests: a Context that records messages, a
 * System whose exec calls are recorded and can be answered by a fake, temp
 * dirs, a stand-in cli.js that records the argv it was run with, a
 * throwaway Linux user for real crontab tests, and cron itself (installed
 * with apt-get when missing, as the tests run as root).
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import type { Context } from '../../src/cli/command.js';
import { memoryOutput } from '../../src/util/output.js';
import { type ExecResult, execFile, type System } from '../../src/schedule/system.js';

const temps: string[] = [];
afterEach(() => {
  while (temps.length) rmSync(temps.pop()!, { recursive: true, force: true });
});

/** A fresh temp dir, world-readable (a throwaway user must reach files in it), removed after the test. */
export function tempDir(prefix = 'pycstore-sched-'): string {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix));
  chmodSync(d, 0o755);
  temps.push(d);
  return d;
}

export function makeCtx(storeDir: string, json = false): Context & { out: ReturnType<typeof memoryOutput> } {
  return { storeDir, json, out: memoryOutput(), env: {}, signal: new AbortController().signal };
}

export type Fake = (argv: readonly string[], input: string | undefined) => ExecResult | Promise<ExecResult> | undefined;

export const ok = (stdout = ''): ExecResult => ({ code: 0, stdout, stderr: '', missing: false });
export const fail = (stderr = '', code = 1): ExecResult => ({ code, stdout: '', stderr, missing: false });
export const missing: ExecResult = { code: null, stdout: '', stderr: 'spawn ENOENT', missing: true };

/**
 * A System for tests. `fake` answers exec calls it knows (return undefined to
 * fall through); anything else is "not installed". Every call is recorded.
 */
export function makeSys(over: Partial<System> & { fake?: Fake; home: string }): System & { calls: string[][] } {
  const calls: string[][] = [];
  const { fake, ...rest } = over;
  return {
    platform: 'linux',
    env: {},
    uid: 1000,
    node: process.execPath,
    cli: '/opt/pycstore/dist/cli.js',
    tmpDir: os.tmpdir(),
    pathExists: async () => false,
    cronDaemonRunning: async () => true,
    ...rest,
    calls,
    async exec(argv, opts = {}) {
      calls.push([...argv]);
      const r = fake ? await fake(argv, opts.input) : undefined;
      return r ?? missing;
    },
  };
}

/**
 * A stand-in for dist/cli.js that appends the argv it got, as one JSON line,
 * to <--store value>/calls.jsonl: running it proves how a scheduler's quoting
 * reaches the program.
 */
export function fakeCli(dir: string): string {
  const file = path.join(dir, 'cli.js');
  writeFileSync(
    file,
    [
      "const fs = require('fs'), path = require('path');",
      'const a = process.argv.slice(2);',
      "const store = a[a.indexOf('--store') + 1];",
      "fs.appendFileSync(path.join(store, 'calls.jsonl'), JSON.stringify(a) + '\\n');",
      "console.log('fake pycstore ' + a[0]);",
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return file;
}

/** Is cron here? If not, try to install Debian's package (tests run as root). */
export async function ensureCron(): Promise<{ ok: true } | { ok: false; why: string }> {
  const probe = await execFile(['crontab', '-l']);
  if (!probe.missing) return { ok: true };
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = await execFile(['apt-get', 'install', '-y', 'cron'], { env });
  if (r.code !== 0 && !r.missing) {
    await execFile(['apt-get', 'update'], { env });
    r = await execFile(['apt-get', 'install', '-y', 'cron'], { env });
  }
  if (!(await execFile(['crontab', '-l'])).missing) return { ok: true };
  return { ok: false, why: `crontab is missing and apt-get install -y cron failed: ${(r.stderr || r.stdout).trim().split('\n').at(-1) ?? ''}` };
}

/** A throwaway user with no login (and no home, unless `home` names an existing folder), for a real crontab that isn't root's. */
export async function makeUser(opts: { home?: string } = {}): Promise<{ name: string; uid: number; remove: () => Promise<void> }> {
  const name = `pycst${Math.random().toString(36).slice(2, 10)}`;
  const r = await execFile(['useradd', '--no-create-home', ...(opts.home ? ['--home-dir', opts.home] : []), '--shell', '/usr/sbin/nologin', name]);
  if (r.code !== 0) throw new Error(`useradd failed: ${r.stderr}`);
  const uid = Number((await execFile(['id', '-u', name])).stdout.trim());
  return {
    name,
    uid,
    remove: async () => {
      await execFile(['crontab', '-u', name, '-r']);
      await execFile(['userdel', name]);
    },
  };
}

/** exec as `sys` would, but `crontab ...` acts on `user`'s crontab (crontab -u USER ...). */
export function crontabOf(user: string): Fake {
  return (argv, input) =>
    argv[0] === 'crontab' ? execFile(['crontab', '-u', user, ...argv.slice(1)], input === undefined ? {} : { input }) : undefined;
}
