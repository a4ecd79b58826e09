/**
 * verify end to end on this machine's filesystem (ext4), with real venvs and
 * the real CLI: a store object corrupted in place is found, quarantined, and
 * every path linked to it removed; each venv's Python writes the pyc again and
 * the next dedup shares it again. The default verify re-hashes only objects
 * whose times moved, and records what it checked.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, utimesSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REQUIRE, requireOrSkip } from '../helpers/require.js';
import { runCli } from '../helpers/cli.js';
import { isPyc, listFiles, makeVenv, runInVenv } from '../helpers/venv.js';
import { copies, corruptInPlace, filesHolding, IMPORT_PIP, objectFileOf, pipInitPyc, sitePackages } from '../audit/helpers.js';

let work: string;
let template: string;

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'pycstore-verify-'));
  template = makeVenv(path.join(work, 'template'));
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('verify over deduplicated venvs (hard links on ext4)', () => {
  it('finds an object corrupted in place (exit 1); --repair leaves no path with the corrupt content, every venv still imports, and dedup shares the fresh pycs again', async () => {
    const venvs = copies(work, template, 'corrupt', 3);
    const store = path.join(work, 'store-corrupt');
    const r = await runCli(['--store', store, '--json', 'dedup', ...venvs]);
    expect(r.code, r.stderr).toBe(0);
    const objects = (await runCli(['--store', store, '--json', 'status'])).json!['objects'] as number;
    const clean = await runCli(['--store', store, '--json', 'verify', '--full']);
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.json).toMatchObject({ objects, checked: objects, corrupt: [], writable: [], missing: [] });

    // As root: chmod u+w the object behind pip/__init__'s pyc and flip one byte.
    const victims = venvs.map(pipInitPyc);
    const object = objectFileOf(store, victims[0]!);
    const bad = corruptInPlace(object);
    for (const v of victims) expect(readFileSync(v)).toEqual(bad); // hard links: every venv sees it

    const full = await runCli(['--store', store, '--json', 'verify', '--full']);
    expect(full.code).toBe(1);
    expect(full.json).toMatchObject({ checked: objects, corrupt: [{ path: object, links: 3 }] });
    expect(full.json!['corrupt'][0].found).not.toBe(full.json!['corrupt'][0].object);
    // The default verify catches it too (writing it moved its mtime), re-hashing only that one.
    const quick = await runCli(['--store', store, '--json', 'verify']);
    expect(quick.code).toBe(1);
    expect(quick.json).toMatchObject({ checked: 1, unchanged: objects - 1, corrupt: [{ path: object }] });
    const human = await runCli(['--store', store, 'verify']);
    expect(human.stdout).toMatch(/CORRUPT {2}.*: content hashes to [0-9a-f]{16}-\d+; 3 linked paths/);
    expect(human.stdout).toContain('Fix: pycstore verify --repair');
    // audit says so as well (cheaply: its times moved), with the fix.
    const audit = await runCli(['--store', store, '--json', 'audit']);
    expect(audit.code).toBe(1);
    expect(audit.json!['anomalies']).toEqual([
      { kind: 'corrupt-object', count: 1, paths: [object], fix: 'pycstore verify --repair' },
      { kind: 'writable-object', count: 1, paths: [object], fix: 'pycstore verify --repair' },
    ]);

    const rep = await runCli(['--store', store, '--json', 'verify', '--repair']);
    expect(rep.code, rep.stderr).toBe(1); // something corrupt was found
    const c = rep.json!['corrupt'][0];
    expect(c.removed.sort()).toEqual([...victims].sort());
    expect(c).toMatchObject({ kept: [], unrecordedNames: 0 });
    expect(path.dirname(c.quarantined)).toBe(path.join(store, 'quarantine-v1'));
    expect(readFileSync(c.quarantined)).toEqual(bad);
    expect(existsSync(object)).toBe(false);
    for (const v of victims) expect(existsSync(v)).toBe(false);
    // No path holds the corrupt content: not a venv file, not a store object (only the quarantine does).
    expect(filesHolding([...venvs, path.join(store, 'objects-v1')], bad)).toEqual([]);

    // Every venv still imports (Python writes the missing pyc, as it would for any user).
    for (const v of venvs) expect(runInVenv(v, IMPORT_PIP)).toContain(v);
    for (const v of victims) expect(lstatSync(v).nlink).toBe(1);
    expect(filesHolding(venvs, bad)).toEqual([]);

    // The next dedup shares the regenerated pycs again: one new object, the three of them linked to it.
    const again = await runCli(['--store', store, '--json', 'dedup']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json).toMatchObject({ linked: 3, objectsCreated: 1 });
    const inodes = new Set(victims.map((v) => lstatSync(v).ino));
    expect(inodes.size).toBe(1);
    const fresh = objectFileOf(store, victims[0]!);
    expect(readFileSync(fresh)).not.toEqual(bad);
    const after = await runCli(['--store', store, '--json', 'verify', '--full']);
    expect(after.code, after.stderr).toBe(0);
    expect(after.json).toMatchObject({ objects, corrupt: [] });
    const auditAfter = await runCli(['--store', store, '--json', 'audit']);
    expect(auditAfter.code).toBe(0);
    expect(auditAfter.json!['anomalies']).toEqual([]);
    expect(auditAfter.json!['totals'].linked).toBe(auditAfter.json!['totals'].pycs);
  });

  it('re-hashes by default only the objects whose mtime or ctime moved, and records them so the next run skips them', async () => {
    const [a, b] = copies(work, template, 'times', 2);
    const store = path.join(work, 'store-times');
    expect((await runCli(['--store', store, 'dedup', a!, b!])).code).toBe(0);
    // dedup recorded each object's ctime after linking: nothing to re-hash.
    const v1 = await runCli(['--store', store, '--json', 'verify']);
    expect(v1.code, v1.stderr).toBe(0);
    expect(v1.json).toMatchObject({ checked: 0, bytesHashed: 0 });
    const objects = v1.json!['objects'] as number;
    expect(v1.json!['unchanged']).toBe(objects);

    // Python replaces A's pyc (its source changed): the object loses a name, so its ctime moves.
    utimesSync(path.join(sitePackages(a!), 'pip', '__init__.py'), new Date(), new Date(Date.now() + 5000));
    runInVenv(a!, IMPORT_PIP);
    const v2 = await runCli(['--store', store, '--json', 'verify']);
    expect(v2.code).toBe(0);
    expect(v2.json).toMatchObject({ checked: 1, unchanged: objects - 1, corrupt: [] });
    const v3 = await runCli(['--store', store, '--json', 'verify']);
    expect(v3.json).toMatchObject({ checked: 0 });
    const v4 = await runCli(['--store', store, '--json', 'verify', '--full']);
    expect(v4.json).toMatchObject({ checked: objects, unchanged: 0 });
  });

  it('reports a lost read-only mode and a ledger link whose file is gone; --repair restores the mode and forgets the link', async () => {
    const [a, b] = copies(work, template, 'mode', 2);
    const store = path.join(work, 'store-mode');
    expect((await runCli(['--store', store, 'dedup', a!, b!])).code).toBe(0);
    const object = objectFileOf(store, pipInitPyc(a!));
    chmodSync(pipInitPyc(b!), 0o644); // through a venv name: one inode, so the object's mode too
    const gone = listFiles(a!, isPyc).find((f) => f.path !== pipInitPyc(a!))!.path;
    unlinkSync(gone);

    const v = await runCli(['--store', store, '--json', 'verify']);
    expect(v.code, v.stderr).toBe(1); // not corrupt (its content was re-hashed and is intact), but writable: a problem
    expect(v.json).toMatchObject({ checked: 2, writable: [{ path: object, restored: false }], corrupt: [], forgotten: 0 });
    const audit = await runCli(['--store', store, '--json', 'audit']);
    expect(audit.json!['anomalies']).toEqual([
      { kind: 'writable-object', count: 1, paths: [object], fix: 'pycstore verify --repair' },
      { kind: 'missing-file', count: 1, paths: [gone], fix: 'pycstore verify --repair' },
    ]);

    const rep = await runCli(['--store', store, '--json', 'verify', '--repair']);
    expect(rep.code, rep.stderr).toBe(0);
    expect(rep.json).toMatchObject({ writable: [{ path: object, restored: true }], forgotten: 1 });
    expect(lstatSync(object).mode & 0o777).toBe(0o444);
    expect(lstatSync(pipInitPyc(a!)).ino).toBe(lstatSync(object).ino);
    expect((await runCli(['--store', store, '--json', 'audit'])).json!['anomalies']).toEqual([]);
    // The chmod moved the object's ctime; repair recorded the new one.
    expect((await runCli(['--store', store, '--json', 'verify'])).json).toMatchObject({ checked: 0, writable: [] });
  });

  it('counts names of a corrupt inode the ledger never knew (cp -al), and audit lists them as quarantined-inode', async () => {
    const [a] = copies(work, template, 'unrecorded', 1);
    const store = path.join(work, 'store-unrecorded');
    expect((await runCli(['--store', store, 'dedup', a!])).code).toBe(0);
    const copy = path.join(work, 'unrecorded', 'A-copy');
    execFileSync('cp', ['-al', a!, copy]);
    const [inA, inCopy] = [pipInitPyc(a!), pipInitPyc(copy)];
    corruptInPlace(objectFileOf(store, inA));

    const rep = await runCli(['--store', store, '--json', 'verify', '--repair']);
    expect(rep.code).toBe(1);
    expect(rep.json!['corrupt'][0]).toMatchObject({ removed: [inA], unrecordedNames: 1 });
    expect(existsSync(inCopy)).toBe(true);
    expect(rep.stderr).toMatch(/1 more names of the corrupt .* are not in the ledger/);
    const audit = await runCli(['--store', store, '--json', 'audit', copy]);
    expect(audit.json!['anomalies']).toEqual([
      { kind: 'quarantined-inode', count: 1, paths: [inCopy], fix: 'delete these files; Python compiles them again on the next import' },
    ]);
  });

  it('leaves the corrupt object in place when a linked path cannot be removed, and finishes on the next --repair', async (ctx) => {
    const [a, b] = copies(work, template, 'stuck', 2);
    const store = path.join(work, 'store-stuck');
    expect((await runCli(['--store', store, 'dedup', a!, b!])).code).toBe(0);
    const [inA, inB] = [pipInitPyc(a!), pipInitPyc(b!)];
    const object = objectFileOf(store, inA);
    const bad = corruptInPlace(object);
    const stuckDir = path.dirname(inB);
    try {
      execFileSync('chattr', ['+i', stuckDir], { stdio: 'pipe' }); // even root can't unlink in it now
    } catch (err) {
      requireOrSkip(ctx, REQUIRE.chattr, 'a folder made immutable with chattr +i', `not possible here: ${(err as Error).message}`);
    }
    try {
      const r1 = await runCli(['--store', store, '--json', 'verify', '--repair']);
      expect(r1.code).toBe(1);
      expect(r1.json!['corrupt'][0]).toMatchObject({ removed: [inA], quarantined: null });
      expect(r1.json!['errors']).toEqual([{ path: inB, reason: 'cannot remove: EPERM' }]);
      expect(r1.stderr).toContain(`${inB}: cannot remove: EPERM`);
      expect(readFileSync(object)).toEqual(bad); // still at its address, still in the ledger …
      // … and dedup refuses to link anything to it meanwhile.
      runInVenv(a!, IMPORT_PIP);
      const d = await runCli(['--store', store, '--json', 'dedup', a!]);
      expect(d.code).toBe(1);
      expect(d.json!['failures']).toEqual([expect.objectContaining({ path: inA, reason: 'collision' })]);
    } finally {
      execFileSync('chattr', ['-i', stuckDir]);
    }
    const r2 = await runCli(['--store', store, '--json', 'verify', '--repair']);
    expect(r2.code).toBe(1);
    // A's link row went with the first repair (its file was gone by then); B's is the one left.
    expect(r2.json!['corrupt'][0]).toMatchObject({ links: 1, removed: [inB], kept: [] });
    expect(r2.json!['errors']).toEqual([]);
    expect(existsSync(object)).toBe(false);
    expect(filesHolding([a!, b!, path.join(store, 'objects-v1')], bad)).toEqual([]);
    const r3 = await runCli(['--store', store, '--json', 'verify', '--full']);
    expect(r3.code).toBe(0);
  });

  it('with no store, says there is nothing to verify and creates nothing', async () => {
    const store = path.join(work, 'store-none');
    const r = await runCli(['--store', store, '--json', 'verify', '--repair']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ exists: false, objects: 0 });
    expect(existsSync(store)).toBe(false);
    const h = await runCli(['verify', '--help']);
    expect(h.stdout).toMatch(/--repair/);
    expect(h.stdout).toMatch(/quarantine-v1/);
    expect(readdirSync(work)).not.toContain('store-none');
  });
});
