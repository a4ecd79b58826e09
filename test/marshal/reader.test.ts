import { describe, expect, it } from 'vitest';
import { PycstoreError } from '../../src/errors.js';
import { MAX_DEPTH, parseMarshal } from '../../src/marshal/index.js';
import { digitsToBigint } from '../../src/marshal/numbers.js';
import { decodeUtf8Surrogatepass } from '../../src/marshal/strings.js';
import { payload, type MNode } from '../../src/marshal/types.js';
import * as m from './helpers/stream.js';
import { thrown } from './helpers/thrown.js';

const V311 = m.v(11);

function parse(parts: number[], version = V311): MNode {
  return parseMarshal(m.bytes(parts), version).root;
}

function marshalErr(fn: () => unknown): PycstoreError {
  return thrown(fn, 'EMARSHAL');
}

function floatOf(n: MNode): number {
  if (n.kind !== 'float') throw new Error(`not a float: ${n.kind}`);
  return new DataView(n.src.buffer, n.src.byteOffset + n.start, 8).getFloat64(0, true);
}

function text(n: MNode): string {
  if (n.kind !== 'str') throw new Error(`not a str: ${n.kind}`);
  return decodeUtf8Surrogatepass(payload(n));
}

describe('leaves', () => {
  it('reads singletons as shared nodes', () => {
    const root = parse(m.tuple([m.NONE, m.TRUE, m.FALSE, [0x2e], [0x53]]));
    expect(root.kind === 'tuple' && root.items.map((x) => x.kind)).toEqual(['none', 'true', 'false', 'ellipsis', 'stopiter']);
    expect(parse(m.NONE)).toBe(parse(m.NONE));
  });

  it('reads ints from i, I and l into one normal form', () => {
    expect(parse(m.int(-5))).toMatchObject({ kind: 'int', value: -5 });
    expect(parse(m.int64(7n))).toMatchObject({ kind: 'int', value: 7, typeCode: 0x49 });
    expect(parse(m.long(-(2n ** 31n)))).toMatchObject({ kind: 'int', value: -(2 ** 31) });
    expect(parse(m.long(2n ** 31n))).toMatchObject({ kind: 'long', negative: false });
    const big = parse(m.int64(-(2n ** 40n) - 3n));
    expect(big.kind).toBe('long');
    if (big.kind === 'long') expect(digitsToBigint(payload(big), big.negative)).toBe(-(2n ** 40n) - 3n);
    const huge = 3n ** 200n;
    const h = parse(m.long(huge));
    if (h.kind !== 'long') throw new Error('expected long');
    expect(digitsToBigint(payload(h), h.negative)).toBe(huge);
    expect(parse([0x6c, ...m.i32(0)])).toMatchObject({ kind: 'int', value: 0 });
  });

  it('refuses unnormalized longs and out-of-range digits', () => {
    expect(marshalErr(() => parse(m.long(5n, 0, true))).message).toMatch(/unnormalized/);
    expect(marshalErr(() => parse([0x6c, ...m.i32(1), 0x00, 0x80])).message).toMatch(/digit out of range/);
    expect(marshalErr(() => parse([0x6c, ...m.i32(-0x80000000)])).message).toMatch(/long size/);
  });

  it('keeps float bits exactly (-0.0, NaN payloads) and parses legacy text floats', () => {
    expect(Object.is(floatOf(parse(m.float(-0))), -0)).toBe(true);
    const nan = parse(m.floatBits(0x7ff80000, 0x1234));
    expect(Array.from(payload(nan as never))).toEqual([0x34, 0x12, 0, 0, 0, 0, 0xf8, 0x7f]);
    expect(floatOf(parse(m.floatText('1.5e3')))).toBe(1500);
    expect(floatOf(parse(m.floatText('-.25')))).toBe(-0.25);
    expect(marshalErr(() => parse(m.floatText('nan'))).message).toMatch(/plain decimal/);
    expect(marshalErr(() => parse(m.floatText(' 1'))).message).toMatch(/plain decimal/);
    const c = parse([0x78, 3, ...new TextEncoder().encode('1.0'), 4, ...new TextEncoder().encode('-2.5')]);
    expect(c.kind).toBe('complex');
    expect(Array.from(payload(c as never))).toEqual(m.complex(1, -2.5).slice(1));
  });

  it('reads every str code to UTF-8 content with its interned bit', () => {
    expect(parse(m.z('abc'))).toMatchObject({ kind: 'str', ascii: true, interned: false });
    expect(parse(m.z('abc', 0, true))).toMatchObject({ interned: true });
    expect(parse(m.a('abc', 0, true))).toMatchObject({ kind: 'str', ascii: true, interned: true });
    expect(text(parse(m.u('héllo')))).toBe('héllo');
    expect(parse(m.u('plain'))).toMatchObject({ ascii: true, interned: false });
    expect(parse(m.u('é', 0, true))).toMatchObject({ ascii: false, interned: true });
    // z/a payloads are Latin-1 in CPython: 0xe9 is "é", stored as UTF-8 c3 a9.
    const latin = parse(m.zRaw([0x63, 0xe9]));
    expect(text(latin)).toBe('cé');
    expect(Array.from(payload(latin as never))).toEqual([0x63, 0xc3, 0xa9]);
    // A lone surrogate passes (surrogatepass); a bad continuation byte does not.
    expect(text(parse(m.u([0xed, 0xb2, 0x80])))).toBe('\udc80');
    expect(marshalErr(() => parse(m.u([0xc3, 0x28]))).message).toMatch(/UTF-8/);
    expect(marshalErr(() => parse(m.u([0xe0, 0x80, 0x80]))).message).toMatch(/UTF-8/); // overlong
    expect(marshalErr(() => parse(m.u([0xf4, 0x90, 0x80, 0x80]))).message).toMatch(/UTF-8/); // > U+10FFFF
    expect(marshalErr(() => parse(m.u([0xe2, 0x82]))).message).toMatch(/UTF-8/); // truncated sequence
  });

  it('reads bytes as a view of the input', () => {
    const input = m.bytes(m.byt('xyz'));
    const root = parseMarshal(input, V311).root;
    expect(root.kind).toBe('bytes');
    if (root.kind === 'bytes') {
      expect(root.src.buffer).toBe(input.buffer);
      expect(new TextDecoder().decode(payload(root))).toBe('xyz');
    }
  });
});

describe('containers and refs', () => {
  it('reads tuples, lists, sets, frozensets and dicts', () => {
    const root = parse(
      m.tuple([m.bigTuple([m.int(1)]), m.list([m.int(2)]), m.set([m.int(3)]), m.frozenset([]), m.dict([[m.z('k'), m.int(4)]])]),
    );
    if (root.kind !== 'tuple') throw new Error('tuple');
    expect(root.items.map((x) => x.kind)).toEqual(['tuple', 'list', 'set', 'frozenset', 'dict']);
    const d = root.items[4]!;
    if (d.kind !== 'dict') throw new Error('dict');
    expect(text(d.items[0]!)).toBe('k');
    expect(d.items[1]).toMatchObject({ value: 4 });
  });

  it('numbers ref slots in pre-order: a container takes its slot before its children', () => {
    // slot 0: the tuple, slot 1: "a", slot 2: 7; then refs to each.
    const root = parse(m.tuple([m.tuple([m.z('a', m.REF), m.int(7, m.REF)], m.REF), m.ref(0), m.ref(1), m.ref(2)]));
    if (root.kind !== 'tuple') throw new Error('tuple');
    const [inner, r0, r1, r2] = root.items;
    expect(r0).toBe(inner);
    if (inner?.kind !== 'tuple') throw new Error('inner');
    expect(r1).toBe(inner.items[0]);
    expect(r2).toBe(inner.items[1]);
    expect(parseMarshal(m.bytes(m.tuple([m.tuple([], m.REF), m.z('a', m.REF)])), V311).refCount).toBe(2);
  });

  it('ignores FLAG_REF on singletons, as CPython does (no slot taken)', () => {
    const root = parse(m.tuple([[0x4e | m.REF], m.z('x', m.REF), m.ref(0)]));
    if (root.kind !== 'tuple') throw new Error('tuple');
    expect(root.items[2]).toBe(root.items[1]);
  });

  it('refuses bad references', () => {
    expect(marshalErr(() => parse(m.tuple([m.ref(0)]))).data).toMatchObject({ offset: 2 });
    expect(marshalErr(() => parse(m.tuple([m.int(1, m.REF), m.ref(1)]))).message).toMatch(/invalid reference 1/);
    expect(marshalErr(() => parse(m.tuple([m.ref(-1)]))).message).toMatch(/invalid reference/);
    // A reference to the tuple being read (a cycle): CPython builds a self-containing tuple; refused here.
    expect(marshalErr(() => parse(m.tuple([m.ref(0)], m.REF))).message).toMatch(/still being read/);
  });

  it('reads slices only from marshal version 5 (3.14) and frozendicts only from version 6 (3.15)', () => {
    const sl = m.slice(m.int(1), m.NONE, m.int(-1));
    expect(parse(sl, m.v(14))).toMatchObject({ kind: 'slice' });
    expect(marshalErr(() => parse(sl, m.v(13))).message).toMatch(/unknown type code 0x3a/);
    const fd = m.dict([[m.z('a'), m.int(1)]], 0, '}');
    expect(parse(fd, m.v(15))).toMatchObject({ kind: 'frozendict' });
    expect(marshalErr(() => parse(fd, m.v(14))).message).toMatch(/unknown type code 0x7d/);
  });

  it('refuses NULL where a value is needed, and unknown type codes', () => {
    expect(marshalErr(() => parse(m.tuple([m.NULL]))).message).toMatch(/NULL/);
    expect(marshalErr(() => parse(m.NULL)).message).toMatch(/NULL/);
    expect(marshalErr(() => parse(m.dict([[m.z('k'), m.NULL]]))).message).toMatch(/NULL/);
    expect(marshalErr(() => parse([0x3f])).message).toMatch(/unknown type code 0x3f/);
    expect(marshalErr(() => parse([0x21])).data).toMatchObject({ offset: 0 });
  });
});

describe('code objects', () => {
  for (const minor of [8, 9, 10, 11, 12, 13, 14, 15]) {
    it(`reads the ${minor >= 11 ? '3.11' : minor >= 10 ? '3.10' : '3.8'} layout for 3.${minor}`, () => {
      const root = parse(
        m.code(minor, { argcount: 2, firstlineno: 7, flags: 3, filename: m.z('/x/y.py', m.REF), consts: m.tuple([m.int(1), m.NONE]) }, m.REF),
        m.v(minor),
      );
      if (root.kind !== 'code') throw new Error('code');
      const l = root.layout;
      expect(root.ints[l.intNames.indexOf('co_argcount')]).toBe(2);
      expect(root.ints[l.intNames.indexOf('co_firstlineno')]).toBe(7);
      expect(root.ints[l.intNames.indexOf('co_flags')]).toBe(3);
      expect(text(root.items[l.filenameIndex]!)).toBe('/x/y.py');
      expect(root.items[l.objNames.indexOf('co_consts')]).toMatchObject({ kind: 'tuple' });
      expect(l.objNames.includes('co_qualname')).toBe(minor >= 11);
      expect(l.objNames.includes('co_lnotab')).toBe(minor <= 9);
    });
  }

  it('refuses code-object fields of the wrong type', () => {
    expect(marshalErr(() => parse(m.code(11, { filename: m.int(3) }))).message).toMatch(/co_filename holds a int, not str/);
    expect(marshalErr(() => parse(m.code(11, { names: m.tuple([m.int(3)]) }))).message).toMatch(/co_names/);
    expect(marshalErr(() => parse(m.code(11, { code: m.z('x') }))).message).toMatch(/co_code/);
  });
});

describe('robustness', () => {
  it('refuses bytes after the root object unless asked', () => {
    const b = m.bytes(m.int(1), [0x4e]);
    expect(marshalErr(() => parseMarshal(b, V311)).data).toMatchObject({ offset: 5 });
    expect(parseMarshal(b, V311, { allowTrailing: true }).end).toBe(5);
  });

  it('reports truncation with the offset', () => {
    expect(marshalErr(() => parse([0x69, 1, 2])).message).toMatch(/too short/);
    expect(marshalErr(() => parse(m.tuple([m.int(1), m.int(2)]).slice(0, -1))).data).toMatchObject({ offset: 8 });
    expect(marshalErr(() => parse([])).data).toMatchObject({ offset: 0 });
  });

  it('checks huge or negative length fields against the bytes left before allocating', () => {
    // (How fast: npm run bench:marshal, test/marshal/pathological.bench.ts.)
    for (const c of ['s', 'u', 'a', '(', '[', '<', '>']) {
      expect(marshalErr(() => parse([c.charCodeAt(0), ...m.i32(0x7fffffff)])).message).toMatch(/exceeds|too short/);
      expect(marshalErr(() => parse([c.charCodeAt(0), ...m.i32(-1)])).message).toMatch(/negative/);
    }
    expect(marshalErr(() => parse([0x6c, ...m.i32(0x7fffffff)])).message).toMatch(/too short/);
    expect(marshalErr(() => parse([0x29, 200, ...m.NONE])).message).toMatch(/exceeds/);
  });

  const nest = (depth: number): number[] => [...Array<number[]>(depth - 1).fill([0x29, 1]).flat(), ...m.NONE];

  it('reads nesting far deeper than real pycs (the 3.13 stdlib nests 17 deep)', () => {
    expect(() => parse(nest(400))).not.toThrow();
  });

  it(`refuses nesting past ${MAX_DEPTH} like CPython, or past the JS stack, always as EMARSHAL`, () => {
    expect(marshalErr(() => parse(nest(MAX_DEPTH + 1))).message).toMatch(/deeper than 2000|too deeply/);
    for (const depth of [1000, 1500, MAX_DEPTH]) {
      try {
        parse(nest(depth));
      } catch (err) {
        expect((err as PycstoreError).code).toBe('EMARSHAL');
      }
    }
  });
});
