/**
 * gc against other processes, for real: a gc started while a dedup runs waits
 * for it (and says so), and loses nothing dedup linked; a dedup started while
 * gc holds the store waits for it; a gc killed (SIGKILL) in the middle of
 * deleting leaves a store the next gc finishes, with nothing live lost.
 */
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KILL_AFTER_ENV } from '../../src/gc/run.js';
import { acquireLock } from '../../src/store/lock.js';
import { lockPath } from '../../src/store/location.js';
import { runCli, startCli, until } from '../helpers/cli.js';
import { cpCopies, isPyc, listFiles, makeVenv, runInVenv } from '../helpers/venv.js';
import { IMPORT_PIP, addPackage, distinctModules, ledgerCount, ledgerLinks, pycInodes, storeObjects } from './helpers.js';

let work: string;
let template: string;

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'pycstore-gc-race-'));
  template = makeVenv(path.join(work, 'template'));
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

function copies(name: string, names: string[]): string[] {
  return cpCopies(template, path.join(work, name), names);
}

function holder(store: string): { command?: string; pid?: number; mode?: string } {
  try {
    return JSON.parse(readFileSync(`${lockPath(store)}.holder`, 'utf8')) as { command?: string; pid?: number };
  } catch {
    return {};
  }
}

/** Every ledger link's file is its object's inode, and that object file exists. */
function expectEveryLinkHasItsObject(store: string): void {
  const links = ledgerLinks(store);
  expect(links.length).toBeGreaterThan(0);
  for (const l of links) {
    expect(existsSync(l.objectPath), l.objectPath).toBe(true);
    expect(lstatSync(l.path).ino, l.path).toBe(lstatSync(l.objectPath).ino);
  }
}

describe('gc and dedup at the same time (real processes)', () => {
  it('gc started while dedup runs waits for it, says so on stderr, and loses nothing dedup linked', async () => {
    const [old, a, b, c] = copies('race', ['old', 'A', 'B', 'C']);
    addPackage(old!, 'doomed', distinctModules('d', 3));
    const store = path.join(work, 'store-race');
    expect((await runCli(['--store', store, 'dedup', old!, a!])).code).toBe(0);
    const doomed = storeObjects(store).filter((o) => !pycInodes(a!).has(o.ino));
    expect(doomed.length).toBe(4);
    rmSync(old!, { recursive: true });

    const dedup = startCli(['--store', store, '--json', 'dedup', b!, c!]);
    await until('dedup to hold the store', () => holder(store).pid === dedup.pid);
    const gc = startCli(['--store', store, '--json', 'gc', '--grace', '0']);
    const [d, g] = await Promise.all([dedup.done, gc.done]);

    expect(d.code, d.stderr).toBe(0);
    const pycs = listFiles(b!, isPyc).length + listFiles(c!, isPyc).length;
    expect(JSON.parse(d.stdout)).toMatchObject({ files: pycs, linked: pycs, failures: [] });
    expect(g.code, g.stderr).toBe(0);
    expect(g.stderr).toMatch(new RegExp(`waiting for pycstore dedup \\(pid ${dedup.pid}\\) to finish with the store before gc can start`));
    // gc looked after dedup finished: it deleted the deleted venv's objects, and everything dedup linked is live.
    expect(JSON.parse(g.stdout)).toMatchObject({ objectsDeleted: 4, rootsDropped: 1, failures: [] });
    for (const o of doomed) expect(existsSync(o.path)).toBe(false);
    expectEveryLinkHasItsObject(store);
    expect(ledgerLinks(store).length).toBe(listFiles(a!, isPyc).length + pycs);
    expect(runInVenv(c!, IMPORT_PIP)).toContain(c!);
  });

  it('dedup started while gc holds the store waits for it and says so', async () => {
    const [a] = copies('race2', ['A']);
    const store = path.join(work, 'store-race2');
    expect((await runCli(['--store', store, 'dedup', a!])).code).toBe(0);
    // The exclusive lock exactly as gc takes it (src/store/lock.ts), held by this test process.
    const lock = acquireLock(store, 'exclusive', { command: 'gc' });
    let released = false;
    try {
      const dedup = startCli(['--store', store, '--json', 'dedup', a!]);
      let exited = false;
      void dedup.done.then(() => (exited = true));
      await until('dedup to say it waits', () => /waiting for/.test(dedup.stderr()) || exited);
      expect(exited, dedup.stderr()).toBe(false);
      expect(dedup.stderr()).toMatch(new RegExp(`waiting for pycstore gc \\(pid ${process.pid}\\) to finish with the store \\(dedup needs it too\\)`));
      expect(holder(store)).toMatchObject({ command: 'gc', pid: process.pid }); // still ours: dedup did not get in
      lock.release();
      released = true;
      const d = await dedup.done;
      expect(d.code, d.stderr).toBe(0);
      expect(JSON.parse(d.stdout)).toMatchObject({ linked: 0, shared: listFiles(a!, isPyc).length });
    } finally {
      if (!released) lock.release();
    }
  });
});

describe('gc killed in the middle of deleting (SIGKILL)', () => {
  it('leaves a store the next gc finishes; nothing live is lost', async () => {
    const [a, d] = copies('crash', ['A', 'D']);
    const pkg = addPackage(d!, 'doomed', distinctModules('d', 60));
    const store = path.join(work, 'store-crash');
    expect((await runCli(['--store', store, 'dedup', a!, d!])).code).toBe(0);
    const live = pycInodes(a!);
    const doomedInodes = pycInodes(pkg);
    const doomed = storeObjects(store).filter((o) => doomedInodes.has(o.ino));
    expect(doomed.length).toBe(61);
    expect(storeObjects(store).length).toBe(live.size + 61);
    const objectRows = ledgerCount(store, 'objects');
    rmSync(d!, { recursive: true });

    const killed = await startCli(['--store', store, '--json', 'gc', '--grace', '0'], { [KILL_AFTER_ENV]: '25' }).done;
    expect(killed.signal).toBe('SIGKILL');
    expect(killed.stdout).toBe('');
    // Its run was recorded when it started, and never finished: status says so.
    const st = await runCli(['--store', store, '--json', 'status']);
    expect(st.json!['lastRun']).toMatchObject({ command: 'gc', exitCode: null });
    expect((await runCli(['--store', store, 'status'])).stdout).toMatch(/last run {2}gc at .* \(exit unfinished\)/);
    // 25 object files deleted, their rows not yet; the dead links were dropped before any deletion.
    expect(doomed.filter((o) => !existsSync(o.path)).length).toBe(25);
    expect(ledgerCount(store, 'objects')).toBe(objectRows);
    expect(ledgerCount(store, 'links')).toBe(listFiles(a!, isPyc).length);
    // Nothing live was touched.
    const after = new Set(storeObjects(store).map((o) => o.ino));
    for (const ino of live) expect(after.has(ino)).toBe(true);
    expectEveryLinkHasItsObject(store);
    const before = listFiles(a!, isPyc).map((f) => `${f.path}:${f.ino}`);
    expect(runInVenv(a!, IMPORT_PIP)).toContain(a!);
    expect(listFiles(a!, isPyc).map((f) => `${f.path}:${f.ino}`)).toEqual(before);

    const g = await runCli(['--store', store, '--json', 'gc', '--grace', '0']);
    expect(g.code, g.stderr).toBe(0);
    expect(g.json).toMatchObject({ objectsDeleted: 36, missingObjectRows: 25, linksDropped: 0, rootsDropped: 0, objectsLive: live.size, failures: [] });
    expect(new Set(storeObjects(store).map((o) => o.ino))).toEqual(live);
    expect(ledgerCount(store, 'objects')).toBe(live.size);
    expectEveryLinkHasItsObject(store);

    const g2 = await runCli(['--store', store, '--json', 'gc', '--grace', '0']);
    expect(g2.json).toMatchObject({ objectsDeleted: 0, missingObjectRows: 0, linksDropped: 0 });
  });
});
