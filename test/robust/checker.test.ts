/**
 * The independent checker (scripts/check-venv-equivalence.py) must catch what it is there for:
 * a pyc gone, a pyc that loads other code, a header CPython would reject, a stale or sourceless
 * pyc or a source that changed. And it must pass a tree pycstore deduplicated.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { pythonEnv } from '../helpers/interpreters.js';
import { checker, makePkgTree, pycOf } from './helpers.js';

let work: string;
let template: string;
let n = 0;

/** A fresh copy of the template tree and a snapshot of it; returns the tree and its package dir. */
function fresh(): { tree: string; pkg: string; snap: string } {
  const tree = path.join(work, `t${++n}`);
  execFileSync('cp', ['-a', template, tree]);
  const snap = path.join(work, `snap${n}.json`);
  const r = checker('python3', ['snapshot', snap, tree]);
  expect(r.code, r.stderr).toBe(0);
  return { tree, pkg: path.join(tree, 'lib', 'python3.11', 'site-packages', 'pkg'), snap };
}

const compare = (snap: string, tree: string, ...extra: string[]) => checker('python3', ['compare', snap, ...extra, tree]);
const kinds = (r: ReturnType<typeof compare>) => (r.json?.problems ?? []).map((p) => `${p.kind}:${path.basename(p.path)}`).sort();

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'pycstore-checker-'));
  template = path.join(work, 'template');
  makePkgTree(template);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('check-venv-equivalence.py', () => {
  it('passes an untouched tree and a tree pycstore deduplicated (code equal, headers fresh)', async () => {
    const a = fresh();
    expect(compare(a.snap, a.tree).code).toBe(0);
    const b = fresh();
    const store = path.join(work, 'store');
    expect((await runCli(['--store', store, 'dedup', a.tree, b.tree])).code).toBe(0);
    const r = compare(b.snap, b.tree);
    expect(r.code, JSON.stringify(r.json)).toBe(0);
    expect(r.json?.counts?.['equivalent']).toBe(3);
  });

  it('reports a missing pyc (unless allowed), a pyc of other code, a stale header and a changed source', () => {
    const t = fresh();
    unlinkSync(pycOf(t.pkg, '__init__'));
    // other code under a header that is fresh for the real source
    const code = `import py_compile, os, sys, tempfile
src = open(sys.argv[1]).read() + "\\nEXTRA = 1\\n"
d = tempfile.mkdtemp(); p = os.path.join(d, "a.py"); open(p, "w").write(src)
st = os.stat(sys.argv[1]); os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
data = bytearray(open(py_compile.compile(p, cfile=os.path.join(d, "a.pyc"), doraise=True), "rb").read())
data[12:16] = st.st_size.to_bytes(4, "little"); open(sys.argv[2], "wb").write(data)`;
    execFileSync('python3', ['-c', code, path.join(t.pkg, 'a.py'), pycOf(t.pkg, 'a')], { env: pythonEnv() });
    const b = readFileSync(pycOf(t.pkg, 'b'));
    b[8]! ^= 1; // the source mtime in the header
    writeFileSync(pycOf(t.pkg, 'b'), b);
    const r = compare(t.snap, t.tree);
    expect(r.code).toBe(1);
    expect(kinds(r)).toEqual(['different:a.cpython-311.pyc', 'missing:__init__.cpython-311.pyc', 'stale:b.cpython-311.pyc']);
    const allowed = compare(t.snap, t.tree, '--allow-missing', pycOf(t.pkg, '__init__'), '--ignore', pycOf(t.pkg, 'a'), '--ignore', pycOf(t.pkg, 'b'));
    expect(allowed.code, JSON.stringify(allowed.json)).toBe(0);

    const s = fresh();
    appendFileSync(path.join(s.pkg, 'b.py'), '# edited\n');
    expect(kinds(compare(s.snap, s.tree))).toEqual(['changed:b.py', 'stale:b.cpython-311.pyc']);
  });

  it('wants pycs that were not fresh byte-for-byte unchanged, and judges new pycs against their source', () => {
    const t = fresh();
    const stale = readFileSync(pycOf(t.pkg, 'b'));
    stale[8]! ^= 1;
    writeFileSync(pycOf(t.pkg, 'b'), stale);
    const snap2 = path.join(work, 'snap-stale.json');
    expect(checker('python3', ['snapshot', snap2, t.tree]).code).toBe(0);
    stale[20]! ^= 0xff; // still stale, other bytes
    writeFileSync(pycOf(t.pkg, 'b'), stale);
    writeFileSync(path.join(t.pkg, 'c.py'), 'X = 1\n');
    writeFileSync(pycOf(t.pkg, 'c'), readFileSync(pycOf(t.pkg, 'a'))); // a pyc of other code for c.py
    writeFileSync(path.join(t.pkg, '__pycache__', '.pycstore-1-000000000000.tmp'), 'x');
    const r = compare(snap2, t.tree);
    expect(kinds(r)).toEqual(['changed:b.cpython-311.pyc', 'new-bad:c.cpython-311.pyc', 'new:.pycstore-1-000000000000.tmp', 'new:c.py']);
    expect(kinds(compare(snap2, t.tree, '--allow-new'))).toEqual(['changed:b.cpython-311.pyc', 'new-bad:c.cpython-311.pyc']);
  });

  it('imports: each top-level module of a site-packages in a fresh interpreter; a broken one is reported', () => {
    const t = fresh();
    const site = path.dirname(t.pkg);
    writeFileSync(path.join(site, 'broken.py'), 'raise RuntimeError("nope")\n');
    const r = checker('python3', ['imports', site]);
    expect(r.code).toBe(1);
    expect(r.json?.problems).toEqual([{ module: 'broken', error: 'RuntimeError: nope' }]);
    expect(checker('python3', ['imports', site, '--module', 'pkg']).code).toBe(0);
  });
});
