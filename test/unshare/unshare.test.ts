/**
 * unshare end to end, with real venvs and the real CLI: `unshare --all` then
 * `gc --grace 0` leaves private pycs (st_nlink 1, same content, CPython's
 * mode) and an empty store, with no path ever missing meanwhile (watched by
 * another process); `unshare PATH` for a venv (named through a symlink) and
 * for one file; a pyc CPython already replaced; dry run; reflinks on XFS.
 */
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCacheName, sourceForPycache } from '../../src/pyc/names.js';
import { runCli } from '../helpers/cli.js';
import { useLoopFs } from '../helpers/loopfs.js';
import { cpCopies, isPyc, listFiles, makeVenv, runInVenv, snapshot } from '../helpers/venv.js';
import { IMPORT_PIP, addPackage, distinctModules, ledgerCount, ledgerLinks, pycDigests, pycInodes, sitePackages, storeObjects } from '../gc/helpers.js';

let work: string;
let template: string;

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'pycstore-unshare-'));
  template = makeVenv(path.join(work, 'template'));
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

function copies(parent: string, names: string[]): string[] {
  return cpCopies(template, parent, names);
}

/** The mode CPython gives a pyc it writes: (source mode | 0o200) & 0o666. */
function cpythonMode(pyc: string): number {
  const source = sourceForPycache(pyc, parseCacheName(path.basename(pyc))!);
  return (statSync(source).mode | 0o200) & 0o666;
}

/** Every private pyc: one link, the content it had, CPython's mode; all distinct inodes; no temp file left. */
function expectPrivate(dir: string, digests: Map<string, string>, owner: Map<string, number>): void {
  const files = listFiles(dir, isPyc);
  expect(files.length).toBe(digests.size);
  expect(pycDigests(dir)).toEqual(digests);
  expect(new Set(files.map((f) => f.ino)).size).toBe(files.length);
  for (const f of files) {
    expect(f.nlink, f.path).toBe(1n);
    expect(Number(f.mode & 0o7777n), f.path).toBe(cpythonMode(f.path));
    expect(lstatSync(f.path).uid).toBe(owner.get(f.path));
  }
  expect(listFiles(dir, (p) => path.basename(p).startsWith('.pycstore-'))).toEqual([]);
}

/**
 * Another process that stats every path in a loop until told to stop, counting
 * any moment a path is missing (ENOENT) — there must be none.
 */
function watchPaths(paths: string[]): { stop(): Promise<{ passes: number; missing: number; examples: string[] }> } {
  const list = path.join(work, `watch-${process.hrtime.bigint()}.json`);
  const stopFile = `${list}.stop`;
  writeFileSync(list, JSON.stringify(paths));
  const code = `
    const fs = require('node:fs');
    const paths = JSON.parse(fs.readFileSync(process.argv[1], 'utf8'));
    let passes = 0, missing = 0; const examples = [];
    while (!fs.existsSync(process.argv[2]) || passes < 1) {
      for (const p of paths) {
        try { fs.lstatSync(p); } catch (e) { missing++; if (examples.length < 5) examples.push(p + ': ' + e.code); }
      }
      passes++;
    }
    process.stdout.write(JSON.stringify({ passes, missing, examples }));`;
  const child = spawn(process.execPath, ['-e', code, list, stopFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return {
    async stop() {
      writeFileSync(stopFile, '');
      await done;
      return JSON.parse(out) as { passes: number; missing: number; examples: string[] };
    },
  };
}

describe('unshare --all, then gc --grace 0', () => {
  it('leaves every pyc private (st_nlink 1, same content, CPython\'s mode), the ledger without links or roots, and an empty store', async () => {
    const dir = path.join(work, 'all');
    const [a, b, c] = copies(dir, ['A', 'B', 'C']);
    addPackage(c!, 'only_c', distinctModules('c', 3));
    // Sources with other modes: the private pyc follows its source, as CPython's would.
    const pip = path.join(sitePackages(a!), 'pip');
    chmodSync(path.join(pip, '__init__.py'), 0o640);
    chmodSync(path.join(pip, '__main__.py'), 0o755);
    const store = path.join(dir, 'store');
    const d = await runCli(['--store', store, '--json', 'dedup', a!, b!, c!]);
    expect(d.code, d.stderr).toBe(0);
    const objects = storeObjects(store);
    const all = [a!, b!, c!].flatMap((v) => listFiles(v, isPyc));
    expect(all.every((f) => f.nlink > 1n)).toBe(true); // all linked
    const digests = pycDigests(dir);
    const owner = new Map(all.map((f) => [f.path, lstatSync(f.path).uid]));

    const watcher = watchPaths(all.map((f) => f.path));
    const u = await runCli(['--store', store, '--json', 'unshare', '--all']);
    const watched = await watcher.stop();
    expect(u.code, u.stderr).toBe(0);
    expect(u.json).toMatchObject({ unshared: all.length, alreadyPrivate: 0, gone: 0, linksDropped: all.length, rootsDropped: 3, failures: [] });
    expect(u.json!['bytesAdded']).toBeGreaterThan(0);
    // No path was missing at any moment while unshare ran.
    expect(watched.missing, watched.examples.join(', ')).toBe(0);
    expect(watched.passes).toBeGreaterThan(0);

    for (const v of [a!, b!, c!]) expectPrivate(v, new Map([...digests].filter(([p]) => p.startsWith(v + path.sep))), owner);
    const objectInodes = new Set(objects.map((o) => o.ino));
    expect(all.some((f) => objectInodes.has(lstatSync(f.path, { bigint: true }).ino))).toBe(false);
    expect(Number(lstatSync(listFiles(path.join(pip, '__pycache__'), isPyc).find((f) => f.path.includes('__init__.'))!.path).mode & 0o777)).toBe(0o640);
    expect(Number(lstatSync(listFiles(path.join(pip, '__pycache__'), isPyc).find((f) => f.path.includes('__main__.'))!.path).mode & 0o777)).toBe(0o644);
    expect(ledgerCount(store, 'links')).toBe(0);
    expect(ledgerCount(store, 'roots')).toBe(0);

    const g = await runCli(['--store', store, '--json', 'gc', '--grace', '0']);
    expect(g.code, g.stderr).toBe(0);
    expect(g.json).toMatchObject({ objectsDeleted: objects.length, objectsLive: 0, failures: [] });
    expect(storeObjects(store)).toEqual([]);
    expect(readdirSync(path.join(store, 'objects-v1'))).toEqual([]); // no empty shard folders either
    const st = await runCli(['--store', store, '--json', 'status']);
    expect(st.json).toMatchObject({ objects: 0, links: 0, roots: 0 });

    // The venvs import, with bytecode writing allowed, from the private pycs, and rewrite none.
    for (const v of [a!, b!, c!]) {
      const before = listFiles(v, isPyc).map((f) => `${f.path}:${f.ino}`);
      expect(runInVenv(v, IMPORT_PIP)).toContain(v);
      expect(listFiles(v, isPyc).map((f) => `${f.path}:${f.ino}`)).toEqual(before);
    }
    expect(runInVenv(c!, 'import only_c.c2; print(only_c.c2.f())')).toContain('c-2');

    const again = await runCli(['--store', store, 'unshare', '--all']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/Nothing is linked/);
  });
});

describe('unshare PATH', () => {
  it('unshares one file, then a venv named through a symlink; the other venv stays linked; gc frees what only it used', async () => {
    const parent = path.join(work, 'some');
    const [a, b] = copies(parent, ['A', 'B']);
    addPackage(a!, 'only_a', distinctModules('a', 2));
    const store = path.join(parent, 'store');
    expect((await runCli(['--store', store, 'dedup', a!, b!])).code).toBe(0);
    const onlyA = storeObjects(store).filter((o) => !pycInodes(b!).has(o.ino));
    expect(onlyA.length).toBe(3);

    // One file.
    const one = listFiles(path.join(sitePackages(a!), 'pip', '__pycache__'), isPyc).find((f) => f.path.includes('__init__.'))!;
    const twin = lstatSync(one.path.replace(a!, b!), { bigint: true });
    expect(twin.ino).toBe(one.ino);
    const u1 = await runCli(['--store', store, '--json', 'unshare', one.path]);
    expect(u1.json).toMatchObject({ unshared: 1, linksDropped: 1, rootsDropped: 0 });
    expect(lstatSync(one.path, { bigint: true }).nlink).toBe(1n);
    expect(lstatSync(one.path.replace(a!, b!), { bigint: true }).ino).toBe(twin.ino); // B's is still the object
    expect(ledgerLinks(store).map((l) => l.path)).not.toContain(one.path);

    // A pyc CPython already replaced (its source was edited): only its ledger row goes.
    appendFileSync(path.join(sitePackages(a!), 'only_a', 'a1.py'), 'EDITED = True\n');
    runInVenv(a!, 'import only_a.a1; assert only_a.a1.EDITED');
    const recompiled = listFiles(path.join(sitePackages(a!), 'only_a'), isPyc).find((f) => f.path.includes('a1.'))!;

    // The whole venv, named through a symlink.
    const alias = path.join(work, 'alias-to-A');
    symlinkSync(a!, alias);
    const u2 = await runCli(['--store', store, '--json', 'unshare', alias]);
    expect(u2.code, u2.stderr).toBe(0);
    const aPycs = listFiles(a!, isPyc).length;
    expect(u2.json).toMatchObject({ unshared: aPycs - 2, alreadyPrivate: 1, linksDropped: aPycs - 1, rootsDropped: 1, failures: [] });
    expect(lstatSync(recompiled.path, { bigint: true }).ino).toBe(recompiled.ino); // not copied again
    expect(listFiles(a!, isPyc).every((f) => f.nlink === 1n)).toBe(true);
    expect(listFiles(b!, isPyc).every((f) => f.nlink > 1n)).toBe(true);
    expect(ledgerLinks(store).every((l) => l.path.startsWith(b! + path.sep))).toBe(true);
    const human = await runCli(['--store', store, 'unshare', a!]);
    expect(human.stdout).toMatch(/Nothing under those paths is linked/);

    const g = await runCli(['--store', store, '--json', 'gc', '--grace', '0']);
    expect(g.json).toMatchObject({ objectsDeleted: onlyA.length, failures: [] });
    for (const o of onlyA) expect(existsSync(o.path)).toBe(false);
    expect(runInVenv(a!, IMPORT_PIP)).toContain(a!);
    expect(runInVenv(b!, IMPORT_PIP)).toContain(b!);
  });

  it('warns when the folder is inside a registered root (a later dedup would link it again)', async () => {
    const parent = path.join(work, 'inside');
    const [a] = copies(parent, ['A']);
    const store = path.join(work, 'store-inside');
    expect((await runCli(['--store', store, 'dedup', '--no-discover', parent])).code).toBe(0); // registers the folder itself
    const u = await runCli(['--store', store, '--json', 'unshare', a!]);
    expect(u.code, u.stderr).toBe(0);
    expect(u.json).toMatchObject({ rootsDropped: 0 });
    expect(u.stderr).toMatch(/inside the registered root .*pycstore unshare /);
  });
});

describe('unshare --dry-run and usage', () => {
  it('changes nothing, and lists what it would copy', async () => {
    const parent = path.join(work, 'dry');
    const [a, b] = copies(parent, ['A', 'B']);
    const store = path.join(parent, 'store');
    expect((await runCli(['--store', store, 'dedup', a!, b!])).code).toBe(0);
    const before = snapshot(parent);
    const r = await runCli(['--store', store, '--json', 'unshare', '--dry-run', '--all']);
    expect(r.code, r.stderr).toBe(0);
    const n = listFiles(a!, isPyc).length * 2;
    expect(r.json).toMatchObject({ dryRun: true, unshared: 0, linksDropped: 0, plan: { unshared: n, linksDropped: n, rootsDropped: 2 } });
    expect(r.json!['plan'].copy).toHaveLength(n);
    expect(snapshot(parent)).toEqual(before);
    const h = await runCli(['--store', store, 'unshare', '-n', a!]);
    expect(h.stdout).toMatch(/^Dry run: nothing was changed\./);
    expect(h.stdout).toMatch(/To do it: pycstore unshare /);
    expect(snapshot(parent)).toEqual(before);
  });

  it('refuses PATH with --all, neither, or a path that is not there (exit 2), and teaches with --help', async () => {
    const store = path.join(work, 'store-usage');
    expect((await runCli(['--store', store, '--json', 'unshare', '--all', work])).json).toMatchObject({ error: { code: 'EUSAGE' } });
    expect((await runCli(['--store', store, 'unshare'])).code).toBe(2);
    mkdirSync(store, { recursive: true, mode: 0o700 });
    const missing = await runCli(['--store', store, 'unshare', path.join(work, 'nope')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no such file or folder/);
    const help = await runCli(['unshare', '--help']);
    expect(help.stdout).toMatch(/Usage: pycstore unshare/);
    expect(help.stdout).toMatch(/--all/);
    expect(help.stdout).toMatch(/Examples:[\s\S]*pycstore unshare --all && pycstore gc --grace 0/);
  });
});

describe('unshare of reflinks on XFS', () => {
  const lf = useLoopFs('xfs', { sizeMiB: 400 });
  it('gives each reflinked pyc a new private file with the same content; gc then empties the store', async (ctx) => {
    const fs = lf.require(ctx);
    const parent = path.join(fs.mountpoint, 'unshare');
    const venvs = copies(parent, ['A', 'B']);
    const store = path.join(fs.mountpoint, 'store');
    const d = await runCli(['--store', store, '--json', 'dedup', '--link-mode', 'reflink', ...venvs]);
    expect(d.code, d.stderr).toBe(0);
    expect(d.json!['linkKinds']).toEqual({ [store]: 'reflink' });
    const before = venvs.flatMap((v) => listFiles(v, isPyc));
    const digests = pycDigests(parent);
    const owner = new Map(before.map((f) => [f.path, lstatSync(f.path).uid]));

    const u = await runCli(['--store', store, '--json', 'unshare', '--all']);
    expect(u.code, u.stderr).toBe(0);
    expect(u.json).toMatchObject({ unshared: before.length, linksDropped: before.length, failures: [] });
    for (const v of venvs) expectPrivate(v, new Map([...digests].filter(([p]) => p.startsWith(v + path.sep))), owner);
    const after = new Map(venvs.flatMap((v) => listFiles(v, isPyc)).map((f) => [f.path, f.ino]));
    for (const f of before) expect(after.get(f.path), f.path).not.toBe(f.ino); // a new file, not the reflink

    const g = await runCli(['--store', store, '--json', 'gc', '--grace', '0']);
    expect(g.json).toMatchObject({ objectsLive: 0, failures: [] });
    expect(storeObjects(store)).toEqual([]);
    for (const v of venvs) expect(runInVenv(v, IMPORT_PIP)).toContain(v);
  });
});
