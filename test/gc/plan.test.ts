/** gc's plan, pure: rows + observations in, decisions out. No disk. */
import { describe, expect, it } from 'vitest';
import type { Fingerprint } from '../../src/fs/fingerprint.js';
import type { FileState } from '../../src/fs/stat.js';
import { judgeLink, planGc, type GcInput, type ObservedLink, type ObservedObject } from '../../src/gc/plan.js';
import type { LinkRow, ObjectRow, RootRow } from '../../src/ledger/rows.js';

const HOUR = 3_600_000;
const NOW = 1_800_000_000_000;

function fp(ino: string, extra: Partial<Fingerprint> = {}): Fingerprint {
  return { dev: '2049', ino, size: 100, mtimeNs: '1000', ctimeNs: '2000', ...extra };
}

function present(f: Fingerprint, opts: { nlink?: number; allocated?: number; mtimeMs?: number; isFile?: boolean } = {}): FileState {
  return { kind: 'present', fp: f, isFile: opts.isFile ?? true, nlink: opts.nlink ?? 1, allocated: opts.allocated ?? 4096, mtimeMs: opts.mtimeMs ?? NOW - 2 * HOUR };
}

function objectRow(id: number, ino: string, usedAgo = 2 * HOUR): ObjectRow {
  return {
    id,
    hash: id.toString(16).padStart(16, '0'),
    size: 100,
    replica: 0,
    root_id: 1,
    dev: '2049',
    ino,
    mtime_ns: '1000',
    ctime_ns: '2000',
    allocated: 4096,
    magic: 3495,
    invalidation: 'checked-hash',
    body_hash: null,
    created_at: NOW - 3 * HOUR,
    used_at: NOW - usedAgo,
  };
}

function obj(id: number, ino: string, o: { usedAgo?: number; file?: FileState; reachable?: boolean } = {}): ObservedObject {
  return { row: objectRow(id, ino, o.usedAgo), path: `/store/objects-v1/00/${id}`, reachable: o.reachable ?? true, file: o.file ?? present(fp(ino)) };
}

let linkIds = 0;
function link(objectId: number, kind: 'hardlink' | 'reflink', recorded: Fingerprint, file: FileState, contentEqual?: boolean): ObservedLink {
  const id = ++linkIds;
  const row: LinkRow = {
    id,
    dir_id: 2,
    name: `f${id}.pyc`,
    object_id: objectId,
    root_id: 1,
    kind,
    dev: recorded.dev,
    ino: recorded.ino,
    size: recorded.size,
    mtime_ns: recorded.mtimeNs,
    ctime_ns: recorded.ctimeNs,
    linked_at: NOW - 3 * HOUR,
    freed: null,
    header: null,
  };
  return { row, path: `/venv/f${id}.pyc`, file, contentEqual };
}

function input(parts: Partial<GcInput>): GcInput {
  return { now: NOW, graceMs: HOUR, objects: [], links: [], roots: [], seen: [], strays: [], ...parts };
}

describe('judgeLink', () => {
  const o = obj(1, '10');
  it('a hard link is live while its path is the object inode, whatever its ctime or link count', () => {
    expect(judgeLink(link(1, 'hardlink', fp('10'), present(fp('10', { ctimeNs: '9999' }), { nlink: 1 })), o)).toEqual({ live: true });
  });
  it('a hard link whose path is another inode was replaced (CPython recompiled it)', () => {
    expect(judgeLink(link(1, 'hardlink', fp('10'), present(fp('11'))), o)).toEqual({ live: false, reason: 'replaced' });
  });
  it('a path that is gone, or a directory now, is dropped', () => {
    expect(judgeLink(link(1, 'hardlink', fp('10'), { kind: 'missing' }), o)).toEqual({ live: false, reason: 'gone' });
    expect(judgeLink(link(1, 'hardlink', fp('10'), present(fp('10'), { isFile: false })), o)).toEqual({ live: false, reason: 'replaced' });
  });
  it('a reflink with its recorded fingerprint is live without reading it', () => {
    expect(judgeLink(link(1, 'reflink', fp('20'), present(fp('20'))), o)).toEqual({ live: true });
  });
  it('a reflink whose fingerprint moved is live when its content still equals the object, and its new fingerprint is kept', () => {
    const moved = fp('20', { mtimeNs: '5555', ctimeNs: '6666' });
    expect(judgeLink(link(1, 'reflink', fp('20'), present(moved), true), o)).toEqual({ live: true, refresh: moved });
  });
  it('a reflink whose content changed is dropped: "changed" in place, "replaced" as a new inode', () => {
    expect(judgeLink(link(1, 'reflink', fp('20'), present(fp('20', { mtimeNs: '7' })), false), o)).toEqual({ live: false, reason: 'changed' });
    expect(judgeLink(link(1, 'reflink', fp('20'), present(fp('21')), false), o)).toEqual({ live: false, reason: 'replaced' });
  });
  it('what cannot be checked counts as live (unverified), never as garbage', () => {
    expect(judgeLink(link(1, 'hardlink', fp('10'), { kind: 'error', errno: 'EACCES' }), o)).toHaveProperty('unverified');
    expect(judgeLink(link(1, 'reflink', fp('20'), present(fp('20', { mtimeNs: '7' })), undefined), o)).toHaveProperty('unverified');
    expect(judgeLink(link(1, 'hardlink', fp('10'), { kind: 'missing' }), obj(1, '10', { reachable: false }))).toHaveProperty('unverified');
  });
  it('a link whose object file is gone is dropped, even when its path is still there', () => {
    expect(judgeLink(link(1, 'hardlink', fp('10'), present(fp('10'))), obj(1, '10', { file: { kind: 'missing' } }))).toEqual({
      live: false,
      reason: 'object-missing',
    });
  });
});

describe('planGc', () => {
  it('an object is live when any of its links is, garbage when none is and it is past the grace period', () => {
    const objects = [obj(1, '10'), obj(2, '20'), obj(3, '30', { usedAgo: 10 * 60_000 })];
    const links = [
      link(1, 'hardlink', fp('10'), present(fp('10'))),
      link(1, 'hardlink', fp('10'), { kind: 'missing' }),
      link(2, 'hardlink', fp('20'), present(fp('99'))),
      link(3, 'hardlink', fp('30'), { kind: 'missing' }),
    ];
    const plan = planGc(input({ objects, links }));
    expect(plan.live.map((o) => o.id)).toEqual([1]);
    expect(plan.garbage.map((g) => g.row.id)).toEqual([2]);
    expect(plan.inGrace.map((o) => o.id)).toEqual([3]); // used 10 minutes ago: kept
    expect(plan.dropLinks.map((d) => d.reason)).toEqual(['gone', 'replaced', 'gone']);
    // With no grace period, the young one goes too.
    expect(planGc(input({ objects, links, graceMs: 0 })).garbage.map((g) => g.row.id)).toEqual([2, 3]);
  });

  it('bytes freed count only when the store name is the inode\'s last', () => {
    const plan = planGc(input({ objects: [obj(1, '10', { file: present(fp('10'), { nlink: 1, allocated: 8192 }) }), obj(2, '20', { file: present(fp('20'), { nlink: 3 }) })] }));
    expect(plan.garbage.map((g) => [g.allocated, g.freed])).toEqual([
      [8192, 8192],
      [4096, 0],
    ]);
  });

  it('rows of objects whose file is gone are dropped with their links; unreachable or unstat-able objects are kept', () => {
    const objects = [
      obj(1, '10', { file: { kind: 'missing' } }),
      obj(2, '20', { reachable: false }),
      obj(3, '30', { file: { kind: 'error', errno: 'EACCES' } }),
      obj(4, '40', { file: present(fp('40'), { isFile: false }) }),
    ];
    const links = [link(1, 'hardlink', fp('10'), present(fp('10')))];
    const plan = planGc(input({ objects, links, graceMs: 0 }));
    expect(plan.missing.map((o) => o.id)).toEqual([1]);
    expect(plan.dropLinks).toHaveLength(1);
    expect(plan.dropLinks[0]!.reason).toBe('object-missing');
    expect(plan.unverifiedObjects.map((o) => o.id)).toEqual([2, 3, 4]);
    expect(plan.garbage).toEqual([]);
  });

  it('refreshes moved reflinks, drops gone roots and seen rows, and deletes only strays past the grace period', () => {
    const moved = fp('50', { mtimeNs: '42' });
    const root = (id: number): RootRow => ({ id, dir_id: id, path: `/venvs/${id}`, pycache_prefix: null, added_at: 0, scanned_at: 0 });
    const plan = planGc(
      input({
        objects: [obj(5, '5')],
        links: [link(5, 'reflink', fp('50'), present(moved), true)],
        roots: [
          { row: root(1), gone: true },
          { row: root(2), gone: false },
        ],
        seen: [
          { id: 7, path: '/a', gone: true },
          { id: 8, path: '/b', gone: false },
        ],
        strays: [
          { path: '/store/tmp-v1/old.tmp', kind: 'temp', file: present(fp('60'), { mtimeMs: NOW - 2 * HOUR }) as Extract<FileState, { kind: 'present' }> },
          { path: '/store/tmp-v1/new.tmp', kind: 'temp', file: present(fp('61'), { mtimeMs: NOW - 60_000 }) as Extract<FileState, { kind: 'present' }> },
        ],
      }),
    );
    expect(plan.live.map((o) => o.id)).toEqual([5]);
    expect(plan.refreshLinks).toEqual([{ linkId: expect.any(Number), fp: moved }]);
    expect(plan.dropRoots.map((r) => r.id)).toEqual([1]);
    expect(plan.dropSeen).toEqual([7]);
    expect(plan.strays.map((s) => s.path)).toEqual(['/store/tmp-v1/old.tmp']);
    expect(plan.straysInGrace).toBe(1);
  });
});
