/**
 * audit end to end on this machine's filesystem (ext4), with real venvs and
 * the real CLI: its figures equal the same figures recomputed from lstat
 * alone, it names each anomaly with its paths, it answers "what shares this
 * file?", and it leaves no trace on disk.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, unlinkSync, utimesSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { isPyc, listFiles, makeVenv, runInVenv, snapshot } from '../helpers/venv.js';
import { copies, IMPORT_PIP, independentFigures, isPep3147WithSource, pipInitPyc, sitePackages } from './helpers.js';

let work: string;
let template: string;

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'pycstore-audit-'));
  template = makeVenv(path.join(work, 'template'));
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

const FIGURES = ['pycs', 'linked', 'apparentBytes', 'allocatedBytes', 'bytesSaved'] as const;

function figuresOf(json: Record<string, any>): { roots: Record<string, unknown>[]; totals: Record<string, unknown> } {
  const pick = (o: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(['path', ...FIGURES].filter((k) => k in o).map((k) => [k, o[k]]));
  return { roots: (json['roots'] as Record<string, unknown>[]).map(pick), totals: pick(json['totals']) };
}

function anomaly(json: Record<string, any>, kind: string): { kind: string; count: number; paths: string[]; fix: string } | undefined {
  return (json['anomalies'] as { kind: string; count: number; paths: string[]; fix: string }[]).find((a) => a.kind === kind);
}

describe('audit over deduplicated venvs (hard links on ext4)', () => {
  it('--json figures equal the figures recomputed from lstat, before and after Python replaced a link, a file vanished and a tree was cp -al copied', async () => {
    const [a, b, c] = copies(work, template, 'fig', 3);
    const store = path.join(work, 'store-fig');
    const d = path.join(work, 'fig', 'D');
    const e = path.join(work, 'fig', 'E');
    execFileSync('cp', ['-a', template, d]);
    execFileSync('cp', ['-al', d, e]); // hard links outside the store: every pyc of D and E has nlink 2

    const r = await runCli(['--store', store, '--json', 'dedup', a!, b!, c!]);
    expect(r.code, r.stderr).toBe(0);

    // 1. Clean: every pyc of A, B, C linked; nothing wrong; the total is what status says it saves.
    const clean = await runCli(['--store', store, '--json', 'audit']);
    expect(clean.code, clean.stderr).toBe(0);
    const expected = independentFigures([a!, b!, c!], store);
    expect(figuresOf(clean.json!)).toEqual(expected);
    expect(expected.totals.pycs).toBeGreaterThan(1500);
    expect(expected.totals.linked).toBe(expected.totals.pycs);
    expect(clean.json!['anomalies']).toEqual([]);
    const status = await runCli(['--store', store, '--json', 'status']);
    const diff = (status.json!['bytesSaved'] as number) - expected.totals.bytesSaved;
    expect(diff).toBeGreaterThanOrEqual(0);
    expect(diff).toBeLessThan(3); // < 1 byte of rounding per root

    // 2. Anomalies: Python recompiles one linked pyc of A (its source changed), one pyc of B is deleted.
    const replaced = pipInitPyc(a!);
    const src = path.join(sitePackages(a!), 'pip', '__init__.py');
    utimesSync(src, new Date(), new Date(Date.now() + 5000));
    runInVenv(a!, IMPORT_PIP);
    const gone = listFiles(b!, isPyc).find((f) => f.path.includes(`${path.sep}pip${path.sep}_internal${path.sep}__pycache__`))!.path;
    unlinkSync(gone);

    const roots = [a!, b!, c!, d, e];
    const r2 = await runCli(['--store', store, '--json', 'audit', ...roots]);
    expect(r2.code, r2.stderr).toBe(0);
    const expected2 = independentFigures(roots, store);
    expect(figuresOf(r2.json!)).toEqual(expected2);
    expect(expected2.roots[0]!.linked).toBe(expected2.roots[0]!.pycs - 1);
    expect(expected2.roots[3]!.linked).toBe(0);

    expect(anomaly(r2.json!, 'replaced')).toEqual({ kind: 'replaced', count: 1, paths: [replaced], fix: 'pycstore dedup' });
    expect(anomaly(r2.json!, 'missing-file')).toEqual({ kind: 'missing-file', count: 1, paths: [gone], fix: 'pycstore verify --repair' });
    const foreign = anomaly(r2.json!, 'foreign-inode')!;
    const inDE = [...listFiles(d, isPep3147WithSource), ...listFiles(e, isPep3147WithSource)].map((f) => f.path).sort();
    expect(foreign.paths).toEqual(inDE);
    expect(foreign.count).toBe(expected2.roots[3]!.pycs * 2);
    expect(r2.json!['anomalies'].map((x: { kind: string }) => x.kind)).toEqual(['replaced', 'foreign-inode', 'missing-file']);

    // The same as a table, with a few paths per kind and the command that fixes it.
    const h = await runCli(['--store', store, 'audit', ...roots]);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/^root\s+pycs\s+linked\s+apparent\s+allocated\s+saved$/m);
    expect(h.stdout).toMatch(new RegExp(`^total\\s+${expected2.totals.pycs.toLocaleString('en-US')}\\s+${expected2.totals.linked.toLocaleString('en-US')}\\s`, 'm'));
    expect(h.stdout).toContain(`replaced (1): links Python has since replaced`);
    expect(h.stdout).toContain('fix: pycstore dedup');
    expect(h.stdout).toContain(`… and ${(foreign.count - 5).toLocaleString('en-US')} more; --json lists all`);

    // dedup re-shares the recompiled pyc; the anomaly is gone. Its source's mtime no longer agrees with
    // B's and C's copies, so (auto header policy) all three move to one checked-hash object.
    const again = await runCli(['--store', store, '--json', 'dedup']);
    expect(again.json).toMatchObject({ linked: 3 });
    const r3 = await runCli(['--store', store, '--json', 'audit', a!]);
    expect(r3.json!['anomalies']).toEqual([]);
    expect(figuresOf(r3.json!)).toEqual(independentFigures([a!], store));
  });

  it('reads only: the store (ledger included) and the trees are byte-for-byte unchanged, no lock or side file appears', async () => {
    const [a, b] = copies(work, template, 'ro', 2);
    const store = path.join(work, 'store-ro');
    expect((await runCli(['--store', store, 'dedup', a!, b!])).code).toBe(0);
    const storeBefore = snapshot(store);
    const treeBefore = snapshot(path.dirname(a!));
    for (const args of [['audit'], ['audit', '--full', a!], ['audit', pipInitPyc(a!)]]) {
      const r = await runCli(['--store', store, '--json', ...args]);
      expect(r.code, r.stderr).toBe(0);
    }
    expect(snapshot(store)).toEqual(storeBefore);
    expect(snapshot(path.dirname(a!))).toEqual(treeBefore);

    // Without a store: everything unlinked, and no store is created.
    const none = path.join(work, 'store-none');
    const r = await runCli(['--store', none, '--json', 'audit', a!]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ exists: false, totals: { linked: 0, bytesSaved: 0 } });
    expect(existsSync(none)).toBe(false);
  });

  it('audit FILE names the other paths that share its object, from the ledger', async () => {
    const [a, b, c] = copies(work, template, 'file', 3);
    const store = path.join(work, 'store-file');
    expect((await runCli(['--store', store, 'dedup', a!, b!, c!])).code).toBe(0);
    const extra = path.join(work, 'file', 'A2');
    execFileSync('cp', ['-al', a!, extra]); // one more name of every inode, unknown to the ledger

    const r = await runCli(['--store', store, '--json', 'audit', pipInitPyc(a!)]);
    expect(r.code, r.stderr).toBe(0);
    const f = r.json!['files'][0];
    expect(f).toMatchObject({ path: pipInitPyc(a!), state: 'linked', kind: 'hardlink', unrecordedNames: 1 });
    expect(f.objectPath).toMatch(/objects-v1\/[0-9a-f]{2}\/[0-9a-f]{16}-\d+$/);
    expect(f.sharedWith).toEqual([
      { path: pipInitPyc(b!), kind: 'hardlink', linked: true },
      { path: pipInitPyc(c!), kind: 'hardlink', linked: true },
    ]);
    const h = await runCli(['--store', store, 'audit', pipInitPyc(a!)]);
    expect(h.stdout).toContain('shared with 2 other paths:');
    expect(h.stdout).toContain(pipInitPyc(c!));
    expect(h.stdout).toContain("1 more names of this inode the ledger doesn't know");

    // After Python replaced B's copy: B no longer shares it; B itself says what it was.
    utimesSync(path.join(sitePackages(b!), 'pip', '__init__.py'), new Date(), new Date(Date.now() + 5000));
    runInVenv(b!, IMPORT_PIP);
    const r2 = await runCli(['--store', store, '--json', 'audit', pipInitPyc(a!), pipInitPyc(b!)]);
    const [fa, fb] = r2.json!['files'];
    expect(fa.sharedWith).toEqual([
      { path: pipInitPyc(c!), kind: 'hardlink', linked: true },
      { path: pipInitPyc(b!), kind: 'hardlink', linked: false },
    ]);
    expect(fb).toMatchObject({ state: 'replaced', object: fa.object, kind: null });

    // Not a pyc the ledger knows.
    const r3 = await runCli(['--store', store, '--json', 'audit', path.join(sitePackages(a!), 'pip', '__init__.py')]);
    expect(r3.json!['files'][0]).toMatchObject({ state: 'not-linked', object: null, sharedWith: [] });
  });

  it('refuses mixed files and directories, and PATHs that do not exist (exit 2); with no PATH and no roots says what to do', async () => {
    const [a] = copies(work, template, 'usage', 1);
    const store = path.join(work, 'store-usage');
    const mixed = await runCli(['--store', store, 'audit', a!, pipInitPyc(a!)]);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/either directories .* or files/);
    expect((await runCli(['--store', store, 'audit', path.join(work, 'nope')])).code).toBe(2);
    const none = await runCli(['--store', store, 'audit']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/pycstore dedup/);
    const help = await runCli(['audit', '--help']);
    expect(help.stdout).toMatch(/st_nlink − 1 for a hard link/);
    expect(help.stdout).toMatch(/--full/);
  });
});
