/**
 * canonicalizeChecked with an expected output (marshal/sink.ts's ExpectSink): a copy of the same
 * code comes back as the expected view itself, nothing written; anything else comes back exactly as
 * without one — also when it agrees with the expected bytes for a while, and when it is a prefix.
 */
import { describe, expect, it } from 'vitest';
import { canonicalizeChecked } from '../../src/marshal/index.js';
import * as m from './helpers/stream.js';

const R = m.REF;
const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');

function module(constant: number[], filename = '/abs/venv-a/m.py'): Uint8Array {
  return m.bytes(m.code(11, { filename: m.z(filename, R), consts: m.tuple([m.z('a long constant string over thirty-two bytes, for range()'), constant]) }));
}

/** The expected body, in a buffer with room in front (as bodies are made), shared as it is between threads. */
function expected(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(new SharedArrayBuffer(16 + body.length));
  out.set(body, 16);
  return out.subarray(16);
}

describe('canonicalizeChecked with an expected output', () => {
  const v = m.v(11);
  const a = canonicalizeChecked(module(m.z('x')), v, 'pkg/m.py');

  it('gives back the expected view itself for another copy of the same code (another co_filename)', () => {
    const exp = expected(a);
    const out = canonicalizeChecked(module(m.z('x'), '/abs/venv-b/m.py'), v, 'pkg/m.py', 16, { expect: exp });
    expect(out).toBe(exp);
    expect(hex(out)).toBe(hex(a));
  });

  it('gives the bytes it gives without one for other code: a difference late, early, or a shorter output', () => {
    const cases = [
      module(m.z('y')), // differs near the end
      m.bytes(m.code(11, { filename: m.z('/abs/venv-a/m.py', R), consts: m.tuple([m.z('another string')]) })), // differs early
      m.bytes(m.code(11, { filename: m.z('/abs/venv-a/m.py', R), consts: m.tuple([m.z('a long constant string over thirty-two bytes, for range()')]) })), // shorter
    ];
    for (const input of cases) {
      const plain = canonicalizeChecked(input, v, 'pkg/m.py');
      const exp = expected(a);
      const out = canonicalizeChecked(input, v, 'pkg/m.py', 16, { expect: exp });
      expect(out).not.toBe(exp);
      expect(hex(out)).toBe(hex(plain));
      expect(out.byteOffset).toBeGreaterThanOrEqual(16); // the room in front is kept
      expect(hex(exp)).toBe(hex(a)); // the expected bytes are untouched
    }
  });

  it('makes the body in the room it is given', () => {
    const rooms: Uint8Array[] = [];
    const out = canonicalizeChecked(module(m.z('x')), v, 'pkg/m.py', 16, { room: (n) => rooms[rooms.push(new Uint8Array(new SharedArrayBuffer(n))) - 1]! });
    expect(rooms).toHaveLength(1);
    expect(out.buffer).toBe(rooms[0]!.buffer);
    expect(hex(out)).toBe(hex(a));
  });
});
