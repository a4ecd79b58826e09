/** The skip list and the exclude globs (picomatch on absolute paths, ~/ expanded). */
import { describe, expect, it } from 'vitest';
import { compileExcludes, makeDirFilter, SKIP_NAMES } from '../../src/discover/index.js';
import { linux, mac, win } from './helpers.js';

describe('exclude globs', () => {
  it('match absolute paths; ~/ is the home; a bare name matches at any depth; dir/** covers dir', () => {
    const ex = compileExcludes(['~/big/**', 'scratch', '/abs/*/tmp'], linux());
    expect(ex('/home/u/big')).toBe(true);
    expect(ex('/home/u/big/x/y')).toBe(true);
    expect(ex('/home/u/bigger')).toBe(false);
    expect(ex('/home/u/p/scratch')).toBe(true);
    expect(ex('/home/u/p/scratchpad')).toBe(false);
    expect(ex('/abs/q/tmp')).toBe(true);
    expect(ex('/abs/q/r/tmp')).toBe(false);
    expect(compileExcludes(['**/.hidden/**'], linux())('/home/u/.hidden/x')).toBe(true);
  });
  it('Windows: backslash paths, forward or backslash globs, case-insensitive', () => {
    const ex = compileExcludes(['~\\Big\\**', 'C:/Work/tmp/**'], win());
    expect(ex('C:\\Users\\u\\big\\x')).toBe(true);
    expect(ex('c:\\work\\TMP\\y')).toBe(true);
    expect(ex('C:\\Users\\u\\other')).toBe(false);
  });
});

describe('dir filter', () => {
  it('never enters VCS folders, node_modules, caches, package folders; accepts what no glob excludes', () => {
    const f = makeDirFilter(linux(), { excludes: ['**/private/**'] });
    for (const n of ['.git', '.hg', '.svn', 'node_modules', '__pycache__', 'site-packages', '.mypy_cache']) {
      expect(SKIP_NAMES.has(n)).toBe(true);
      expect(f.descend(`/home/u/p/${n}`)).toBe(false);
    }
    expect(f.descend('/home/u/p/src')).toBe(true);
    expect(f.descend('/home/u/p/.tox')).toBe(true);
    expect(f.descend('/home/u/p/private')).toBe(false);
    expect(f.accept('/home/u/p/private/.venv')).toBe(false);
    expect(f.accept('/home/u/p/.venv')).toBe(true);
  });
  it('skips the home caches (the locators reach the envs in them) and the given locator places', () => {
    const f = makeDirFilter(linux({ XDG_CACHE_HOME: '/home/u/.xcache' }), { skipDirs: ['/home/u/.pyenv/versions'] });
    expect(f.descend('/home/u/.cache')).toBe(false);
    expect(f.descend('/home/u/.xcache')).toBe(false);
    expect(f.descend('/home/u/.pyenv/versions')).toBe(false);
    expect(f.descend('/home/u/.pyenv')).toBe(true);
    expect(makeDirFilter(mac()).descend('/Users/u/Library/Caches')).toBe(false);
    expect(makeDirFilter(win()).descend('C:\\Users\\u\\AppData\\Local\\Temp')).toBe(false);
  });
});
