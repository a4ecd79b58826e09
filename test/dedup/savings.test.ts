/**
 * One saved figure: what `dedup` reports, what `status` and `audit` say afterwards, and what `du`
 * sees all agree. dedup counts the blocks of each replaced file whose last name it replaced, less
 * the blocks of the objects it created; the ledger keeps each link's freed bytes, so status
 * (Σ links freed − Σ objects allocated) and audit (per pyc: freed − its share of its object)
 * recompute the same sum (audit rounds each root's share of the objects up: less than one byte per
 * root below status). `du` over the venvs and the store (hard links counted once) shows the
 * same saving less the store's own files (its ledger, lock and folders) and less what the venvs'
 * folders grew by (a __pycache__ that held several swap temps at once may keep another block).
 * Tolerance: dedup = status exactly; audit within one byte per root; du's figure differs by exactly
 * that overhead and growth, both measured.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { pythonEnv } from '../helpers/interpreters.js';
import { makeVenv } from '../helpers/venv.js';

let work: string;
beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'pycstore-savings-'));
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Allocated bytes of the folders (not the files) of these trees. */
function folderBytes(...trees: string[]): number {
  const out = execFileSync('find', [...trees, '-type', 'd', '-printf', '%b\n']).toString().trim().split('\n');
  return out.reduce((sum, blocks) => sum + Number(blocks) * 512, 0);
}

/** Allocated bytes of these trees, every inode counted once (one du invocation). */
function du(...trees: string[]): number {
  const out = execFileSync('du', ['-s', '-c', '--block-size=1', ...trees]).toString().trim().split('\n');
  return Number(out[out.length - 1]!.split('\t')[0]);
}

async function figures(store: string, trees: string[]): Promise<{ status: number; audit: number; storeOverhead: number }> {
  const s = await runCli(['--store', store, '--json', 'status']);
  expect(s.code, s.stderr).toBe(0);
  const a = await runCli(['--store', store, '--json', 'audit', ...trees]);
  expect(a.code, a.stderr).toBe(0);
  return { status: s.json!['bytesSaved'], audit: a.json!['totals']['bytesSaved'], storeOverhead: du(store) - s.json!['objectAllocatedBytes'] };
}

/** audit's total is status's, less under one byte of rounding per audited root. */
function expectAuditRounding(f: { status: number; audit: number }, roots: number): void {
  expect(f.status - f.audit).toBeGreaterThanOrEqual(0);
  expect(f.status - f.audit).toBeLessThan(roots);
}

describe('saved figures', () => {
  it('dedup, status, audit and du agree, over a first run and an incremental one', async () => {
    const a = makeVenv(path.join(work, 'A'));
    const b = path.join(work, 'B');
    execFileSync('cp', ['-a', a, b]);
    const c = makeVenv(path.join(work, 'elsewhere', 'C')); // another path: shared through canonical pycs
    const store = path.join(work, 'store');
    const before = du(a, b, c);
    const folders = folderBytes(a, b, c);

    const d1 = await runCli(['--store', store, '--json', 'dedup', a, b, c]);
    expect(d1.code, d1.stderr).toBe(0);
    expect(d1.json!['linked']).toBeGreaterThan(1000);
    const f1 = await figures(store, [a, b, c]);
    expect(f1.status).toBe(d1.json!['bytesSaved']);
    expectAuditRounding(f1, 3);
    const grown = folderBytes(a, b, c) - folders;
    expect(before - du(a, b, c, store)).toBe(f1.status - f1.storeOverhead - grown);
    expect(f1.storeOverhead).toBeGreaterThan(0);

    // A venv added later: the second run's saving adds up with the first.
    const d = makeVenv(path.join(work, 'D'));
    execFileSync(path.join(d, 'bin', 'python'), ['-m', 'compileall', '-q', path.join(d, 'lib')], { env: pythonEnv() });
    const before2 = du(a, b, c, d, store);
    const folders2 = folderBytes(a, b, c, d);
    const d2 = await runCli(['--store', store, '--json', 'dedup', a, b, c, d]);
    expect(d2.code, d2.stderr).toBe(0);
    expect(d2.json!['linked']).toBeGreaterThan(500);
    const f2 = await figures(store, [a, b, c, d]);
    expect(f2.status).toBe(d1.json!['bytesSaved'] + d2.json!['bytesSaved']);
    expectAuditRounding(f2, 4);
    const grown2 = folderBytes(a, b, c, d) - folders2;
    expect(before2 - du(a, b, c, d, store)).toBe(d2.json!['bytesSaved'] - (f2.storeOverhead - f1.storeOverhead) - grown2);
  });
});
