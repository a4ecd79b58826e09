import { describe, expect, it } from 'vitest';
import { PycstoreError } from '../../src/errors.js';
import { canonicalizeGraph } from '../../src/marshal/canonicalize.js';
import { canonicalize, canonicalizeChecked, checkCanonical, parseMarshal, readCodeFilename } from '../../src/marshal/index.js';
import { decodeUtf8Surrogatepass } from '../../src/marshal/strings.js';
import { payload, type CodeNode, type MNode } from '../../src/marshal/types.js';
import { writeFaithful } from './helpers/faithful.js';
import * as m from './helpers/stream.js';
import { thrown } from './helpers/thrown.js';

const R = m.REF;

function canon(parts: number[], minor = 11, rel = 'pkg/m.py'): Uint8Array {
  return canonicalize(m.bytes(parts), m.v(minor), rel);
}

function hex(b: Uint8Array | number[]): string {
  return Buffer.from(Uint8Array.from(b)).toString('hex');
}

function canonErr(fn: () => unknown): PycstoreError {
  return thrown(fn, 'ECANON');
}

function root(b: Uint8Array, minor = 11): CodeNode {
  const r = parseMarshal(b, m.v(minor)).root;
  if (r.kind !== 'code') throw new Error('not code');
  return r;
}

function field(c: CodeNode, name: string): MNode {
  return c.items[c.layout.objNames.indexOf(`co_${name}`)]!;
}

function items(n: MNode): readonly MNode[] {
  if (n.kind !== 'tuple' && n.kind !== 'frozenset' && n.kind !== 'set') throw new Error(`no items in ${n.kind}`);
  return n.items;
}

describe('canonical encoding', () => {
  it('flags exactly the objects used twice, numbers refs in emission order, and flags the root code object', () => {
    // The four empty bytes (co_code, localspluskinds, linetable, exceptiontable) are one
    // object, used 4 times; so are the empty tuples (consts, names, localsplusnames), and
    // "<module>" (name, qualname) is used twice; nothing else repeats. `consts` and `names`
    // come before localsplusnames: the first of them that is the empty tuple holds ref 2.
    const canonical = (consts: number[], names: number[]): number[] =>
      m.code(
        11,
        {
          code: m.byt([], R), // ref 1
          consts,
          names,
          localsplusnames: m.ref(2),
          localspluskinds: m.ref(1),
          filename: m.z('pkg/m.py'),
          name: m.z('<module>', R), // ref 3
          qualname: m.ref(3),
          linetable: m.ref(1),
          exceptiontable: m.ref(1),
        },
        R, // ref 0
      );
    const expected = canonical(m.tuple([], R), m.ref(2));
    const input = m.code(11, { filename: m.z('/abs/m.py', R), consts: m.tuple([m.int(5, R)], R) }, R);
    const expectedWithConst = canonical(m.tuple([m.int(5)]), m.tuple([], R));
    expect(hex(canon(m.code(11)))).toBe(hex(expected));
    expect(hex(canon(input))).toBe(hex(expectedWithConst));
  });

  it('merges equal tuples, frozensets (in any order) and slices, bottom-up', () => {
    const consts = [
      m.tuple([m.int(1), m.tuple([m.z('a')])]), // 0
      m.tuple([m.long(1n), m.tuple([m.u('a')])]), // 1: same value as 0
      m.frozenset([m.z('x'), m.z('y')]), // 2
      m.frozenset([m.z('y'), m.z('x')]), // 3: same set as 2
      m.tuple([m.TRUE, m.tuple([m.z('a')])]), // 4: True is not 1
      m.frozenset([m.float(1)]), // 5
      m.frozenset([m.int(1)]), // 6: 1.0 is not 1
      m.list([m.int(1)]), // 7: mutable, never merged
      m.list([m.int(1)]), // 8
    ];
    const c = items(field(root(canon(m.code(14, { consts: m.tuple(consts) }), 14), 14), 'consts'));
    expect([c[0] === c[1], c[2] === c[3], c[7] === c[8]]).toEqual([true, true, false]);
    expect([c[0] === c[4], c[5] === c[6]]).toEqual([false, false]);
    expect(c[0]).toMatchObject({ flagged: true });
    const sl = items(field(root(canon(m.code(14, { consts: m.tuple([m.slice(m.int(1), m.NONE, m.NONE), m.slice(m.int(1), m.NONE, m.NONE)]) }), 14), 14), 'consts'));
    expect(sl[0]).toBe(sl[1]);
  });

  it('is the same whatever the input flags, types and sharing (3.8 layout too)', () => {
    const a = m.code(8, { filename: m.z('/a/m.py', R), consts: m.tuple([m.u('x'), m.u('x'), m.long(7n), m.int64(9n)]), name: m.z('f') });
    const b = m.code(
      8,
      { filename: m.a('/b/m.py'), consts: m.tuple([m.z('x', R), m.ref(1), m.int(7, R), m.int(9)], R), name: m.z('f', R) },
      0,
    );
    expect(hex(canon(a, 8))).toBe(hex(canon(b, 8)));
  });

  it('sorts set elements by their canonical encoding', () => {
    const fs = (order: number[][]): number[] => m.code(11, { consts: m.tuple([m.frozenset(order)]) });
    const one = canon(fs([m.z('b'), m.int(3), m.int(256), m.z('a'), m.int(1)]));
    const two = canon(fs([m.int(1), m.z('a'), m.int(256), m.int(3), m.z('b')]));
    expect(hex(one)).toBe(hex(two));
    const set = items(items(field(root(one), 'consts'))[0]!);
    // i 00010000 < i 01000000 < i 03000000 < z 01 'a' < z 01 'b'
    expect(set.map((n) => (n.kind === 'int' ? n.value : decodeUtf8Surrogatepass(payload(n as never))))).toEqual([256, 1, 3, 'a', 'b']);
  });

  it('sorts nested sets first, so the outer order is stable too', () => {
    const inner = (xs: number[]): number[] => m.frozenset(xs.map((x) => m.int(x)));
    const one = canon(m.code(11, { consts: m.tuple([m.frozenset([m.tuple([inner([2, 1])]), m.tuple([inner([4, 3])])])]) }));
    const two = canon(m.code(11, { consts: m.tuple([m.frozenset([m.tuple([inner([3, 4])]), m.tuple([inner([1, 2])])])]) }));
    expect(hex(one)).toBe(hex(two));
  });

  it('merges equal leaves but never 1 / 1.0 / True, 0.0 / -0.0, or NaNs with different payloads', () => {
    const consts = [
      m.int(1), // 0
      m.float(1), // 1
      m.TRUE, // 2
      m.float(0), // 3
      m.float(-0), // 4
      m.floatBits(0x7ff80000, 1), // 5
      m.floatBits(0x7ff80000, 1), // 6: same NaN payload as 5
      m.floatBits(0x7ff80000, 2), // 7
      m.long(1n), // 8: same value as 0
      m.byt('1'), // 9
      m.z('1'), // 10
      m.float(1), // 11: same as 1
      m.complex(0, -0), // 12
      m.complex(0, 0), // 13
    ];
    const c = items(field(root(canon(m.code(11, { consts: m.tuple(consts) }))), 'consts'));
    const same = (i: number, j: number): boolean => c[i] === c[j];
    expect([same(0, 8), same(5, 6), same(1, 11)]).toEqual([true, true, true]);
    for (const [i, j] of [[0, 1], [0, 2], [1, 2], [3, 4], [5, 7], [9, 10], [0, 10], [12, 13]] as const) {
      expect(same(i, j), `${i} vs ${j}`).toBe(false);
    }
  });

  it("interns a merged str if any occurrence was interned; keeps CPython's type code for the content", () => {
    const c = root(
      canon(
        m.code(11, {
          consts: m.tuple([m.z('spam'), m.u('plain'), m.a('short'), m.a('y'.repeat(300)), m.zRaw([0xe9]), m.u('é', 0, true)]),
          names: m.tuple([m.z('spam', 0, true)]),
        }),
      ),
    );
    const [spam, plain, short, long, latin, eacute] = items(field(c, 'consts'));
    expect(spam).toBe(items(field(c, 'names'))[0]);
    expect(spam).toMatchObject({ interned: true, typeCode: 0x5a }); // Z
    expect(plain).toMatchObject({ typeCode: 0x7a }); // z
    expect(short).toMatchObject({ typeCode: 0x7a }); // z
    expect(long).toMatchObject({ typeCode: 0x61 }); // a (>= 256 chars)
    expect(latin).toBe(eacute); // Latin-1 "é" under z is the same str as UTF-8 "é" under t
    expect(latin).toMatchObject({ typeCode: 0x74, interned: true }); // t
  });

  it('writes ints the way CPython does: i when they fit int32, else l', () => {
    const c = root(canon(m.code(11, { consts: m.tuple([m.long(2n ** 31n - 1n), m.int64(-(2n ** 31n)), m.int64(2n ** 40n)]) })));
    expect(items(field(c, 'consts')).map((n) => [n.kind, n.typeCode])).toEqual([
      ['int', 0x69],
      ['int', 0x69],
      ['long', 0x6c],
    ]);
  });

  it('never modifies the graph it works from, and canonicalizeChecked gives the same bytes', () => {
    const input = m.bytes(
      m.code(10, {
        filename: m.z('/abs/m.py', R),
        consts: m.tuple([m.frozenset([m.z('b'), m.z('a', 0, true)]), m.tuple([m.u('a')]), m.tuple([m.z('a')]), m.long(5n)]),
        names: m.tuple([m.z('a')]),
      }),
    );
    const graph = parseMarshal(input, m.v(10));
    const out = canonicalizeGraph(graph, 'pkg/m.py', input.length);
    expect(hex(writeFaithful(input, graph))).toBe(hex(input));
    expect(hex(canonicalizeChecked(input, m.v(10), 'pkg/m.py'))).toBe(hex(out));
  });

  it('is idempotent', () => {
    const input = m.code(10, {
      consts: m.tuple([m.frozenset([m.z('b'), m.z('a', R)]), m.ref(0), m.code(10, { filename: m.z('/abs/m.py') })]),
    });
    const once = canon(input, 10);
    expect(hex(canon([...once], 10))).toBe(hex(once));
  });
});

describe('co_filename', () => {
  it('rewrites every code object, however the filename was shared', () => {
    // As CPython writes it: the first nested code object holds the flagged filename (ref 1),
    // the others and the outer one refer to it; here one nested copy is a separate `u` str.
    const first = m.code(11, { filename: m.z('/abs/m.py', R), name: m.z('f') });
    const second = m.code(11, { filename: m.ref(1), name: m.z('g') });
    const third = m.code(11, { filename: m.u('/abs/m.py'), name: m.z('h') });
    const input = m.code(11, { filename: m.ref(1), consts: m.tuple([first, second, third]) }, R);
    const out = root(canon(input, 11, 'pkg/m.py'));
    const all: CodeNode[] = [out, ...(items(field(out, 'consts')) as CodeNode[])];
    for (const c of all) expect(decodeUtf8Surrogatepass(payload(field(c, 'filename') as never))).toBe('pkg/m.py');
    expect(field(out, 'filename')).toMatchObject({ flagged: true, interned: false });
  });

  it('reads the original co_filename', () => {
    expect(readCodeFilename(m.bytes(m.code(11, { filename: m.u('/ä/m.py') })), m.v(11))).toBe('/ä/m.py');
  });

  it('writes a non-ASCII or long relative name with the right code', () => {
    expect(field(root(canon(m.code(11), 11, 'päckage/m.py')), 'filename')).toMatchObject({ typeCode: 0x75 });
    expect(field(root(canon(m.code(11), 11, `${'d/'.repeat(150)}m.py`)), 'filename')).toMatchObject({ typeCode: 0x61 });
  });

  it('keeps the new name apart from an equal constant, so that canonicalizing again changes nothing', () => {
    const input = m.bytes(m.code(11, { consts: m.tuple([m.z('pkg/m.py', 0, true)]) }));
    const out = canonicalize(input, m.v(11), 'pkg/m.py');
    const c = root(out);
    expect(field(c, 'filename')).not.toBe(items(field(c, 'consts'))[0]);
    expect(field(c, 'filename')).toMatchObject({ interned: false });
    expect(() => checkCanonical(input, out, m.v(11), 'pkg/m.py')).not.toThrow();
    expect(hex(canonicalize(out, m.v(11), 'pkg/m.py'))).toBe(hex(out));
  });

  it('refuses code objects with different co_filename values', () => {
    const e = canonErr(() => canon(m.code(11, { consts: m.tuple([m.code(11, { filename: m.z('/other.py') })]) })));
    expect(new Set((e.data as { filenames: string[] }).filenames)).toEqual(new Set(['/abs/m.py', '/other.py']));
  });

  it('refuses a co_filename string object that is also used in another slot', () => {
    // consts and names come before co_filename in the stream, co_name after it.
    const cases: Record<string, number[]>[] = [
      { consts: m.tuple([m.z('/abs/m.py', R)]), filename: m.ref(1) },
      { names: m.tuple([m.z('/abs/m.py', R)]), filename: m.ref(1) },
      { filename: m.z('/abs/m.py', R), name: m.ref(1) },
    ];
    for (const fields of cases) {
      const e = canonErr(() => canon(m.code(11, fields, R)));
      expect(e.message).toMatch(/also used outside co_filename/);
    }
    // An equal but separate constant is fine: it keeps its own (absolute) value.
    const ok = root(canon(m.code(11, { consts: m.tuple([m.z('/abs/m.py')]) })));
    expect(decodeUtf8Surrogatepass(payload(items(field(ok, 'consts'))[0] as never))).toBe('/abs/m.py');
  });

  it('refuses a root that is not a code object', () => {
    expect(canonErr(() => canonicalize(m.bytes(m.tuple([])), m.v(11), 'x.py')).data).toMatchObject({ kind: 'tuple' });
  });
});

describe('3.14 and 3.15 objects', () => {
  it('canonicalizes slices (3.14) and unshared frozendicts (3.15)', () => {
    const sl = m.slice(m.int(1, R), m.NONE, m.ref(1));
    const out = root(canon(m.code(14, { consts: m.tuple([sl]) }, R), 14), 14);
    expect(items(field(out, 'consts'))[0]).toMatchObject({ kind: 'slice' });
    const fd = m.dict([[m.z('b'), m.int(1)], [m.z('a'), m.int(2)]], R, '}');
    const out15 = root(canon(m.code(15, { consts: m.tuple([fd]) }), 15), 15);
    const d = items(field(out15, 'consts'))[0]!;
    if (d.kind !== 'frozendict') throw new Error('frozendict');
    expect(d.flagged).toBe(false);
    const keys = d.items.filter((_, i) => i % 2 === 0);
    expect(keys.map((k) => decodeUtf8Surrogatepass(payload(k as never)))).toEqual(['b', 'a']); // insertion order kept
  });

  it('refuses a shared frozendict (early 3.15 builds cannot load a reference to one, gh-155315)', () => {
    const fd = m.dict([[m.z('a'), m.int(1)]], R, '}');
    canonErr(() => canon(m.code(15, { consts: m.tuple([fd, m.ref(0)]) }), 15));
  });
});
