import { describe, expect, it } from 'vitest';
import { cacheName, parseCacheName, prefixMirror, sourceForPrefix, sourceForPycache } from '../../src/pyc/names.js';

describe('cache file names', () => {
  it('parses PEP 3147/488 names', () => {
    expect(parseCacheName('mod.cpython-311.pyc')).toMatchObject({ module: 'mod', cacheTag: 'cpython-311', optimization: 0 });
    expect(parseCacheName('mod.cpython-311.opt-1.pyc')).toMatchObject({ module: 'mod', optimization: 1 });
    expect(parseCacheName('__init__.cpython-38.opt-2.pyc')?.version?.version).toBe('3.8');
    expect(parseCacheName('x.cpython-315.pyc')?.version?.version).toBe('3.15');
  });

  it('leaves other files alone', () => {
    expect(parseCacheName('test_x.cpython-311-pytest-7.4.0.pyc')).toBeUndefined(); // pytest's rewritten pycs
    expect(parseCacheName('mod.cpython-311.pyc.140234')).toBeUndefined(); // importlib temp file
    expect(parseCacheName('mod.pyc')).toBeUndefined(); // sourceless
    expect(parseCacheName('mod.cpython-311.opt-3.pyc')).toBeUndefined();
    expect(parseCacheName('mod.cpython-37.pyc')?.version).toBeUndefined(); // unknown to pycstore
    expect(parseCacheName('mod.pypy-73.pyc')?.version).toBeUndefined();
  });

  it('maps pycs to their sources', () => {
    const n = parseCacheName('m.cpython-311.opt-1.pyc')!;
    expect(sourceForPycache('/v/lib/pkg/__pycache__/m.cpython-311.opt-1.pyc', n)).toBe('/v/lib/pkg/m.py');
    expect(cacheName('m', 'cpython-311', 1)).toBe('m.cpython-311.opt-1.pyc');
    expect(prefixMirror('/srv/cache', '/home/u/src')).toBe('/srv/cache/home/u/src');
    expect(sourceForPrefix('/srv/cache', '/srv/cache/home/u/src/pkg/m.cpython-311.pyc', n)).toBe('/home/u/src/pkg/m.py');
  });
});
