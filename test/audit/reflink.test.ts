/**
 * audit and verify over reflinks, on a loop-mounted XFS (mkfs.xfs -m reflink=1):
 * a reflinked pyc is its own inode, so "linked" is the fingerprint the ledger
 * recorded and k comes from the ledger; the test recomputes both from content.
 * An object corrupted in place doesn't reach the reflinks (copy on write), so
 * --repair keeps them and only quarantines the object. Needs root and
 * xfsprogs; where that isn't possible the tests say so and skip.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { useLoopFs } from '../helpers/loopfs.js';
import { makeVenv, runInVenv } from '../helpers/venv.js';
import { corruptInPlace, filesHolding, IMPORT_PIP, independentFigures, pipInitPyc } from './helpers.js';

let work: string;
let template: string;
beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'pycstore-audit-reflink-'));
  template = makeVenv(path.join(work, 'template'));
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('audit and verify over reflinks on XFS', () => {
  const xfs = useLoopFs('xfs', { sizeMiB: 400 });

  it('audit figures equal the content-based recomputation; a corrupt object is quarantined while the intact reflinks stay', async (ctx) => {
    const fs = xfs.require(ctx);
    const venvs = ['A', 'B', 'C'].map((n) => path.join(fs.mountpoint, 'venvs', n));
    mkdirSync(path.join(fs.mountpoint, 'venvs'));
    for (const v of venvs) execFileSync('cp', ['-a', template, v]);
    const store = path.join(fs.mountpoint, 'store');
    const r = await runCli(['--store', store, '--json', 'dedup', '--link-mode', 'reflink', ...venvs]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!['linkKinds']).toEqual({ [store]: 'reflink' });

    const audit = await runCli(['--store', store, '--json', 'audit']);
    expect(audit.code, audit.stderr).toBe(0);
    const expected = independentFigures(venvs, store, 'content');
    const pick = (o: Record<string, unknown>): Record<string, unknown> =>
      Object.fromEntries(['path', 'pycs', 'linked', 'apparentBytes', 'allocatedBytes', 'bytesSaved'].filter((k) => k in o).map((k) => [k, o[k]]));
    expect({ roots: audit.json!['roots'].map(pick), totals: pick(audit.json!['totals']) }).toEqual(expected);
    expect(expected.totals.linked).toBe(expected.totals.pycs);
    expect(audit.json!['anomalies']).toEqual([]);
    const status = await runCli(['--store', store, '--json', 'status']);
    const diff = (status.json!['bytesSaved'] as number) - expected.totals.bytesSaved;
    expect(diff).toBeGreaterThanOrEqual(0);
    expect(diff).toBeLessThan(3);
    const f = await runCli(['--store', store, '--json', 'audit', pipInitPyc(venvs[0]!)]);
    expect(f.json!['files'][0]).toMatchObject({ state: 'linked', kind: 'reflink', unrecordedNames: 0 });
    expect(f.json!['files'][0].sharedWith.map((s: { path: string; linked: boolean }) => [s.path, s.linked])).toEqual([
      [pipInitPyc(venvs[1]!), true],
      [pipInitPyc(venvs[2]!), true],
    ]);

    // Corrupt the object behind pip/__init__'s pyc in place: the reflinks keep the good extents.
    const good = readFileSync(pipInitPyc(venvs[0]!));
    const objectFile = f.json!['files'][0].objectPath as string;
    const bad = corruptInPlace(objectFile);
    expect(bad).not.toEqual(good);
    for (const v of venvs) expect(readFileSync(pipInitPyc(v))).toEqual(good);

    const rep = await runCli(['--store', store, '--json', 'verify', '--full', '--repair']);
    expect(rep.code).toBe(1);
    const c = rep.json!['corrupt'][0];
    expect(c).toMatchObject({ path: objectFile, links: 3, removed: [] });
    expect(c.kept.sort()).toEqual(venvs.map(pipInitPyc).sort());
    expect(readFileSync(c.quarantined)).toEqual(bad);
    expect(existsSync(objectFile)).toBe(false);
    expect(filesHolding([...venvs, path.join(store, 'objects-v1')], bad)).toEqual([]);
    for (const v of venvs) expect(runInVenv(v, IMPORT_PIP)).toContain(v);

    // The kept files are ordinary pycs now; dedup writes a good object and reflinks them to it again.
    const again = await runCli(['--store', store, '--json', 'dedup']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json).toMatchObject({ linked: 3, objectsCreated: 1 });
    expect(readFileSync(objectFile)).toEqual(good);
    const after = await runCli(['--store', store, '--json', 'audit', '--full']);
    expect(after.code, after.stderr).toBe(0);
    expect(after.json!['anomalies']).toEqual([]);
    expect(after.json!['totals'].linked).toBe(expected.totals.pycs);
  });
});
