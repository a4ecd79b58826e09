/**
 * The header choice is explicit and reversible: `--invalidation X` moves pycs already shared under
 * another header to objects with header X (and says so); the ledger remembers the header each file
 * had when first linked, so `unshare` gives back what the installer wrote — also after an
 * unchecked-hash dedup — and a gc and a default dedup after that leave no unchecked-hash pyc.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { cpCopies, isPyc, letters, listFiles, makeVenv, runInVenv } from '../helpers/venv.js';

let work: string;
beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'pycstore-header-'));
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

const FLAGS = { 0: 'timestamp', 1: 'unchecked-hash', 3: 'checked-hash' } as Record<number, string>;

/** Header kind → count over the venvs' pycs. */
function headerKinds(venvs: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of venvs) {
    for (const f of listFiles(v, isPyc)) {
      const kind = FLAGS[readFileSync(f.path).readUInt32LE(4)] ?? 'other';
      out[kind] = (out[kind] ?? 0) + 1;
    }
  }
  return out;
}

/** Every timestamp pyc's header names its source's current mtime and size (importlib's freshness rule). */
function expectFresh(venvs: readonly string[]): void {
  for (const v of venvs) {
    for (const f of listFiles(v, isPyc)) {
      const b = readFileSync(f.path);
      if (b.readUInt32LE(4) !== 0) continue;
      const name = path.basename(f.path).split('.')[0]!;
      const dir = path.dirname(path.dirname(f.path));
      const src = path.join(dir, `${name}.py`);
      const st = statSync(src);
      expect(b.readUInt32LE(8), src).toBe(Math.floor(st.mtimeMs / 1000) >>> 0);
      expect(b.readUInt32LE(12), src).toBe(st.size >>> 0);
    }
  }
}

const IMPORT = 'import pip._internal.cli.main, json, email.parser; print("ok")';

describe('header choice', () => {
  it('--invalidation moves shared pycs and says so; unshare restores the installer\'s header; unchecked-hash does not stick', async () => {
    const template = makeVenv(path.join(work, 'template'));
    const venvs = cpCopies(template, path.join(work, 'v'), letters(2));
    const store = path.join(work, 'store');
    const pycs = venvs.reduce((n, v) => n + listFiles(v, isPyc).length, 0);
    expect(headerKinds(venvs)).toEqual({ timestamp: pycs });

    const first = await runCli(['--store', store, '--json', 'dedup', ...venvs]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json).toMatchObject({ linked: pycs });
    expect(headerKinds(venvs)).toEqual({ timestamp: pycs }); // auto keeps timestamps while the copies agree

    const moved = await runCli(['--store', store, 'dedup', '--invalidation', 'unchecked-hash', ...venvs]);
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toMatch(new RegExp(`Moved ${pycs.toLocaleString('en-US')} shared pycs to unchecked-hash headers`));
    expect(headerKinds(venvs)).toEqual({ 'unchecked-hash': pycs });
    for (const v of venvs) expect(runInVenv(v, IMPORT).trim()).toBe('ok');

    const back = await runCli(['--store', store, '--json', 'unshare', '--all']);
    expect(back.code, back.stderr).toBe(0);
    expect(headerKinds(venvs)).toEqual({ timestamp: pycs });
    expectFresh(venvs);
    for (const v of venvs) expect(runInVenv(v, IMPORT).trim()).toBe('ok');

    const gc = await runCli(['--store', store, '--json', 'gc', '--grace', '0']);
    expect(gc.code, gc.stderr).toBe(0);
    const again = await runCli(['--store', store, '--json', 'dedup', ...venvs]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json).toMatchObject({ linked: pycs });
    expect(headerKinds(venvs)).toEqual({ timestamp: pycs });
  });
});
