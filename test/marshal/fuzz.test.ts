/**
 * Garbage in: real pycs of every interpreter, truncated and with bytes flipped (seeded,
 * so failures reproduce). Every truncation must be refused with EMARSHAL. A flipped
 * stream may still be valid; then whatever canonicalize returns must pass checkCanonical
 * and be idempotent; otherwise the error must be a PycstoreError (EMARSHAL, or ECANON
 * from canonicalize) — never another exception, never a hang.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PycstoreError } from '../../src/errors.js';
import { canonicalize, checkCanonical, parseMarshal } from '../../src/marshal/index.js';
import { parseHeader } from '../../src/pyc/header.js';
import type { PyVersionInfo } from '../../src/pyc/magic.js';
import { findInterpreters, announceMissing, missingVersions } from '../helpers/interpreters.js';
import { relSourceName, stdlibPycs } from './helpers/stdlib.js';
import * as m from './helpers/stream.js';

const SAMPLES = ['_markupbase', 'json/decoder', 'fnmatch', 'colorsys', 'string/__init__', 'string'];

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function codeOf(err: unknown): string {
  if (err instanceof PycstoreError) return err.code;
  return `not a PycstoreError: ${String(err)}`;
}

/** Run canonicalize on a possibly broken body; returns the outcome, asserting the contract. */
function attempt(body: Uint8Array, v: PyVersionInfo, rel: string): 'ok' | 'EMARSHAL' | 'ECANON' {
  let canon: Uint8Array;
  try {
    canon = canonicalize(body, v, rel);
  } catch (err) {
    const c = codeOf(err);
    expect(['EMARSHAL', 'ECANON']).toContain(c);
    return c as 'EMARSHAL' | 'ECANON';
  }
  checkCanonical(body, canon, v, rel);
  expect(Buffer.from(canonicalize(canon, v, rel)).equals(Buffer.from(canon))).toBe(true);
  return 'ok';
}

const found = findInterpreters();
announceMissing('marshal fuzz', found);

describe('truncated and corrupted pycs', () => {
  for (const py of found) {
    it(`Python ${py.version}`, () => {
      const std = stdlibPycs(py);
      const picks = std.pycs.filter((p) => !p.includes('.opt-') && SAMPLES.includes(relSourceName(std.libDir, p).replace(/\.py$/, '')));
      expect(picks.length).toBeGreaterThanOrEqual(3);
      const random = rng(0x5eed + py.minor);
      const tally = { truncations: 0, flips: 0, ok: 0, EMARSHAL: 0, ECANON: 0 };
      const t0 = performance.now();
      for (const pyc of picks) {
        const data = readFileSync(pyc);
        const header = parseHeader(data);
        if (typeof header === 'string') throw new Error(`${pyc}: ${header}`);
        const v = header.version;
        const body = new Uint8Array(data.subarray(16));
        const rel = relSourceName(std.libDir, pyc);

        // Every cut of a stream must be refused: the root object is never complete.
        const cuts = new Set<number>([0, 1, body.length - 1]);
        while (cuts.size < 120) cuts.add(Math.floor(random() * body.length));
        for (const cut of cuts) {
          tally.truncations++;
          const part = body.slice(0, cut);
          let code = 'parsed';
          try {
            parseMarshal(part, v);
          } catch (err) {
            code = codeOf(err);
          }
          expect(code, `${rel} cut at ${cut}`).toBe('EMARSHAL');
        }

        // Flip 1, 2 or 8 random bytes to random values.
        for (let n = 0; n < 240; n++) {
          tally.flips++;
          const bad = body.slice();
          const count = n % 3 === 0 ? 8 : n % 3; // 8, 1 or 2 bytes
          for (let k = 0; k < count; k++) bad[Math.floor(random() * bad.length)] = Math.floor(random() * 256);
          tally[attempt(bad, v, rel)]++;
        }
      }
      console.log(
        `marshal fuzz ${py.version}: ${picks.length} pycs, ${tally.truncations} truncations refused, ${tally.flips} corruptions: ` +
          `${tally.ok} still valid (and canonicalized, checked), ${tally.EMARSHAL} EMARSHAL, ${tally.ECANON} ECANON, ${Math.round(performance.now() - t0)} ms`,
      );
    }, 120_000); // a hang guard, not a speed check (speed: npm run bench:marshal)
  }
});

describe('pathological but valid streams', () => {
  /** t0 = (None,), t(k+1) = (tk, tk) through a ref: 2^levels paths, levels + 1 objects. */
  function dag(levels: number, firstSlot: number): number[] {
    if (levels === 0) return m.tuple([m.NONE], m.REF);
    return m.tuple([dag(levels - 1, firstSlot + 1), m.ref(firstSlot + 1)], m.REF);
  }

  // 2^40 paths: anything that walked paths instead of nodes would never finish (the timeout is a hang
  // guard, not a speed check; how fast it is: npm run bench:marshal, test/marshal/pathological.bench.ts).
  it('a DAG with 2^40 paths canonicalizes and checks, sharing kept (linear in its nodes)', { timeout: 60_000 }, () => {
    const body = m.bytes(m.code(11, { consts: m.tuple([dag(40, 0)]) }));
    const canon = canonicalize(body, m.v(11), 'm.py');
    checkCanonical(body, canon, m.v(11), 'm.py');
    expect(parseMarshal(canon, m.v(11)).nodeCount).toBeLessThan(60);
  });

  it('the same DAG as a set element is refused by the check (ECANON)', { timeout: 60_000 }, () => {
    const body = m.bytes(m.code(11, { consts: m.tuple([m.frozenset([dag(40, 0), m.int(1)])]) }));
    const canon = canonicalize(body, m.v(11), 'm.py');
    expect(() => checkCanonical(body, canon, m.v(11), 'm.py')).toThrow(expect.objectContaining({ code: 'ECANON' }));
  });
});
