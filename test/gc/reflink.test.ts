/**
 * gc's liveness check for reflinks, on a loop-mounted XFS (mkfs.xfs -m
 * reflink=1): a reflink is its own inode and doesn't raise the object's link
 * count, so liveness can only come from the ledger re-checked on disk. A file
 * whose mtime was touched but whose content still is its object's stays live;
 * one whose content changed is dropped. Needs root and xfsprogs; where that
 * isn't possible the test says so and skips.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { useLoopFs } from '../helpers/loopfs.js';
import { isPyc, listFiles, makeVenv, runInVenv } from '../helpers/venv.js';
import { IMPORT_PIP, addPackage, ledgerLinks, sitePackages, storeObjects } from './helpers.js';

let work: string;
let template: string;
beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'pycstore-gc-reflink-'));
  template = makeVenv(path.join(work, 'template'));
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

function pycOf(dir: string, module: string): string {
  return listFiles(path.join(dir, '__pycache__'), isPyc).find((f) => path.basename(f.path).startsWith(`${module}.`))!.path;
}

describe('gc with reflinks on XFS', () => {
  const lf = useLoopFs('xfs', { sizeMiB: 400 });

  it('keeps a reflink whose mtime moved but content is equal; drops one whose content changed; frees what only it used', async (ctx) => {
    const fs = lf.require(ctx);
    const [a, b] = ['A', 'B'].map((n) => path.join(fs.mountpoint, 'gc', n)) as [string, string];
    for (const v of [a, b]) {
      mkdirSync(path.dirname(v), { recursive: true });
      execFileSync('cp', ['-a', template, v]);
    }
    addPackage(a, 'solo', { m: 'X = 1\n' });
    const store = path.join(fs.mountpoint, 'store');
    const d = await runCli(['--store', store, '--json', 'dedup', '--link-mode', 'reflink', a, b]);
    expect(d.code, d.stderr).toBe(0);
    expect(d.json!['linkKinds']).toEqual({ [store]: 'reflink' });
    expect(ledgerLinks(store).every((l) => l.kind === 'reflink')).toBe(true);
    // Reflinks don't raise link counts: every object has st_nlink 1, and every one is in use.
    const objects = storeObjects(store);
    expect(objects.every((o) => o.nlink === 1n)).toBe(true);
    const g0 = await runCli(['--store', store, '--json', 'gc', '--grace', '0']);
    expect(g0.json).toMatchObject({ objectsDeleted: 0, linksDropped: 0, objectsLive: objects.length });

    const pip = path.join(sitePackages(a), 'pip');
    const objectOf = (file: string): string => ledgerLinks(store).find((l) => l.path === file)!.objectPath;
    // 1. Touched: new mtime (and ctime), same bytes.
    const touched = pycOf(pip, '__init__');
    const touchedObject = objectOf(touched);
    const t = lstatSync(touched);
    utimesSync(touched, t.atime, new Date(t.mtimeMs + 60_000));
    // 2. Written in place: same inode, same size, one byte different. Only A has this module.
    const edited = pycOf(path.join(sitePackages(a), 'solo'), 'm');
    const editedObject = objectOf(edited);
    const ino = lstatSync(edited).ino;
    const fd = openSync(edited, 'r+');
    const last = readFileSync(edited).at(-1)!;
    writeSync(fd, Buffer.from([last ^ 0xff]), 0, 1, lstatSync(edited).size - 1);
    closeSync(fd);
    expect(lstatSync(edited).ino).toBe(ino);
    // 3. Replaced by another file (a new inode with other bytes); B still uses its object.
    const replaced = pycOf(pip, '__main__');
    const replacedObject = objectOf(replaced);
    writeFileSync(`${replaced}.new`, Buffer.concat([readFileSync(replaced), Buffer.from('extra')]));
    renameSync(`${replaced}.new`, replaced);

    const dry = await runCli(['--store', store, '--json', 'gc', '--grace', '0', '--dry-run']);
    expect(dry.json!['plan']).toMatchObject({
      objectsDeleted: 1,
      linksDropped: 2,
      linksRefreshed: 1,
      objects: [{ path: editedObject }],
    });
    expect(new Set(dry.json!['plan'].links)).toEqual(
      new Set([
        { path: edited, reason: 'changed' },
        { path: replaced, reason: 'replaced' },
      ]),
    );

    const g = await runCli(['--store', store, '--json', 'gc', '--grace', '0']);
    expect(g.code, g.stderr).toBe(0);
    expect(g.json).toMatchObject({ objectsDeleted: 1, linksDropped: 2, linksDroppedByReason: { changed: 1, replaced: 1 }, linksRefreshed: 1 });
    expect(existsSync(editedObject)).toBe(false);
    expect(existsSync(touchedObject)).toBe(true);
    expect(existsSync(replacedObject)).toBe(true);
    const links = ledgerLinks(store).map((l) => l.path);
    expect(links).toContain(touched);
    expect(links).not.toContain(edited);
    expect(links).not.toContain(replaced);

    // The touched file's new fingerprint was recorded: the next gc doesn't read it again, and keeps it.
    const g2 = await runCli(['--store', store, '--json', 'gc', '--grace', '0']);
    expect(g2.json).toMatchObject({ objectsDeleted: 0, linksDropped: 0, linksRefreshed: 0 });
    expect(runInVenv(b, IMPORT_PIP)).toContain(b);
    expect(runInVenv(a, 'import pip; print(pip.__file__)')).toContain(a);
  });
});
