/**
 * Which lock each command takes, with real processes: verify --repair waits
 * for a shared holder (a running dedup) like gc does; a plain verify runs
 * beside it; audit takes no lock at all, not even against an exclusive holder.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireLock } from '../../src/store/lock.js';
import { runCli, startCli, until } from '../helpers/cli.js';
import { pythonEnv } from '../helpers/interpreters.js';

let work: string;
let store: string;
let tree: string;

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'pycstore-verify-lock-'));
  tree = path.join(work, 'tree');
  for (const t of ['a', 'b']) {
    const pkg = path.join(tree, t, 'pkg');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(path.join(pkg, 'mod.py'), 'X = 1\n');
  }
  execFileSync('python3', ['-m', 'compileall', '-q', tree], { env: pythonEnv() });
  store = path.join(work, 'store');
  const r = await runCli(['--store', store, '--json', 'dedup', tree]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.json).toMatchObject({ linked: 2 });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('verify and audit locks', () => {
  it('verify --repair waits for a shared holder; plain verify and audit do not', async () => {
    const shared = acquireLock(store, 'shared', { command: 'dedup' });
    let repair: ReturnType<typeof startCli> | undefined;
    try {
      const plain = await runCli(['--store', store, '--json', 'verify']);
      expect(plain.code, plain.stderr).toBe(0);
      const audit = await runCli(['--store', store, '--json', 'audit']);
      expect(audit.code, audit.stderr).toBe(0);
      // (Started last: while it waits, its PENDING lock keeps new shared holders out, as for gc.)
      repair = startCli(['--store', store, '--json', 'verify', '--repair']);
      let exited = false;
      void repair.done.then(() => (exited = true));
      const r = repair;
      await until('verify --repair to say it waits', () => /waiting for/.test(r.stderr()) || exited);
      expect(exited, r.stderr()).toBe(false); // still waiting: it has not started
    } finally {
      shared.release();
    }
    const r = await repair!.done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/waiting for pycstore \w+ \(pid \d+\) to finish with the store before verify can start/);

    const exclusive = acquireLock(store, 'exclusive', { command: 'gc' });
    try {
      const audit = await runCli(['--store', store, '--json', 'audit', tree]);
      expect(audit.code, audit.stderr).toBe(0);
      expect(audit.json!['totals']).toMatchObject({ pycs: 2, linked: 2 });
    } finally {
      exclusive.release();
    }
  });
});
