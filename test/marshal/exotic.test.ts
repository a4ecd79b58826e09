/**
 * Every kind of constant marshal can carry, written by each real interpreter's own
 * marshal.dumps (as a code object's co_consts and as a py_compile pyc), canonicalized
 * here and loaded back by the same interpreter: ints around the int32/int64 edges and
 * huge ones, -0.0, infinities and NaNs with payloads, complex, bytes, non-ASCII and
 * long str, a lone surrogate, nested tuples and frozensets, Ellipsis, StopIteration;
 * slices on 3.14+ and frozendicts on 3.15+.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalize, checkCanonical, readCodeFilename } from '../../src/marshal/index.js';
import { parseHeader } from '../../src/pyc/header.js';
import { findInterpreters, announceMissing, missingVersions, pythonEnv } from '../helpers/interpreters.js';
import { LoadsChecker } from './helpers/python.js';

const MAKE = String.raw`
import marshal, py_compile, struct, sys, json
out = sys.argv[1]
src = '''
def f(x):
    if x in {"a", "b", "c"}:
        return ("t", 1, 2.5, -0.0, b"raw", "é")
    return [i for i in range(3)]
class C:
    def m(self): return f(1)
'''
nan1 = struct.unpack('<d', bytes.fromhex('0100000000f8ff7f'))[0]
exotic = (0, -1, 2**31 - 1, -2**31, 2**31, -2**31 - 1, 2**62, -2**63, 2**64, -2**100, 3**200,
          1.5, -0.0, 0.0, float('inf'), float('-inf'), float('nan'), nan1, -float('nan'),
          1j, complex(0.0, -0.0), complex(float('nan'), 1.0), b'', b'\x00\xff' * 40, '', 'é',
          '\udc80', 'x' * 300, 'é' * 300, sys.intern('interned_name'), 'interned_name',
          (1, (2, (3,))), frozenset({1, 'a', (2,), frozenset({3})}), frozenset(),
          None, True, False, Ellipsis, StopIteration, 1, 1.0, True)
if sys.version_info >= (3, 14):
    exotic += (slice(1, None, -1), slice(None), slice('a', (1,), 2**70))
if sys.version_info >= (3, 15):
    exotic += (frozendict({'a': 1, 'b': (2,), 'c': frozendict()}),)
co = compile(src, '/abs/src/pkg/mod.py', 'exec')
co = co.replace(co_consts=co.co_consts + (exotic, exotic[31:34]))
open(out + '/exotic.body', 'wb').write(b'\0' * 16 + marshal.dumps(co))
open(out + '/mod.py', 'w').write(src)
py_compile.compile(out + '/mod.py', cfile=out + '/mod.pyc', doraise=True)
print(json.dumps([out + '/exotic.body', out + '/mod.pyc']))
`;

const tmp = mkdtempSync(path.join(os.tmpdir(), 'pycstore-exotic-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const found = findInterpreters();
announceMissing('marshal exotic', found);

describe('every kind of constant, from the real marshal.dumps', () => {
  for (const py of found) {
    it(`Python ${py.version}`, async () => {
      const dir = path.join(tmp, py.version);
      mkdirSync(dir, { recursive: true });
      const [bodyFile, pycFile] = JSON.parse(execFileSync(py.exe, ['-c', MAKE, dir], { env: pythonEnv() }).toString()) as [string, string];
      const pyc = readFileSync(pycFile);
      const header = parseHeader(pyc);
      if (typeof header === 'string') throw new Error(header);
      const v = header.version;
      expect(readCodeFilename(pyc.subarray(16), v)).toBe(path.join(dir, 'mod.py'));
      const checker = new LoadsChecker(py.exe);
      const canons: Uint8Array[] = [];
      for (const file of [bodyFile, pycFile]) {
        const body = readFileSync(file).subarray(16);
        const canon = canonicalize(body, v, 'pkg/mod.py');
        checkCanonical(body, canon, v, 'pkg/mod.py');
        expect(Buffer.from(canonicalize(canon, v, 'pkg/mod.py')).equals(Buffer.from(canon))).toBe(true);
        await checker.send(file, canon);
        canons.push(canon);
      }
      // The checker must see through nothing: -0.0 turned into 0.0, and a different module.
      const negZero = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0x80]);
      let at = -1;
      do at = Buffer.from(canons[0]!).indexOf(negZero, at + 1);
      while (at >= 0 && (canons[0]![at - 1]! & 0x7f) !== 0x67); // a float's payload, 'g' or 'g' | FLAG_REF
      expect(at).toBeGreaterThan(0);
      const zeroed = Uint8Array.from(canons[0]!);
      zeroed[at + 7] = 0;
      await checker.send(bodyFile, zeroed);
      await checker.send(bodyFile, canons[1]!);
      const verdicts = await checker.finish();
      expect(verdicts.slice(0, 2)).toEqual(['ok', 'ok']);
      expect(verdicts[2]).toMatch(/^FAIL\t.*-0\.0 became 0\.0/);
      expect(verdicts[3]).toMatch(/^FAIL\t/);
    }, 60_000);
  }
});
