/**
 * dedup end to end on this machine's filesystem (ext4 here), with real venvs:
 * three `cp -a` copies of one venv share every pyc, still import pip, and a
 * second run reads nothing.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, REQUIRE, requireOrSkip } from '../helpers/require.js';
import { memoryOutput } from '../../src/util/output.js';
import { runDedup } from '../../src/dedup/run.js';
import { rawTransform } from '../../src/canonical/raw.js';
import type { Transform } from '../../src/canonical/types.js';
import { replaceWithLink } from '../../src/fs/link.js';
import { fingerprintOf } from '../../src/fs/fingerprint.js';
import { ledgerPath } from '../../src/store/location.js';
import { prefixMirror } from '../../src/pyc/names.js';
import { runCli } from '../helpers/cli.js';
import { pythonEnv } from '../helpers/interpreters.js';
import { cpCopies, letters, isPyc, listFiles, makeVenv, runInVenv, snapshot } from '../helpers/venv.js';

let work: string;
let template: string;

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'pycstore-dedup-'));
  template = makeVenv(path.join(work, 'template'));
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

function copies(name: string, n = 3): string[] {
  return cpCopies(template, path.join(work, name), letters(n));
}

const IMPORT_PIP = 'import pip, pip._internal.cli.main, pip._internal.commands.install; print(pip.__file__)';

function pycInodes(venv: string): Map<string, bigint> {
  return new Map(listFiles(venv, isPyc).map((f) => [path.relative(venv, f.path), f.ino]));
}

describe('dedup over cp -a copies (hard links on ext4)', () => {
  it('links every pyc of B and C to A\'s inode, keeps imports working, and reads nothing the second time', async () => {
    const [a, b, c] = copies('abc');
    const store = path.join(work, 'store-abc');
    const pycCount = listFiles(a!, isPyc).length;
    expect(pycCount).toBeGreaterThan(500);

    const r1 = await runCli(['--store', store, '--json', 'dedup', a!, b!, c!]);
    expect(r1.code, r1.stderr).toBe(0);
    expect(r1.json).toMatchObject({ files: pycCount * 3, linked: pycCount * 3, shared: 0 });
    expect(r1.json!['bytesSaved']).toBeGreaterThan(0);
    expect(r1.json!['bytesRead']).toBeGreaterThan(0);

    const ia = pycInodes(a!);
    const ib = pycInodes(b!);
    const ic = pycInodes(c!);
    expect(ia.size).toBe(pycCount);
    for (const [rel, ino] of ia) {
      expect(ib.get(rel), rel).toBe(ino);
      expect(ic.get(rel), rel).toBe(ino);
    }
    // Each venv's own Python still imports pip, from its own files, and rewrites no pyc.
    for (const v of [a!, b!, c!]) {
      expect(runInVenv(v, IMPORT_PIP).trim()).toBe(path.join(v, 'lib', path.basename(readdirSync(path.join(v, 'lib'))[0]!), 'site-packages', 'pip', '__init__.py'));
    }
    expect(pycInodes(a!)).toEqual(ia);
    expect(pycInodes(b!)).toEqual(ib);

    const r2 = await runCli(['--store', store, '--json', 'dedup', a!, b!, c!]);
    expect(r2.code).toBe(0);
    expect(r2.json).toMatchObject({ linked: 0, bytesRead: 0, shared: pycCount * 3 });

    // With no PATH: the registered roots.
    const r3 = await runCli(['--store', store, '--json', 'dedup']);
    expect(r3.json).toMatchObject({ linked: 0, bytesRead: 0, shared: pycCount * 3, roots: [a, b, c] });

    const st = await runCli(['--store', store, '--json', 'status']);
    expect(st.json).toMatchObject({ objects: pycCount, links: pycCount * 3, roots: 3 });
    expect(st.json!['bytesSaved']).toBeGreaterThan(0);
  });

  it('--dry-run changes nothing: not a file\'s inode, content or mtime, nor the ledger', async () => {
    const [a, b] = copies('dry', 2);
    const store = path.join(work, 'store-dry');
    // First with no store at all: none gets created.
    const before = snapshot(path.dirname(a!));
    const r = await runCli(['--store', store, '--json', 'dedup', '--dry-run', a!, b!]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ dryRun: true, linked: 0 });
    expect(r.json!['plan'].toLink).toBe(r.json!['files']);
    expect(existsSync(store)).toBe(false);
    expect(snapshot(path.dirname(a!))).toEqual(before);

    // Then with a store that holds one of them already: the ledger stays byte-identical.
    const r1 = await runCli(['--store', store, 'dedup', a!]);
    expect(r1.code).toBe(0);
    const tree = snapshot(path.dirname(a!));
    const ledgerBefore = snapshot(store);
    const r2 = await runCli(['--store', store, '--json', 'dedup', '-n', a!, b!]);
    expect(r2.code).toBe(0);
    expect(r2.json!['plan'].newObjects).toBe(0);
    expect(snapshot(path.dirname(a!))).toEqual(tree);
    expect(snapshot(store)).toEqual(ledgerBefore);
    expect(existsSync(ledgerPath(store))).toBe(true);
  });

  it('never links a pyc whose bytes differ from the object at the same address (forced collision)', async () => {
    const [a, b] = copies('collide', 2);
    const store = path.join(work, 'store-collide');
    // Make one pyc of B differ by one byte from A's: flip a byte in the marshal body.
    const rel = path.join('lib', readdirSync(path.join(a!, 'lib'))[0]!, 'site-packages', 'pip', '__pycache__');
    const name = readdirSync(path.join(b!, rel)).find((n) => n.startsWith('__init__.'))!;
    const victim = path.join(b!, rel, name);
    const buf = readFileSync(victim);
    buf[buf.length - 3] = buf[buf.length - 3]! ^ 0x01;
    writeFileSync(victim, buf);
    const victimBefore = lstatSync(victim, { bigint: true });
    // The seam: the address function gives every pyc of this size the same address.
    const forced: Transform = {
      ...rawTransform,
      address: (bytes) => (bytes.length === buf.length ? { hash: 'c011151011c01115', size: bytes.length } : rawTransform.address(bytes)),
    };
    const report = await runDedup({ storeDir: store, paths: [a!, b!], out: memoryOutput(), transform: forced });
    const failure = report.failures.find((f) => f.path === victim || f.path === path.join(a!, rel, name));
    expect(failure?.reason).toBe('collision');
    const after = lstatSync(victim, { bigint: true });
    expect(after.ino).toBe(victimBefore.ino);
    expect(readFileSync(victim)).toEqual(buf);
    expect(lstatSync(path.join(a!, rel, name)).ino).not.toBe(Number(after.ino));
  });

  it('skips a pyc that changed between hashing and swapping', async () => {
    const [a, b] = copies('race', 2);
    const store = path.join(work, 'store-race');
    const rel = path.join('lib', readdirSync(path.join(a!, 'lib'))[0]!, 'site-packages', 'pip', '__pycache__');
    const name = readdirSync(path.join(b!, rel)).find((n) => n.startsWith('__main__.'))!;
    const victim = path.join(b!, rel, name);
    let newContent: Buffer | undefined;
    const report = await runDedup({
      storeDir: store,
      paths: [a!, b!],
      out: memoryOutput(),
      afterPlan: (plan) => {
        // Another process rewrites it in place (same bytes, new mtime) after it was hashed: in its own group's
        // plan, once. The mtime is set a minute back, so the change can't fall inside one timestamp tick.
        if (newContent || !plan.objects.some((o) => o.links.some((l) => l.facts.subject.path === victim))) return;
        newContent = readFileSync(victim);
        writeFileSync(victim, newContent);
        const t = new Date(Date.now() - 60_000);
        utimesSync(victim, t, t);
      },
    });
    expect(newContent).toBeDefined();
    expect(report.skipped['changed']).toBe(1);
    const ia = lstatSync(path.join(a!, rel, name)).ino;
    expect(lstatSync(victim).ino).not.toBe(ia);
    expect(readFileSync(victim)).toEqual(newContent);
    // Everything else was linked.
    expect(report.linked).toBe(report.files - 1);
  });

  it('the swap itself refuses a file whose fingerprint moved after the last read', async () => {
    const dir = mkdtempSync(path.join(work, 'swap-'));
    const obj = path.join(dir, 'object');
    writeFileSync(obj, 'same');
    const target = path.join(dir, 'target');
    writeFileSync(target, 'same');
    const fp = fingerprintOf(lstatSync(target, { bigint: true }));
    appendFileSync(target, '!');
    const out = await replaceWithLink({ path: obj, fp: fingerprintOf(lstatSync(obj, { bigint: true })) }, target, 'hardlink', fp);
    expect(out).toMatchObject({ ok: false, reason: 'changed' });
    expect(readFileSync(target, 'utf8')).toBe('same!');
    expect(readdirSync(dir).sort()).toEqual(['object', 'target']); // no temp left behind
  });
});

describe('what dedup skips and leaves alone', () => {
  it('skips stale, truncated and wrong-magic pycs and leaves pytest and unknown-tag files alone', async () => {
    const root = path.join(work, 'skips');
    const pkg = path.join(root, 'pkg');
    mkdirSync(pkg, { recursive: true });
    for (const m of ['fresh', 'stale', 'trunc', 'magic']) writeFileSync(path.join(pkg, `${m}.py`), `X = "${m}"\n`);
    execFileSync('python3', ['-m', 'compileall', '-q', pkg], { env: pythonEnv() });
    const cache = path.join(pkg, '__pycache__');
    const tag = readdirSync(cache)[0]!.split('.')[1]!;
    writeFileSync(path.join(pkg, 'stale.py'), 'X = "edited, longer"\n');
    writeFileSync(path.join(cache, `trunc.${tag}.pyc`), readFileSync(path.join(cache, `trunc.${tag}.pyc`)).subarray(0, 9));
    const mb = readFileSync(path.join(cache, `magic.${tag}.pyc`));
    mb[0] = 0x42; // 3.7's magic: not a 3.8–3.15 final magic
    writeFileSync(path.join(cache, `magic.${tag}.pyc`), mb);
    copyFileSync(path.join(cache, `fresh.${tag}.pyc`), path.join(cache, `test_fresh.${tag}-pytest-8.0.0.pyc`));
    copyFileSync(path.join(cache, `fresh.${tag}.pyc`), path.join(cache, `fresh.cpython-37.pyc`));
    copyFileSync(path.join(cache, `fresh.${tag}.pyc`), path.join(cache, `gone.${tag}.pyc`));
    const pytestIno = lstatSync(path.join(cache, `test_fresh.${tag}-pytest-8.0.0.pyc`)).ino;

    const store = path.join(work, 'store-skips');
    const r = await runCli(['--store', store, '--json', 'dedup', '--no-discover', root]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({
      files: 4,
      linked: 1,
      skipped: { stale: 1, truncated: 1, 'prerelease-or-unknown-magic': 1 },
      ignored: { 'not-pep3147': 1, 'unknown-tag': 1, 'no-source': 1 },
    });
    expect(lstatSync(path.join(cache, `test_fresh.${tag}-pytest-8.0.0.pyc`)).ino).toBe(pytestIno);
    // Stale pycs are never stored: the store holds exactly one object.
    const st = await runCli(['--store', store, '--json', 'status']);
    expect(st.json).toMatchObject({ objects: 1, links: 1 });
    // A rescan reads none of them again, skips included.
    const r2 = await runCli(['--store', store, '--json', 'dedup', '--no-discover', root]);
    expect(r2.json).toMatchObject({ bytesRead: 0, linked: 0, shared: 1, skipped: { stale: 1, truncated: 1 } });
  });

  it('reports usage errors with exit 2', async () => {
    const r = await runCli(['dedup', '--link-mode', 'symlink', work]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--link-mode must be auto, reflink or hardlink/);
    const r2 = await runCli(['dedup', path.join(work, 'nope')]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/no such directory/);
    const r3 = await runCli(['dedup', '--bogus']);
    expect(r3.code).toBe(2);
    const r4 = await runCli(['frobnicate']);
    expect(r4.code).toBe(2);
    expect(r4.stderr).toMatch(/unknown command/);
  });

  it('teaches with --help and prints its version', async () => {
    const h = await runCli(['--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/Usage: pycstore/);
    expect(h.stdout).toMatch(/dedup/);
    const d = await runCli(['dedup', '--help']);
    expect(d.stdout).toMatch(/--link-mode/);
    expect(d.stdout).toMatch(/Examples:/);
    const v = await runCli(['--version']);
    expect(v.stdout).toMatch(/^pycstore \d+\.\d+\.\d+/);
  });
});

describe('other filesystems', () => {
  it('skips files on another filesystem with one loud line, and links them given a store root there', async (ctx) => {
    requireOrSkip(ctx, REQUIRE.root, 'files on another filesystem (a tmpfs)', isRoot ? undefined : 'needs root to mount a tmpfs');
    const mnt = mkdtempSync(path.join(os.tmpdir(), 'pycstore-tmpfs-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256m', 'tmpfs', mnt]);
    try {
      const a = path.join(mnt, 'A');
      const b = path.join(mnt, 'B');
      // cp -a, not cpSync: Node rounds mtimes to the millisecond, and a source whose mtime is
      // within 0.5 ms of the next second would then carry a later second than its pyc's header.
      execFileSync('cp', ['-a', template, a]);
      execFileSync('cp', ['-a', a, b]);
      const store = path.join(work, 'store-xfs');
      const r = await runCli(['--store', store, '--json', 'dedup', a, b]);
      expect(r.code).toBe(0);
      expect(r.json!['linked']).toBe(0);
      expect(r.json!['skipped'], JSON.stringify(r.json)).toEqual({ 'other-filesystem': r.json!['files'] });
      expect(r.json!['otherFilesystems']).toEqual([{ mount: mnt, files: r.json!['files'], bytes: expect.any(Number) }]);
      const warnings = r.stderr.split('\n').filter((l) => l.includes('not on the store\'s filesystem'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/--store-root/);

      const r2 = await runCli(['--store', store, '--json', 'dedup', '--store-root', path.join(mnt, '.pycstore'), a, b]);
      expect(r2.code, r2.stderr).toBe(0);
      expect(r2.json!['linked']).toBe(r.json!['files']);
      expect(statSync(path.join(mnt, '.pycstore')).mode & 0o777).toBe(0o700);
      // Remembered: the next run without --store-root sees them as shared.
      const r3 = await runCli(['--store', store, '--json', 'dedup', a, b]);
      expect(r3.json).toMatchObject({ linked: 0, bytesRead: 0, shared: r.json!['files'] });
      expect(runInVenv(a, IMPORT_PIP)).toContain(path.join(a, 'lib'));
    } finally {
      execFileSync('umount', [mnt]);
      rmSync(mnt, { recursive: true, force: true });
    }
  });
});

describe('PYTHONPYCACHEPREFIX trees', () => {
  it('finds and links the mirror-tree pycs of the given paths', async () => {
    const prefix = path.join(work, 'prefix');
    const src = path.join(work, 'prefixsrc');
    const trees = ['one', 'two'].map((n) => path.join(src, n));
    for (const t of trees) {
      mkdirSync(path.join(t, 'pkg'), { recursive: true });
      writeFileSync(path.join(t, 'pkg', 'mod.py'), 'VALUE = 42\n');
      writeFileSync(path.join(t, 'pkg', '__init__.py'), '');
    }
    // Same source mtimes, so the pycs differ only by co_filename (raw mode: no sharing across trees).
    for (const t of trees) {
      execFileSync('python3', ['-c', 'import sys; sys.path.insert(0, sys.argv[1]); import pkg.mod'].concat([t]), {
        env: pythonEnv({ PYTHONPYCACHEPREFIX: prefix }),
      });
    }
    const mine = prefixMirror(prefix, src);
    expect(listFiles(mine, (p) => p.endsWith('.pyc')).length).toBe(4);
    const store = path.join(work, 'store-prefix');
    const r = await runCli(['--store', store, '--json', 'dedup', '--no-discover', '--pycache-prefix', prefix, ...trees]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ files: 4, linked: 4 });
    const again = await runCli(['--store', store, '--json', 'dedup']);
    expect(again.json).toMatchObject({ files: 4, shared: 4, bytesRead: 0 });
    // CPython still uses them: importing with the prefix rewrites nothing.
    const inodes = listFiles(mine, (p) => p.endsWith('.pyc')).map((f) => f.ino);
    execFileSync('python3', ['-c', 'import sys; sys.path.insert(0, sys.argv[1]); import pkg.mod; assert pkg.mod.VALUE == 42', trees[0]!], {
      env: pythonEnv({ PYTHONPYCACHEPREFIX: prefix }),
    });
    expect(listFiles(mine, (p) => p.endsWith('.pyc')).map((f) => f.ino)).toEqual(inodes);
  });
});
