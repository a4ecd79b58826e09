/**
 * gc end to end on this machine's filesystem (ext4 here, hard links), with real
 * venvs and the real CLI: a deleted venv's objects are freed and nothing else,
 * a pyc CPython recompiled loses its link, the grace period keeps young
 * objects, reuse refreshes an object's age, and a dry run changes nothing.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ledgerPath, objectPath, tmpDir } from '../../src/store/location.js';
import { runCli } from '../helpers/cli.js';
import { cpCopies, letters, isPyc, listFiles, makeVenv, runInVenv, snapshot } from '../helpers/venv.js';
import { IMPORT_PIP, addPackage, ageObjects, distinctModules, ledgerCount, ledgerLinks, makeVenvs, pycInodes, sitePackages, storeObjects } from './helpers.js';

let work: string;
let template: string;

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'pycstore-gc-'));
  template = makeVenv(path.join(work, 'template'));
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

function copies(name: string, n: number): string[] {
  return cpCopies(template, path.join(work, name), letters(n));
}

/** Every object file in the store is the inode of some ledger link's file (hard links). */
function expectEveryObjectLive(store: string): void {
  const linked = new Set(ledgerLinks(store).map((l) => `${l.objectPath}:${lstatSync(l.path, { bigint: true }).ino}`));
  for (const o of storeObjects(store)) expect(linked.has(`${o.path}:${o.ino}`), o.path).toBe(true);
}

describe('gc after a venv was deleted (three real venvs)', () => {
  it('frees exactly the objects only that venv used; the others keep working; a second gc frees nothing', async () => {
    const dir = path.join(work, 'three');
    const [a, b, c] = ['A', 'B', 'C'].map((n) => path.join(dir, n)) as [string, string, string];
    await makeVenvs([a, b, c]);
    // C alone has a package; A and C share another one that B lacks.
    addPackage(c, 'only_c', distinctModules('c', 4));
    addPackage(a, 'in_a_and_c', distinctModules('ac', 2));
    addPackage(c, 'in_a_and_c', distinctModules('ac', 2));
    const store = path.join(dir, 'store');

    const d = await runCli(['--store', store, '--json', 'dedup', a, b, c]);
    expect(d.code, d.stderr).toBe(0);
    const [ia, ib, ic] = [pycInodes(a), pycInodes(b), pycInodes(c)];
    const objectsBefore = storeObjects(store);
    expect(new Set(objectsBefore.map((o) => o.ino))).toEqual(new Set([...ia, ...ib, ...ic])); // every pyc is a hard link to an object
    const onlyC = objectsBefore.filter((o) => ic.has(o.ino) && !ia.has(o.ino) && !ib.has(o.ino));
    // only_c's five pycs are C's alone; in_a_and_c's are A's and C's; most of pip's are shared by all three (canonical
    // form; where two venvs' sources agree on mtime and size, dedup's auto policy gives them a timestamp object of their own).
    const onlyCPackage = pycInodes(path.join(sitePackages(c), 'only_c'));
    expect(onlyCPackage.size).toBe(5);
    for (const ino of onlyCPackage) expect(onlyC.some((o) => o.ino === ino)).toBe(true);
    for (const ino of pycInodes(path.join(sitePackages(c), 'in_a_and_c'))) expect(ia.has(ino)).toBe(true);
    expect(objectsBefore.filter((o) => ia.has(o.ino) && ib.has(o.ino) && ic.has(o.ino)).length).toBeGreaterThan(100);
    const cPycs = listFiles(c, isPyc).length;

    rmSync(c, { recursive: true });
    const g = await runCli(['--store', store, '--json', 'gc', '--grace', '0']);
    expect(g.code, g.stderr).toBe(0);
    expect(g.json).toMatchObject({
      objectsDeleted: onlyC.length,
      bytesFreed: onlyC.reduce((s, o) => s + o.allocated, 0),
      linksDropped: cPycs,
      linksDroppedByReason: { gone: cPycs },
      rootsDropped: 1,
      objectsLive: objectsBefore.length - onlyC.length,
      failures: [],
    });
    const after = storeObjects(store);
    expect(new Set(after.map((o) => o.path))).toEqual(new Set(objectsBefore.filter((o) => !onlyC.includes(o)).map((o) => o.path)));
    expect(new Set(after.map((o) => o.ino))).toEqual(new Set([...ia, ...ib]));
    expectEveryObjectLive(store);
    expect(ledgerCount(store, 'objects')).toBe(after.length);
    expect(ledgerCount(store, 'roots')).toBe(2);

    const g2 = await runCli(['--store', store, '--json', 'gc', '--grace', '0']);
    expect(g2.json).toMatchObject({ objectsDeleted: 0, bytesFreed: 0, linksDropped: 0, rootsDropped: 0, objectsLive: after.length });

    // The remaining venvs import, with bytecode writing allowed, and rewrite no pyc.
    for (const v of [a, b]) {
      const before = listFiles(v, isPyc).map((f) => `${f.path}:${f.ino}`);
      expect(runInVenv(v, IMPORT_PIP)).toContain(v);
      if (v === a) expect(runInVenv(v, 'import in_a_and_c.ac0, in_a_and_c.ac1; print(in_a_and_c.ac1.f())')).toContain('ac-1');
      expect(listFiles(v, isPyc).map((f) => `${f.path}:${f.ino}`)).toEqual(before);
    }
    const st = await runCli(['--store', store, '--json', 'status']);
    expect(st.json).toMatchObject({ objects: after.length, roots: 2 });
  });
});

describe('gc and pycs CPython recompiled', () => {
  it('drops the link of a pyc CPython replaced after a source edit; frees its object only when nothing else uses it', async () => {
    const [a, b] = copies('recompiled', 2);
    addPackage(a!, 'solo', { mod: 'X = 1\n' });
    const store = path.join(work, 'store-recompiled');
    expect((await runCli(['--store', store, 'dedup', a!, b!])).code).toBe(0);

    const soloPyc = listFiles(path.join(sitePackages(a!), 'solo'), isPyc).find((f) => f.path.includes('mod.'))!;
    const pipInit = listFiles(path.join(sitePackages(a!), 'pip', '__pycache__'), isPyc).find((f) => path.basename(f.path).startsWith('__init__.'))!;
    const bPipInit = lstatSync(pipInit.path.replace(a!, b!), { bigint: true });
    expect(bPipInit.ino).toBe(pipInit.ino); // shared with B
    const soloObject = storeObjects(store).find((o) => o.ino === soloPyc.ino)!;
    const pipObject = storeObjects(store).find((o) => o.ino === pipInit.ino)!;

    // Edit both sources in A; A's Python recompiles them and replaces the pycs (new inodes).
    appendFileSync(path.join(sitePackages(a!), 'solo', 'mod.py'), 'Y = 2\n');
    appendFileSync(path.join(sitePackages(a!), 'pip', '__init__.py'), '# edited\n');
    runInVenv(a!, 'import solo.mod, pip; assert solo.mod.Y == 2');
    expect(lstatSync(soloPyc.path, { bigint: true }).ino).not.toBe(soloPyc.ino);
    expect(lstatSync(pipInit.path, { bigint: true }).ino).not.toBe(pipInit.ino);

    const g = await runCli(['--store', store, '--json', 'gc', '--grace', '0']);
    expect(g.code, g.stderr).toBe(0);
    expect(g.json).toMatchObject({ objectsDeleted: 1, linksDropped: 2, linksDroppedByReason: { replaced: 2 }, rootsDropped: 0 });
    expect(existsSync(soloObject.path)).toBe(false);
    expect(existsSync(pipObject.path)).toBe(true); // B still uses it
    expect(lstatSync(pipObject.path, { bigint: true }).ino).toBe(bPipInit.ino);
    expect(ledgerLinks(store).map((l) => l.path)).not.toContain(soloPyc.path);
    expectEveryObjectLive(store);
    // The recompiled pycs are A's own and untouched by gc.
    expect(runInVenv(a!, 'import solo.mod; print(solo.mod.Y)').trim()).toBe('2');
  });
});

describe('the grace period', () => {
  it('keeps a fresh unused object with the default grace, and deletes old unrecorded files and temp files', async () => {
    const [a, b] = copies('grace', 2);
    addPackage(b!, 'only_b', distinctModules('b', 2));
    const store = path.join(work, 'store-grace');
    expect((await runCli(['--store', store, 'dedup', a!, b!])).code).toBe(0);
    const onlyB = storeObjects(store).filter((o) => !pycInodes(a!).has(o.ino));
    expect(onlyB.length).toBe(3);
    const bPycs = listFiles(b!, isPyc).length;
    rmSync(b!, { recursive: true });

    // An object file the ledger never recorded (a dedup killed before its row) and a temp file, both fresh.
    // In a shard folder of its own when one is free (≈6% of 256 are, with ~700 objects), to see gc remove it once empty.
    const freeShard = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0')).find(
      (h) => !existsSync(path.dirname(objectPath(store, { hash: `${h}00000000000000`, size: 5 }))),
    );
    const unknown = objectPath(store, { hash: `${freeShard ?? 'ab'}cdef0123456789`, size: 5 });
    mkdirSync(path.dirname(unknown), { recursive: true });
    writeFileSync(unknown, 'hello', { mode: 0o444 });
    const temp = path.join(tmpDir(store), `obj-999999-0123456789ab.tmp`);
    mkdirSync(path.dirname(temp), { recursive: true });
    writeFileSync(temp, 'half-written');

    const g = await runCli(['--store', store, '--json', 'gc']);
    expect(g.code, g.stderr).toBe(0);
    expect(g.json).toMatchObject({ graceMs: 3_600_000, objectsDeleted: 0, objectsInGrace: 3, linksDropped: bPycs, rootsDropped: 1, filesInGrace: 2 });
    for (const o of onlyB) expect(existsSync(o.path)).toBe(true);
    expect(existsSync(unknown) && existsSync(temp)).toBe(true);
    const said = await runCli(['--store', store, 'gc']); // nothing new to do; says how to free the young ones now
    expect(said.stdout).toMatch(/Kept [0-9,]+ objects in use and 3 unused objects within the grace period \(1 h\)/);
    expect(said.stdout).toMatch(/to free them now: pycstore gc --grace 0/);

    // Two hours later (by their mtime), the unrecorded files go; the unused objects (used by the last dedup, minutes ago) stay.
    const old = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(unknown, old, old);
    utimesSync(temp, old, old);
    const g2 = await runCli(['--store', store, '--json', 'gc']);
    expect(g2.json).toMatchObject({ objectsDeleted: 0, objectsInGrace: 3, unknownFilesDeleted: 1, tempFilesDeleted: 1, filesInGrace: 0 });
    expect(existsSync(unknown) || existsSync(temp)).toBe(false);
    if (freeShard) expect(existsSync(path.dirname(unknown))).toBe(false); // its shard folder was left empty and removed

    const g3 = await runCli(['--store', store, '--json', 'gc', '--grace', '0']);
    expect(g3.json).toMatchObject({ objectsDeleted: 3, objectsInGrace: 0 });
    for (const o of onlyB) expect(existsSync(o.path)).toBe(false);
  });

  it('a dedup that links to an object again refreshes its age', async () => {
    const [a, b, c] = copies('reuse', 3);
    addPackage(a!, 'only_a', { m: 'A = 1\n' });
    addPackage(b!, 'only_bc', { m: 'B = 1\n' });
    const store = path.join(work, 'store-reuse');
    expect((await runCli(['--store', store, 'dedup', a!, b!])).code).toBe(0);
    const objectsOf = (v: string, pkg: string): string[] => {
      const inodes = new Set(listFiles(path.join(sitePackages(v), pkg), isPyc).map((f) => f.ino));
      return storeObjects(store).filter((o) => inodes.has(o.ino)).map((o) => o.path);
    };
    const aObjects = objectsOf(a!, 'only_a');
    const bObjects = objectsOf(b!, 'only_bc');
    expect(aObjects.length).toBe(2);
    expect(bObjects.length).toBe(2);

    // Two hours pass, as the ledger sees it (no sleeping: the objects' recorded ages are moved back).
    ageObjects(store, 2 * 3_600_000);
    // C gets B's package (same sources and pycs): dedup links C's pycs to B's objects, refreshing them.
    cpSync(path.join(sitePackages(b!), 'only_bc'), path.join(sitePackages(c!), 'only_bc'), { recursive: true, preserveTimestamps: true });
    expect((await runCli(['--store', store, 'dedup', c!])).code).toBe(0);
    expect(objectsOf(c!, 'only_bc').sort()).toEqual([...bObjects].sort());

    rmSync(a!, { recursive: true });
    rmSync(b!, { recursive: true });
    rmSync(c!, { recursive: true });
    const g = await runCli(['--store', store, '--json', 'gc', '--grace', '1h']);
    expect(g.code, g.stderr).toBe(0);
    // Only A's own objects go: pip's were linked again by C's dedup too.
    expect(g.json).toMatchObject({ graceMs: 3_600_000, objectsDeleted: 2, objectsLive: 0 });
    for (const p of aObjects) expect(existsSync(p), p).toBe(false); // last used two hours ago
    for (const p of bObjects) expect(existsSync(p), p).toBe(true); // used again a moment ago
  });
});

describe('gc --dry-run', () => {
  it('changes nothing (store files, ledger, venvs) and plans exactly what gc then does', async () => {
    const [a, b] = copies('dry', 2);
    addPackage(b!, 'only_b', distinctModules('b', 2));
    const store = path.join(work, 'store-dry');
    expect((await runCli(['--store', store, 'dedup', a!, b!])).code).toBe(0);
    rmSync(b!, { recursive: true });
    const temp = path.join(tmpDir(store), 'obj-1-aaaaaaaaaaaa.tmp');
    writeFileSync(temp, 'x');
    const old = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(temp, old, old);
    expect(existsSync(`${ledgerPath(store)}-wal`)).toBe(false);

    const storeBefore = snapshot(store);
    const venvsBefore = snapshot(path.dirname(a!));
    const dry = await runCli(['--store', store, '--json', 'gc', '--grace', '0', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json).toMatchObject({ dryRun: true, objectsDeleted: 0, linksDropped: 0 });
    const plan = dry.json!['plan'];
    expect(plan).toMatchObject({ objectsDeleted: 3, rootsDropped: 1, tempFilesDeleted: 1, roots: [b] });
    expect(plan.links.every((l: { reason: string }) => l.reason === 'gone')).toBe(true);
    expect(snapshot(store)).toEqual(storeBefore);
    expect(snapshot(path.dirname(a!))).toEqual(venvsBefore);

    const human = await runCli(['--store', store, 'gc', '--grace', '0', '-n']);
    expect(human.stdout).toMatch(/^Dry run: nothing was changed\./);
    expect(human.stdout).toMatch(/Would delete 3 objects/);

    const real = await runCli(['--store', store, '--json', 'gc', '--grace', '0']);
    expect(real.json).toMatchObject({
      objectsDeleted: plan.objectsDeleted,
      bytesFreed: plan.bytesFreed,
      linksDropped: plan.linksDropped,
      rootsDropped: plan.rootsDropped,
      tempFilesDeleted: 1,
    });
    for (const o of plan.objects) expect(existsSync(o.path)).toBe(false);
  });
});

describe('gc on the command line', () => {
  it('never creates a store, refuses a bad --grace (exit 2), and teaches with --help', async () => {
    const nowhere = path.join(work, 'no-store-here');
    const r = await runCli(['--store', nowhere, '--json', 'gc']);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ exists: false, objectsDeleted: 0 });
    expect(existsSync(nowhere)).toBe(false);
    const h = await runCli(['--store', nowhere, 'gc']);
    expect(h.stdout).toMatch(/No store at .*pycstore dedup/);

    const bad = await runCli(['--store', nowhere, '--json', 'gc', '--grace', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.json).toMatchObject({ error: { code: 'EUSAGE' } });
    expect((await runCli(['gc', 'extra-arg'])).code).toBe(2);

    const help = await runCli(['gc', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--grace DURATION/);
    expect(help.stdout).toMatch(/Safe to run at any time/);
    expect(help.stdout).toMatch(/grace period/);
    expect(help.stdout).toMatch(/Examples:\n {2}pycstore gc --dry-run/);
    expect((await runCli(['--help'])).stdout).toMatch(/\n {2}gc +Delete the store objects/);
  });
});
