/**
 * gc's eyes: read the ledger and look at the disk, producing the plan's input.
 * Runs after the exclusive store lock is taken, so what it sees can't be
 * changed by another pycstore before the plan is carried out (ostree#2808).
 * Reads only; the one costly check (reading a reflink and its object) happens
 * only for reflinks whose fingerprint moved.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sameFingerprint } from '../fs/fingerprint.js';
import { listDir, type OnListError } from '../fs/list.js';
import { fileState } from '../fs/stat.js';
import type { Ledger } from '../ledger/ledger.js';
import { recordedFingerprint, type ObjectRow } from '../ledger/rows.js';
import { storeRootStates, type StoreRootState } from '../session/roots.js';
import { objectFileName, objectPath, objectsDir, parseObjectFileName, tmpDir } from '../store/location.js';
import { sameBytes } from '../store/objects.js';
import type { GcInput, ObservedLink, ObservedObject, ObservedStray } from './plan.js';

export interface Observation {
  readonly input: GcInput;
  readonly storeRoots: StoreRootState[];
}

/** Does the file at `p` hold exactly the bytes of the object at `objPath`? undefined when either can't be read. */
function sameContent(p: string, objPath: string, size: number): boolean | undefined {
  try {
    const a = readFileSync(p);
    if (a.length !== size) return false;
    return sameBytes(a, readFileSync(objPath));
  } catch {
    return undefined;
  }
}

export interface ObserveOptions {
  readonly ledger: Ledger;
  readonly storeDir: string;
  readonly now: number;
  readonly graceMs: number;
  readonly onProgress?: (line: string) => void;
  /** A store folder that could not be listed (its strays are not collected this time). */
  readonly onListError?: OnListError;
}

export function observe(opts: ObserveOptions): Observation {
  const { ledger } = opts;
  const storeRoots = storeRootStates(ledger, opts.storeDir);
  const rootById = new Map(storeRoots.map((r) => [r.row.id, r]));
  const list = (dir: string): string[] => listDir(dir, opts.onListError ?? (() => undefined)).map((e) => e.name);

  // Objects: is each object file still there?
  const objects: ObservedObject[] = ledger.objects().map((row) => {
    const root = rootById.get(row.root_id);
    const p = root ? objectPath(root.row.path, row, row.replica) : `(store root ${row.root_id})`;
    if (!root || !root.usable) return { row, path: p, reachable: false, file: { kind: 'missing' } };
    return { row, path: p, reachable: true, file: fileState(p) };
  });
  const objectById = new Map(objects.map((o) => [o.row.id, o]));

  // Links: is each path still its object?
  const linkRows = ledger.links();
  const links: ObservedLink[] = [];
  let n = 0;
  for (const row of linkRows) {
    if (++n % 1000 === 0) opts.onProgress?.(`gc: checking links ${n}/${linkRows.length}`);
    const p = ledger.filePath(row.dir_id, row.name);
    const file = fileState(p);
    let contentEqual: boolean | undefined;
    const obj = objectById.get(row.object_id);
    if (row.kind === 'reflink' && file.kind === 'present' && file.isFile && obj?.reachable && obj.file.kind === 'present') {
      const moved = !sameFingerprint(file.fp, recordedFingerprint(row));
      if (moved) contentEqual = file.fp.size === obj.row.size ? sameContent(p, obj.path, obj.row.size) : false;
    }
    links.push({ row, path: p, file, contentEqual });
  }

  const roots = ledger.roots().map((row) => ({ row, gone: fileState(row.path).kind === 'missing' }));
  const seen = ledger.seenRows().map((s) => {
    const p = ledger.filePath(s.dir_id, s.name);
    return { id: s.id, path: p, gone: fileState(p).kind === 'missing' };
  });

  // Files in the store the ledger doesn't know: objects written by a run that crashed before
  // recording them, and temp files of objects being written.
  const known = new Set(objects.map((o) => o.path));
  const strays: ObservedStray[] = [];
  for (const root of storeRoots) {
    if (!root.usable) continue;
    for (const shard of list(objectsDir(root.row.path))) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      const shardPath = path.join(objectsDir(root.row.path), shard);
      for (const name of list(shardPath)) {
        const parsed = parseObjectFileName(name);
        if (!parsed) continue; // not ours: left alone
        const address = objectPath(root.row.path, parsed.key, parsed.replica);
        if (path.dirname(address) !== shardPath || known.has(address)) continue; // in the wrong shard (not ours either), or recorded
        const p = path.join(shardPath, name);
        const st = fileState(p);
        if (st.kind === 'present' && st.isFile) strays.push({ path: p, kind: 'unknown-object', file: st });
      }
    }
    for (const name of list(tmpDir(root.row.path))) {
      if (!name.endsWith('.tmp')) continue;
      const p = path.join(tmpDir(root.row.path), name);
      const st = fileState(p);
      if (st.kind === 'present' && st.isFile) strays.push({ path: p, kind: 'temp', file: st });
    }
  }

  return {
    storeRoots,
    input: { now: opts.now, graceMs: opts.graceMs, objects, links, roots, seen, strays },
  };
}

/** An object's file name (its address and replica), for reports. */
export function objectName(row: ObjectRow): string {
  return objectFileName({ hash: row.hash, size: row.size }, row.replica);
}
