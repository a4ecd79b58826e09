/**
 * The run's table keeps paths as a folder tree and interned names: every row comes back with the
 * path, source, relative name and root it was added with, and rows group by (cache tag, relative name).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCacheName } from '../../src/pyc/names.js';
import type { KnownCacheName } from '../../src/python/scan.js';
import { FolderTree } from '../../src/dedup/folders.js';
import { FileTable } from '../../src/dedup/table.js';

const pycOf = (dir: string, module: string, tag = 'cpython-311'): { path: string; name: KnownCacheName } => {
  const file = `${module}.${tag}.pyc`;
  return { path: path.join(dir, '__pycache__', file), name: parseCacheName(file) as KnownCacheName };
};

describe('FolderTree', () => {
  it('gives back every folder it was given, sharing the folders they have in common', () => {
    const t = new FolderTree();
    const dirs = ['/', '/a', '/a/b', '/a/b/a-folder-with-a-long-name', '/other/a/b', '/a/b/c/d/e/f/g/h/i/j/k', '/a/b/a-folder-with-a-long-name/__pycache__'];
    const ids = dirs.map((d) => t.id(d));
    expect(new Set(ids).size).toBe(dirs.length);
    dirs.forEach((d, i) => expect(t.path(ids[i]!)).toBe(d));
    expect(t.id('/a/b')).toBe(ids[2]);
    // Past its memory of recent lookups, a folder still has its id and path.
    for (let i = 0; i < 1000; i++) t.id(`/x/${i}/y`);
    expect(t.id('/a/b/c/d/e/f/g/h/i/j/k')).toBe(ids[5]);
    expect(t.path(t.id('/x/999/y'))).toBe('/x/999/y');
  });
});

describe('FileTable', () => {
  it('gives back each row as it was added, and groups copies of one code', () => {
    const table = new FileTable();
    const venvs = Array.from({ length: 5 }, (_, i) => `/work/venvs/venv-${i}/lib/python3.11/site-packages`);
    const added: { id: number; path: string; source: string; relName: string; rootIndex: number }[] = [];
    for (const [v, venv] of venvs.entries()) {
      for (const rel of ['pkg/__init__.py', 'pkg/sub/a_module_with_a_long_name.py', 'six.py']) {
        const dir = path.join(venv, path.dirname(rel));
        const module = path.basename(rel, '.py');
        for (const tag of ['cpython-311', 'cpython-312']) {
          const p = pycOf(dir, module, tag);
          const source = path.join(dir, `${module}.py`);
          const id = table.add({ path: p.path, source, rootIndex: v, relName: rel, name: p.name });
          added.push({ id, path: p.path, source, relName: rel, rootIndex: v });
        }
      }
    }
    expect(table.size).toBe(added.length);
    for (const a of added) {
      const s = table.subject(a.id);
      expect({ id: s.id, path: s.path, source: s.source, relName: s.relName, rootIndex: s.rootIndex }).toEqual(a);
      expect(table.kind(a.id)).toBe('pyc');
    }
    const groups = table.groups();
    expect(groups.count).toBe(6); // 3 relative names × 2 cache tags
    for (let g = 0; g < groups.count; g++) {
      const members = [...groups.members(g)].map((i) => table.subject(i));
      expect(members).toHaveLength(venvs.length);
      expect(new Set(members.map((m) => `${m.name.cacheTag} ${m.relName}`)).size).toBe(1);
    }
  });
});
