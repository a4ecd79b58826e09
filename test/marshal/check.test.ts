import { describe, expect, it } from 'vitest';
import { canonicalize, checkCanonical } from '../../src/marshal/index.js';
import * as m from './helpers/stream.js';
import { thrown } from './helpers/thrown.js';

const V = m.v(11);
const R = m.REF;

function diff(original: number[], canonical: number[], rel = 'm.py', minor = 11): { path: string; reason: string } {
  const err = thrown(() => checkCanonical(m.bytes(original), m.bytes(canonical), m.v(minor), rel), 'ECANON');
  return err.data as { path: string; reason: string };
}

const inner = (consts: number[][], filename = m.z('/abs/m.py')): number[] =>
  m.code(11, { consts: m.tuple(consts), name: m.z('f'), filename });

describe('checkCanonical', () => {
  const original = m.code(11, {
    consts: m.tuple([m.int(1), m.frozenset([m.z('a'), m.z('b')]), inner([m.float(-0), m.byt('x')])]),
    names: m.tuple([m.z('print', 0, true)]),
  });

  it('accepts the canonical form, and equivalent re-encodings of it', () => {
    const canon = canonicalize(m.bytes(original), V, 'm.py');
    expect(() => checkCanonical(m.bytes(original), canon, V, 'm.py')).not.toThrow();
    // Flags, sharing, type codes, interned bits and set order are not compared.
    const variant = m.code(
      11,
      {
        consts: m.tuple([m.long(1n), m.frozenset([m.u('b'), m.a('a')]), inner([m.float(-0), m.byt('x', R)], m.z('m.py', R))], R),
        names: m.tuple([m.z('print')]),
        filename: m.ref(3), // refs: 0 root, 1 consts, 2 b'x', 3 'm.py'
      },
      R,
    );
    expect(() => checkCanonical(m.bytes(original), m.bytes(variant), V, 'm.py')).not.toThrow();
  });

  it('names the first difference by path', () => {
    const withConsts = (consts: number[][], names = m.tuple([m.z('print')])): number[] =>
      m.code(11, { consts: m.tuple(consts), names, filename: m.z('m.py') });
    const good = [m.int(1), m.frozenset([m.z('a'), m.z('b')]), inner([m.float(-0), m.byt('x')], m.z('m.py'))];
    expect(diff(original, withConsts([m.int(2), good[1]!, good[2]!]))).toMatchObject({ path: 'co_consts[0]', reason: 'int 1 became 2' });
    expect(diff(original, withConsts([good[0]!, m.frozenset([m.z('a'), m.z('c')]), good[2]!]))).toMatchObject({
      path: 'co_consts[1]',
      reason: 'frozenset elements differ',
    });
    expect(diff(original, withConsts([good[0]!, good[1]!, inner([m.float(0), m.byt('x')], m.z('m.py'))]))).toMatchObject({
      path: 'co_consts[2].co_consts[0]',
      reason: 'float value differs',
    });
    expect(diff(original, withConsts([good[0]!, good[1]!, inner([m.float(-0), m.z('x')], m.z('m.py'))]))).toMatchObject({
      path: 'co_consts[2].co_consts[1]',
      reason: 'bytes became str',
    });
    expect(diff(original, withConsts([good[0]!, good[1]!]))).toMatchObject({ path: 'co_consts', reason: 'tuple of 3 became 2' });
    expect(diff(original, withConsts(good, m.tuple([m.z('prin')])))).toMatchObject({ path: 'co_names[0]' });
  });

  it('checks co_filename: the relative name in the canonical, one name throughout the original', () => {
    const canon = canonicalize(m.bytes(original), V, 'm.py');
    expect(() => checkCanonical(m.bytes(original), canon, V, 'other.py')).toThrow(/co_filename/);
    const mixed = m.code(11, { consts: m.tuple([inner([], m.z('/elsewhere.py'))]) });
    const mixedCanon = m.code(11, { consts: m.tuple([inner([], m.z('m.py'))]), filename: m.z('m.py') });
    expect(diff(mixed, mixedCanon)).toMatchObject({ path: 'co_consts[0].co_filename' });
  });

  it('compares int fields of code objects', () => {
    const canon = m.code(11, { filename: m.z('m.py'), firstlineno: 9 });
    expect(diff(m.code(11), canon)).toMatchObject({ path: '', reason: 'co_firstlineno 0 became 9' });
  });

  it('compares dict and slice contents in order', () => {
    const d = (k: string): number[] => m.code(14, { consts: m.tuple([m.dict([[m.z(k), m.NONE]])]), filename: m.z('m.py') });
    expect(diff(d('a'), d('b'), 'm.py', 14)).toMatchObject({ path: 'co_consts[0].key(0)' });
    const s = (x: number): number[] => m.code(14, { consts: m.tuple([m.slice(m.int(x), m.NONE, m.NONE)]), filename: m.z('m.py') });
    expect(diff(s(1), s(2), 'm.py', 14)).toMatchObject({ path: 'co_consts[0][0]' });
  });

  it('refuses unreadable input with EMARSHAL', () => {
    expect(() => checkCanonical(m.bytes(original), m.bytes([0x3f]), V, 'm.py')).toThrow(expect.objectContaining({ code: 'EMARSHAL' }));
  });
});
