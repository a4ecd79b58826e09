/** audit's pure parts: the figures from stat records, and the grouping of anomalies. */
import { describe, expect, it } from 'vitest';
import { groupAnomalies } from '../../src/audit/anomalies.js';
import { computeFigures, shareFromGroups, sharers, type PycRecord } from '../../src/audit/figures.js';

const hard = (rootIndex: number, allocated: number, nlink: number): PycRecord => ({ rootIndex, size: allocated - 100, allocated, nlink, linked: 'hardlink' });

describe('figures', () => {
  it('k is nlink − 1 for a hard link, the live ledger links for a reflink, 1 when not linked', () => {
    expect(sharers(hard(0, 4096, 4))).toBe(3);
    expect(sharers(hard(0, 4096, 1))).toBe(1); // the store's name is gone: nothing shared
    expect(sharers({ rootIndex: 0, size: 1, allocated: 4096, nlink: 1, linked: 'reflink', reflinkSharers: 5 })).toBe(5);
    expect(sharers({ rootIndex: 0, size: 1, allocated: 4096, nlink: 7, linked: null })).toBe(1);
  });

  it('one object linked from three roots saves (k − 1) × allocated in total, as status counts it', () => {
    // 3 paths, one per root, of one object with 4 names (store + 3): each root saves 2/3 of 4096.
    const { roots, totals } = computeFigures(['a', 'b', 'c'], [hard(0, 4096, 4), hard(1, 4096, 4), hard(2, 4096, 4)]);
    expect(roots.map((r) => r.bytesSaved)).toEqual([2730, 2730, 2730]); // ⌊8192/3⌋ each
    expect(totals.bytesSaved).toBe(8190); // status: (3 − 1) × 4096 = 8192, less < 1 byte per root
    expect(totals).toMatchObject({ pycs: 3, linked: 3, allocatedBytes: 3 * 4096, apparentBytes: 3 * 3996 });
  });

  it('rounds down the exact sum per root, not each path', () => {
    // Three objects of k = 3 in one root: 3 × 4096 × 2/3 = 8192 exactly.
    const { roots } = computeFigures(['a'], [hard(0, 4096, 4), hard(0, 4096, 4), hard(0, 4096, 4)]);
    expect(roots[0]!.bytesSaved).toBe(8192);
    expect(shareFromGroups(new Map([[3, 4096], [6, 512], [1, 999]]))).toBe(Math.ceil(4096 / 3 + 512 / 6 + 999));
  });

  it('credits each linked pyc with the blocks its replacement freed (the ledger\'s freed), less its share of the object', () => {
    // The originals took 8192 bytes each; their canonical object takes 4096 and has 3 names besides the store's.
    const { roots } = computeFigures(['a'], [0, 1, 2].map(() => ({ ...hard(0, 4096, 4), freed: 8192 })));
    expect(roots[0]!.bytesSaved).toBe(3 * 8192 - 4096);
    // A freed of 0 (the first name of a `cp -al` pair) saves nothing and still pays its share.
    const pair = computeFigures(['a'], [{ ...hard(0, 4096, 3), freed: 0 }, { ...hard(0, 4096, 3), freed: 4096 }]);
    expect(pair.roots[0]!.bytesSaved).toBe(0);
  });

  it('counts unlinked pycs in pycs and bytes but not in linked or saved', () => {
    const { roots, totals } = computeFigures(['a', 'b'], [
      { rootIndex: 0, size: 10, allocated: 4096, nlink: 2, linked: null },
      hard(1, 8192, 3),
    ]);
    expect(roots[0]).toEqual({ path: 'a', pycs: 1, linked: 0, linkedElsewhere: 0, apparentBytes: 10, allocatedBytes: 4096, bytesSaved: 0 });
    expect(roots[1]).toMatchObject({ pycs: 1, linked: 1, bytesSaved: 4096 });
    expect(totals).toEqual({ pycs: 2, linked: 1, linkedElsewhere: 0, apparentBytes: 10 + 8092, allocatedBytes: 4096 + 8192, bytesSaved: 4096 });
  });

  it('counts linked-elsewhere pycs (not store objects, names outside the roots) per root', () => {
    const { roots, totals } = computeFigures(['a', 'b'], [
      { rootIndex: 0, size: 10, allocated: 4096, nlink: 2, linked: null, linkedElsewhere: true },
      { rootIndex: 0, size: 10, allocated: 4096, nlink: 1, linked: null, linkedElsewhere: false },
      { ...hard(1, 8192, 3), linkedElsewhere: true }, // a store object is never "elsewhere"
    ]);
    expect(roots.map((r) => r.linkedElsewhere)).toEqual([1, 0]);
    expect(totals).toMatchObject({ pycs: 3, linked: 1, linkedElsewhere: 1 });
  });
});

describe('anomalies', () => {
  it('groups by kind in a fixed order, each with sorted unique paths, its count and its fix', () => {
    const g = groupAnomalies([
      { kind: 'replaced', path: '/b' },
      { kind: 'corrupt-object', path: '/s/o' },
      { kind: 'replaced', path: '/a' },
      { kind: 'replaced', path: '/b' },
    ]);
    expect(g).toEqual([
      { kind: 'corrupt-object', count: 1, paths: ['/s/o'], fix: 'pycstore verify --repair' },
      { kind: 'replaced', count: 2, paths: ['/a', '/b'], fix: 'pycstore dedup' },
    ]);
  });
});
