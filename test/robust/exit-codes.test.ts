/**
 * The exit-code contract (src/cli/exit.ts): what each kind of error exits with and prints, a
 * closed stdout, and the table in every --help.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeError, errorJson, errorLines, EXIT_STATUS_HELP } from '../../src/cli/exit.js';
import { PycstoreError, usageError } from '../../src/errors.js';
import { lockPath } from '../../src/store/location.js';
import { CLI, runCli, cleanEnv } from '../helpers/cli.js';
import { expectCleanError, makePkgTree , testHome } from './helpers.js';

let work: string;
let tree: string;
let store: string;
beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'pycstore-exit-'));
  chmodSync(work, 0o755);
  tree = path.join(work, 'tree');
  makePkgTree(tree);
  store = path.join(work, 'store');
  expect((await runCli(['--store', store, 'dedup', tree])).code).toBe(0);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A SqliteError as better-sqlite3 throws it (its class and code), made for real. */
function sqliteError(sql: string): unknown {
  const db = new Database(':memory:');
  try {
    db.exec(sql);
  } catch (e) {
    return e;
  } finally {
    db.close();
  }
  throw new Error('no error');
}

describe('describeError: what each error means for the exit status', () => {
  it('refusals exit 2, failures part-way 1, anything unanticipated 3', () => {
    expect(describeError(usageError('bad'), '/s').exit).toBe(2);
    for (const code of ['ESTOREPERM', 'ESTOREFORMAT', 'ELEDGER', 'ELOCKED', 'ENOREFLINK', 'ESCHEDULE'] as const) {
      expect(describeError(new PycstoreError(code, 'x'), '/s').exit, code).toBe(2);
    }
    for (const code of ['EINTEGRITY', 'EPYTHON', 'ENOSPC', 'ECHANGED'] as const) {
      expect(describeError(new PycstoreError(code, 'x'), '/s').exit, code).toBe(1);
    }
    expect(describeError(new PycstoreError('ESCHEDULE', 'step 2 failed', { exit: 1 }), '/s').exit).toBe(1);
    const bug = describeError(new TypeError("Cannot read properties of undefined (reading 'x')"), '/s');
    expect(bug).toMatchObject({ code: 'EINTERNAL', exit: 3, internal: true });
    expect(bug.hint).toMatch(/bug.*report.*PYCSTORE_DEBUG=1/);
  });

  it('system errors it anticipates: no space (1, naming the store), a damaged ledger (1, the way out)', () => {
    const nospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    expect(describeError(nospc, '/data/store')).toMatchObject({ code: 'ENOSPC', exit: 1 });
    expect(describeError(nospc, '/data/store').message).toContain('/data/store');
    const missing = sqliteError('SELECT * FROM objects');
    expect(describeError(missing, '/data/store')).toMatchObject({ code: 'ELEDGER', exit: 1 });
    expect(describeError(missing, '/data/store').hint).toMatch(/mv '\/data\/store\/ledger-v1\.sqlite'/);
    expect(describeError(sqliteError('SELEKT 1'), '/s')).toMatchObject({ code: 'EINTERNAL', exit: 3 });
  });

  it('prints one line (two with the hint), the stack only when asked; --json gets the same', () => {
    const r = describeError(new Error('boom'), '/s');
    expect(errorLines(r, undefined)).toEqual(['pycstore: internal error: boom', `pycstore: ${r.hint}`]);
    expect(errorLines(r, 'Error: boom\n    at x (y.js:1:2)')).toHaveLength(3);
    expect(errorJson(r)).toEqual({ error: { code: 'EINTERNAL', message: 'boom', hint: r.hint } });
  });
});

describe('the CLI', () => {
  it('an internal error: one line and a hint to report it, exit 3; the stack only with PYCSTORE_DEBUG=1', async () => {
    // Stand-in for a bug: a folder where the lock file should be is nothing pycstore anticipates.
    const odd = path.join(work, 'odd-store');
    expect((await runCli(['--store', odd, 'dedup', tree])).code).toBe(0);
    rmSync(lockPath(odd));
    mkdirSync(lockPath(odd));
    const r = await runCli(['--store', odd, '--json', 'dedup', tree]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/^pycstore: internal error: .+\npycstore: this is a bug in pycstore: please report it/);
    expectCleanError(r.stderr);
    expect(r.json?.['error']?.code).toBe('EINTERNAL');
    const debug = await runCli(['--store', odd, 'dedup', tree], { env: { PYCSTORE_DEBUG: '1' } });
    expect(debug.code).toBe(3);
    expect(debug.stderr).toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  });

  it('a closed stdout is not an error: quiet, and the exit status of the work done', async () => {
    const closed = (args: string[]): Promise<{ code: number | null; stderr: string }> =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [CLI, ...args], { env: cleanEnv(testHome()), stdio: ['ignore', 'pipe', 'pipe'] });
        child.stdout.destroy(); // the reader is gone before pycstore writes
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stderr }));
      });
    for (const args of [['--help'], ['dedup', '--help'], ['--store', store, 'status'], ['--store', store, '--json', 'audit'], ['--store', store, 'dedup', '--dry-run', tree]]) {
      const r = await closed(args);
      expect(r, args.join(' ')).toEqual({ code: 0, stderr: '' });
    }
    const refused = await closed(['--store', store, 'dedup', path.join(work, 'nope')]);
    expect(refused.code).toBe(2); // the refusal's own status; its message still on stderr
    expect(refused.stderr).toMatch(/no such directory/);
  });

  it('--help, main and per command, ends with the exit-status table (and what 1 means for verify, audit)', async () => {
    const main = await runCli(['--help']);
    expect(main.stdout).toContain(EXIT_STATUS_HELP.join('\n'));
    for (const c of ['dedup', 'status', 'gc', 'unshare', 'audit', 'verify', 'schedule']) {
      const h = await runCli([c, '--help']);
      expect(h.stdout, c).toContain(EXIT_STATUS_HELP.join('\n'));
    }
    expect((await runCli(['verify', '--help'])).stdout).toMatch(/verify: 1 = an object is corrupt, missing or writable/);
    expect((await runCli(['audit', '--help'])).stdout).toMatch(/audit: 1 = corrupt-object, quarantined-inode, writable-object or missing-object/);
  });
});
