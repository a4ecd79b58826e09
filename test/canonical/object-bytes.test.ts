/**
 * Objects made without a copy: a canonical or raw body carries its pyc's own header in the 16 bytes
 * of its buffer right in front of it, and objectBytes uses those bytes only when they are exactly
 * the object's header (else it copies). Real pycs of the interpreter running the tests.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawTransform } from '../../src/canonical/raw.js';
import { canonicalTransform } from '../../src/canonical/transform.js';
import { objectBytes } from '../../src/canonical/types.js';
import { canonicalizeChecked } from '../../src/marshal/index.js';
import { ByteSink } from '../../src/marshal/sink.js';
import { HEADER_SIZE, parseHeader, type PycHeader } from '../../src/pyc/header.js';
import { pythonEnv } from '../helpers/interpreters.js';

let work: string;
let pyc: Uint8Array;
let header: PycHeader;
beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'pycstore-objbytes-'));
  const src = path.join(work, 'mod.py');
  writeFileSync(src, 'X = (1, 2.5, "three")\ndef f(a, *, b=4):\n    return [a, b, X]\n' + 'S = "x" * 300\n'.repeat(40));
  const out = path.join(work, 'mod.pyc');
  execFileSync('python3', ['-c', `import py_compile; py_compile.compile(${JSON.stringify(src)}, cfile=${JSON.stringify(out)}, doraise=True)`], { env: pythonEnv() });
  pyc = new Uint8Array(readFileSync(out));
  const h = parseHeader(pyc);
  if (typeof h === 'string') throw new Error(h);
  header = h;
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const concat = (a: Uint8Array, b: Uint8Array): number[] => [...a, ...b];

describe('objects made from bodies with their header in front', () => {
  it('ByteSink keeps the reserved room in front, for a view and for a right-sized copy', () => {
    for (const capacity of [4, 4096]) {
      const s = new ByteSink(capacity, 16);
      s.bytes(new Uint8Array([1, 2, 3, 4, 5]));
      const out = s.take();
      expect([...out]).toEqual([1, 2, 3, 4, 5]);
      expect(out.byteOffset).toBe(16);
    }
  });

  it('a canonical body is the same with and without the room, and its own header is in front', () => {
    const own = pyc.subarray(0, HEADER_SIZE);
    const body = canonicalTransform('auto').body(pyc, header, 'pkg/mod.py');
    expect([...body]).toEqual([...canonicalizeChecked(pyc.subarray(HEADER_SIZE), header.version, 'pkg/mod.py')]);
    expect([...new Uint8Array(body.buffer, body.byteOffset - HEADER_SIZE, HEADER_SIZE)]).toEqual([...own]);
    const obj = objectBytes(own, body);
    expect(obj.buffer).toBe(body.buffer); // no copy
    expect([...obj]).toEqual(concat(own, body));
  });

  it('another header gets a copy, and the body and its buffer are left as they were', () => {
    const own = pyc.subarray(0, HEADER_SIZE);
    const body = canonicalTransform('auto').body(pyc, header, 'pkg/mod.py');
    const before = [...new Uint8Array(body.buffer)];
    const other = own.slice();
    other[8] = other[8]! ^ 0xff; // another mtime
    const obj = objectBytes(other, body);
    expect(obj.buffer).not.toBe(body.buffer);
    expect([...obj]).toEqual(concat(other, body));
    expect([...new Uint8Array(body.buffer)]).toEqual(before);
  });

  it('a body without room in front (a raw view at offset 0 of its own buffer) gets a copy', () => {
    const body = rawTransform.body(pyc, header, 'mod.py').slice();
    const obj = objectBytes(pyc.subarray(0, HEADER_SIZE), body);
    expect(obj.buffer).not.toBe(body.buffer);
    expect([...obj]).toEqual([...pyc]);
  });
});
