import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildHeader, checkFresh, parseHeader, sourceHash } from '../../src/pyc/header.js';
import { PY_VERSIONS, versionForMagic } from '../../src/pyc/magic.js';
import { siphash } from '../../src/pyc/siphash.js';
import { findInterpreters, announceMissing, missingVersions, pythonEnv } from '../helpers/interpreters.js';

const enc = new TextEncoder();
const big = new Uint8Array(1028);
for (let i = 0; i < 1024; i++) big[i] = i % 256;
big.set(enc.encode('tail'), 1024);

// ../shared/research/pyc-internals.md §2.1
const VECTORS: [string, Uint8Array, Record<number, string>][] = [
  ['empty', new Uint8Array(), { 3439: '8cc0cd2525e7fd27', 3495: '738d9cd5d5e87f73', 3531: 'baf18eedc9387a25', 3571: '27ec6d312f93b814', 3627: '61f5b7cb653a6aa4' }],
  ['x = 1', enc.encode('x = 1\n'), { 3413: '1506f08f32bf3ff3', 3425: 'f1d665a9e50fdffa', 3439: 'd94aade28c8cbebf', 3495: '4c0372aa93f75252', 3531: '1522561917f5df08', 3571: 'e786e2893651120e', 3627: '1db2b6325ca282a7' }],
  ['import os', enc.encode("import os\nprint('hello, world')\n"), { 3439: '5ee064d2255e7143', 3495: '841116e828394e32', 3531: '43a7606e71ee3a1e', 3571: '7de8563817cafeeb', 3627: 'c73f138fd7892796' }],
  ['1028 bytes', big, { 3439: 'd071829fa99596e6', 3495: 'f16cb47ca5c4c84a', 3531: '19a7fef4388de60c', 3571: '814646e39324dbbb', 3627: '989ecf19166bdf45' }],
];

describe('source hash (SipHash keyed by the magic)', () => {
  for (const [name, data, byMagic] of VECTORS) {
    for (const [magic, hex] of Object.entries(byMagic)) {
      it(`${name} under magic ${magic}`, () => {
        expect(sourceHash(versionForMagic(Number(magic))!, data)).toBe(hex);
      });
    }
  }

  it('matches the reference SipHash-2-4 vector (key 00..0f, message 00..0e)', () => {
    // From the SipHash paper's test vectors: 15-byte message → a129ca6149be45e5.
    const key = Uint8Array.from({ length: 16 }, (_, i) => i);
    const msg = Uint8Array.from({ length: 15 }, (_, i) => i);
    const out = Buffer.from(siphash(key, msg, '2-4')).readBigUInt64LE(0);
    expect(out.toString(16)).toBe('a129ca6149be45e5');
  });

  const found = findInterpreters();
  announceMissing('header tests', found);
  for (const py of found) {
    it(`equals importlib.util.source_hash on Python ${py.version} for many lengths`, () => {
      const samples = Array.from({ length: 40 }, (_, n) => Buffer.from(Array.from({ length: n * 7 }, (_, i) => (i * 31 + n) & 0xff)));
      const script =
        'import sys, importlib.util, json\n' +
        'data = json.load(sys.stdin)\n' +
        'print(json.dumps([importlib.util.source_hash(bytes.fromhex(h)).hex() for h in data]))';
      const expected = JSON.parse(
        execFileSync(py.exe, ['-c', script], { input: JSON.stringify(samples.map((s) => s.toString('hex'))), env: pythonEnv() }).toString(),
      ) as string[];
      const magic = execFileSync(py.exe, ['-c', 'import importlib.util; print(int.from_bytes(importlib.util.MAGIC_NUMBER[:2], "little"))'], {
        env: pythonEnv(),
      })
        .toString()
        .trim();
      const info = versionForMagic(Number(magic));
      expect(info, `magic ${magic} of ${py.exe} is in the table`).toBeDefined();
      expect(samples.map((s) => sourceHash(info!, s))).toEqual(expected);
    });
  }
});

describe('header', () => {
  const v311 = PY_VERSIONS.find((v) => v.minor === 11)!;

  it('round-trips timestamp and hash headers', () => {
    const ts = buildHeader(v311, 'timestamp', { mtime: 1700000000, sourceSize: 6 });
    expect(Buffer.from(ts).toString('hex')).toBe('a70d0d0a0000000000f1536506000000');
    expect(parseHeader(ts)).toMatchObject({ invalidation: 'timestamp', mtime: 1700000000, sourceSize: 6 });
    const chk = buildHeader(v311, 'checked-hash', { sourceHash: '4c0372aa93f75252' });
    expect(parseHeader(chk)).toMatchObject({ invalidation: 'checked-hash', sourceHash: '4c0372aa93f75252' });
    const unchk = buildHeader(v311, 'unchecked-hash', { sourceHash: '4c0372aa93f75252' });
    expect(Buffer.from(unchk).readUInt32LE(4)).toBe(1);
  });

  it('names each problem', () => {
    expect(parseHeader(new Uint8Array(10))).toBe('truncated');
    expect(parseHeader(Uint8Array.from([0xa7, 0x0d, 0x0d, 0x0b, ...new Array(12).fill(0)]))).toBe('bad-magic');
    // 3.11a1's 3452: a pre-release magic is refused, not guessed.
    expect(parseHeader(Uint8Array.from([0x7c, 0x0d, 0x0d, 0x0a, ...new Array(12).fill(0)]))).toBe('prerelease-or-unknown-magic');
    expect(parseHeader(Uint8Array.from([0xa7, 0x0d, 0x0d, 0x0a, 2, 0, 0, 0, ...new Array(8).fill(0)]))).toBe('bad-flags');
  });

  it('decides freshness as importlib does, on a pyc CPython wrote', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pycstore-hdr-'));
    const src = path.join(dir, 'm.py');
    writeFileSync(src, 'x = 1\n');
    utimesSync(src, 1700000000, 1700000000.75);
    const pyc = path.join(dir, 'm.pyc');
    execFileSync('python3', ['-c', `import py_compile; py_compile.compile(${JSON.stringify(src)}, cfile=${JSON.stringify(pyc)})`], { env: pythonEnv() });
    const h = parseHeader(readFileSync(pyc));
    if (typeof h === 'string') throw new Error(h);
    expect(h.invalidation).toBe('timestamp');
    const st = statSync(src);
    expect(checkFresh(h, { mtimeSec: Math.trunc(st.mtimeMs / 1000), size: st.size })).toBe('fresh');
    expect(checkFresh(h, { mtimeSec: 1700000001, size: st.size })).toBe('stale');
    expect(checkFresh(h, { mtimeSec: 1700000000, size: st.size + 1 })).toBe('stale');

    execFileSync('python3', ['-c', `import py_compile; py_compile.compile(${JSON.stringify(src)}, cfile=${JSON.stringify(pyc)}, invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)`], { env: pythonEnv() });
    const hh = parseHeader(readFileSync(pyc));
    if (typeof hh === 'string') throw new Error(hh);
    expect(hh.invalidation).toBe('checked-hash');
    expect(checkFresh(hh, { mtimeSec: 0, size: 0 }, readFileSync(src))).toBe('fresh');
    expect(checkFresh(hh, { mtimeSec: 0, size: 0 }, enc.encode('x = 2\n'))).toBe('stale');
  });
});
