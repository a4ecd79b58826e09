/**
 * How fast the marshal core refuses or handles hostile input (the speed half of
 * fuzz.test.ts and reader.test.ts, which check only the outcomes):
 *
 *   npm run bench:marshal        (vitest bench; compare runs side by side)
 */
import { bench, describe } from 'vitest';
import { canonicalize, checkCanonical, parseMarshal } from '../../src/marshal/index.js';
import * as m from './helpers/stream.js';

function dag(levels: number, firstSlot: number): number[] {
  if (levels === 0) return m.tuple([m.NONE], m.REF);
  return m.tuple([dag(levels - 1, firstSlot + 1), m.ref(firstSlot + 1)], m.REF);
}

const refuse = (bytes: number[]): void => {
  try {
    parseMarshal(Uint8Array.from(bytes), m.v(11));
  } catch {
    return;
  }
  throw new Error('accepted');
};

describe('hostile marshal streams', () => {
  bench('length fields of 2^31 - 1 and -1, every sized type: refused before allocating', () => {
    for (const c of ['s', 'u', 'a', '(', '[', '<', '>']) {
      refuse([c.charCodeAt(0), ...m.i32(0x7fffffff)]);
      refuse([c.charCodeAt(0), ...m.i32(-1)]);
    }
  });

  const dagBody = m.bytes(m.code(11, { consts: m.tuple([dag(40, 0)]) }));
  bench('a DAG with 2^40 paths: canonicalize + check', () => {
    checkCanonical(dagBody, canonicalize(dagBody, m.v(11), 'm.py'), m.v(11), 'm.py');
  });

  const setBody = m.bytes(m.code(11, { consts: m.tuple([m.frozenset([dag(40, 0), m.int(1)])]) }));
  bench('the same DAG in a frozenset: canonicalize, refused by the check', () => {
    const canon = canonicalize(setBody, m.v(11), 'm.py');
    try {
      checkCanonical(setBody, canon, m.v(11), 'm.py');
    } catch {
      return;
    }
    throw new Error('accepted');
  });
});
