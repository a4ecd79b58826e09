/**
 * Determinism: the same stdlib modules compiled at two (three) different absolute paths,
 * each side in its own fresh process with its own PYTHONHASHSEED and compile order, plus
 * one side compiled in a process that imported each module first (3.13's interning
 * depends on process history): after canonicalization with the same relative name, the
 * bodies are byte-identical. The raw bodies are also compared after rewriting nothing but
 * co_filename, to show the test has teeth: on ≤ 3.10 frozenset order follows the hash
 * seed, so a filename-only rewrite is not enough there.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalize, checkCanonical, parseMarshal } from '../../src/marshal/index.js';
import { parseHeader } from '../../src/pyc/header.js';
import { findInterpreters, announceMissing, missingVersions, pythonEnv, type Interpreter } from '../helpers/interpreters.js';
import { writeFaithful } from './helpers/faithful.js';

// Modules with frozenset constants (x in {...}), many interned names, and the two whose
// 3.13 output depends on process history (argparse, typing).
const MODULES = [
  'argparse.py',
  'typing.py',
  '_markupbase.py',
  'hashlib.py',
  'ftplib.py',
  'gettext.py',
  'pydoc.py',
  'tarfile.py',
  'enum.py',
  'dataclasses.py',
  'json/decoder.py',
  'email/_header_value_parser.py',
];

const COMPILE = `
import importlib, json, py_compile, sys
job = json.load(sys.stdin)
for src, cfile, mod, opt in job["items"]:
    if job["import_first"]:
        importlib.import_module(mod)
    py_compile.compile(src, cfile=cfile, doraise=True, optimize=opt)
`;

const tmp = mkdtempSync(path.join(os.tmpdir(), 'pycstore-determinism-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const found = findInterpreters();
const missing = missingVersions(found);
announceMissing('marshal determinism', found);

interface Side {
  readonly root: string;
  readonly seed: string;
  readonly reverse: boolean;
  readonly importFirst: boolean;
}

/** Compile every module at opt 0 and 2 in one fresh process; pyc bytes by "<rel>@<opt>". */
function compileSide(py: Interpreter, libDir: string, rels: string[], side: Side): Map<string, Uint8Array> {
  const items: [src: string, cfile: string, mod: string, opt: number][] = [];
  const keys: string[] = [];
  for (const rel of rels) {
    const src = path.join(side.root, rel);
    mkdirSync(path.dirname(src), { recursive: true });
    copyFileSync(path.join(libDir, rel), src);
    const mod = rel.replace(/\.py$/, '').split('/').join('.');
    for (const opt of [0, 2]) {
      items.push([src, path.join(side.root, '__out__', `${rel}.${opt}.pyc`), mod, opt]);
      keys.push(`${rel}@${opt}`);
    }
  }
  const order = side.reverse ? [...items].reverse() : items;
  execFileSync(py.exe, ['-c', COMPILE], {
    input: JSON.stringify({ items: order, import_first: side.importFirst }),
    env: pythonEnv({ PYTHONHASHSEED: side.seed }),
  });
  return new Map(items.map(([, cfile], i) => [keys[i]!, readFileSync(cfile)]));
}

describe('determinism: canonical bytes do not depend on path, hash seed or process history', () => {
  for (const py of found) {
    it(`Python ${py.version}`, () => {
      const libDir = execFileSync(py.exe, ['-c', 'import sysconfig; print(sysconfig.get_paths()["stdlib"])'], { env: pythonEnv() })
        .toString()
        .trim();
      const rels = MODULES.filter((rel) => existsSync(path.join(libDir, rel)));
      expect(rels.length).toBeGreaterThanOrEqual(10);
      const base = path.join(tmp, py.version);
      const sides: Side[] = [
        { root: path.join(base, 'a', 'lib'), seed: '1', reverse: false, importFirst: false },
        { root: path.join(base, 'bb', 'elsewhere', 'site'), seed: '2', reverse: true, importFirst: false },
        { root: path.join(base, 'ccc', 'x'), seed: '3', reverse: false, importFirst: true },
      ];
      const compiled = sides.map((s) => compileSide(py, libDir, rels, s));
      let filenameOnlyDiffers = 0;
      for (const key of compiled[0]!.keys()) {
        const rel = key.replace(/@\d$/, '');
        const bodies = compiled.map((m) => m.get(key)!).map((pyc) => pyc.subarray(16));
        const version = (parseHeader(compiled[0]!.get(key)!) as Exclude<ReturnType<typeof parseHeader>, string>).version;
        const canon = bodies.map((b) => canonicalize(b, version, rel));
        bodies.forEach((b, i) => checkCanonical(b, canon[i]!, version, rel));
        expect(Buffer.from(canon[1]!).equals(Buffer.from(canon[0]!)), `${key}: seed 2, other path`).toBe(true);
        expect(Buffer.from(canon[2]!).equals(Buffer.from(canon[0]!)), `${key}: imported first`).toBe(true);
        const renamed = bodies.map((b) => writeFaithful(b, parseMarshal(b, version), rel));
        if (renamed.some((r) => !Buffer.from(r).equals(Buffer.from(renamed[0]!)))) filenameOnlyDiffers++;
      }
      console.log(
        `marshal determinism ${py.version}: ${compiled[0]!.size} pycs (${rels.length} modules × opt 0, 2) canonicalize identically; ` +
          `${filenameOnlyDiffers} would still differ with only co_filename rewritten`,
      );
      if (py.minor <= 10) expect(filenameOnlyDiffers).toBeGreaterThan(0);
    }, 120_000);
  }
});
