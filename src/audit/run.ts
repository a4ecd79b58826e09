/**
 * `audit` as a library call, read-only: the store is opened with
 * openStoreReadOnly (no lock, nothing written, the ledger read from an
 * in-memory copy when nobody else has it open).
 *
 *   roots → scan (dedup's scanner) → lstat each pyc → is it a store object? →
 *   figures (pure, figures.ts) + anomalies (anomalies.ts)
 *
 * Anomalies come from three places: the pycs themselves (replaced,
 * foreign-inode, quarantined-inode), the ledger's links under the roots whose
 * file is gone (missing-file) or was replaced, and the store objects
 * (corrupt-object, writable-object, missing-object). Objects are checked
 * cheaply by default, re-hashing only those whose inode or times moved since
 * they were recorded (as verify does), all of them with `full`. Which objects:
 * with no PATH (every registered root), all objects in the ledger; with PATHs,
 * the objects linked from those trees.
 */
import { existsSync, statSync, type BigIntStats } from 'node:fs';
import path from 'node:path';
import { progressOf, type Output } from '../util/output.js';
import { errnoCode, usageError } from '../errors.js';
import { allocatedBytes, fingerprintOf } from '../fs/fingerprint.js';
import { linkedElsewhere } from '../fs/linked-elsewhere.js';
import { initHash } from '../hash/xxhash.js';
import { listDir } from '../fs/list.js';
import { tryLstat } from '../fs/stat.js';
import type { Ledger } from '../ledger/ledger.js';
import { recordedFingerprint, type ObjectRow } from '../ledger/rows.js';
import { prefixMirror } from '../pyc/names.js';
import { scanRoots, type FoundPyc, type ScanRoot } from '../python/scan.js';
import { objectPath, quarantineDir } from '../store/location.js';
import { openStoreReadOnly, type OpenStore } from '../session/open.js';
import { usableStoreRoots } from '../session/roots.js';
import { formatCount } from '../util/format.js';
import { checkObject } from '../store/check.js';
import { groupAnomalies, type Anomaly, type AnomalyKind } from './anomalies.js';
import { computeFigures, type Figures, type PycRecord, type RootFigures } from './figures.js';
import { linkState, stillLinked } from './link-state.js';

export interface AuditOptions {
  readonly storeDir: string;
  /** Directories to audit; none: the roots registered in the ledger. */
  readonly paths: readonly string[];
  /** Re-hash every object checked, not only those whose times moved. */
  readonly full?: boolean;
  /** Check the store objects (step 4; default true). `pycstore envs` wants the figures only. */
  readonly checkObjects?: boolean;
  /** Folders the scanner may enter (python/scan.ts): the exclude globs of the run. */
  readonly descend?: (dir: string) => boolean;
  readonly out: Output;
}

export interface AuditReport {
  store: string;
  /** Is there a store (a ledger) yet? Without one nothing is linked. */
  exists: boolean;
  full: boolean;
  roots: RootFigures[];
  totals: Figures;
  anomalies: Anomaly[];
  /** Store objects looked at, and how many of them were re-hashed. */
  objects: { checked: number; rehashed: number; bytesHashed: number };
  durationMs: number;
}

interface Found {
  kind: AnomalyKind;
  path: string;
}

function resolveRoots(paths: readonly string[], ledger: Ledger | undefined): ScanRoot[] {
  const registered = ledger?.roots() ?? [];
  if (paths.length === 0) {
    if (registered.length === 0) {
      throw usageError('no PATH given and no roots registered yet', 'name the trees to audit, or deduplicate some first: pycstore dedup ~/.venvs');
    }
    return registered.map((r) => ({ path: r.path, pycachePrefix: r.pycache_prefix }));
  }
  const prefixOf = new Map(registered.map((r) => [r.path, r.pycache_prefix]));
  return paths.map((p) => {
    const abs = path.resolve(p);
    let isDir = false;
    try {
      isDir = statSync(abs).isDirectory();
    } catch {
      throw usageError(`${p}: no such file or directory`, 'give the path of a venv or of a folder holding venvs');
    }
    if (!isDir) throw usageError(`${p}: not a directory`, 'audit takes directories, or pyc files (not both)');
    return { path: abs, pycachePrefix: prefixOf.get(abs) ?? null };
  });
}

/** lstat that reports "can't tell" (EACCES, EIO, …) as an error instead of throwing; undefined when gone. */
function lstatOr(p: string, onError: (p: string, err: unknown) => void): BigIntStats | undefined | null {
  try {
    return tryLstat(p);
  } catch (err) {
    onError(p, err);
    return null;
  }
}

/** Inodes of the objects verify --repair moved to quarantine, in every store root. */
function quarantinedInodes(rootPaths: readonly string[], warn: (m: string) => void): Set<string> {
  const out = new Set<string>();
  for (const r of rootPaths) {
    const dir = quarantineDir(r);
    for (const e of listDir(dir, (err) => warn(`${err.path}: cannot list it (${err.code}); quarantined inodes there are not recognised`))) {
      const st = tryLstat(path.join(dir, e.name));
      if (st?.isFile()) out.add(`${st.dev}:${st.ino}`);
    }
  }
  return out;
}

/** One audited pyc: its figures' record, and the object it is (when it is one). */
interface Entry {
  record: { -readonly [K in keyof PycRecord]: PycRecord[K] };
  object: ObjectRow | undefined;
}

/** What one audit run shares between its steps. */
interface Audit {
  readonly out: Output;
  readonly descend: ((dir: string) => boolean) | undefined;
  readonly ledger: Ledger | undefined;
  readonly found: Found[];
  readonly unreadable: (p: string, err: unknown) => void;
  readonly entries: Map<string, Entry>;
  /** Objects the audited pycs are (by id). */
  readonly linkedObjects: Map<number, ObjectRow>;
}

export async function runAudit(opts: AuditOptions): Promise<AuditReport> {
  const started = Date.now();
  const out = opts.out;
  const full = opts.full ?? false;
  await initHash();
  const store: OpenStore | undefined = openStoreReadOnly(opts.storeDir);
  try {
    const ledger = store?.ledger;
    const roots = resolveRoots(opts.paths, ledger);
    const storeRoots = ledger ? usableStoreRoots(ledger, opts.storeDir, (root, why) => out.warn(`store root ${root}: ${why}; its objects are not checked`)) : [];
    const a: Audit = {
      out,
      descend: opts.descend,
      ledger,
      found: [],
      unreadable: (p, err) => out.warn(`${p}: cannot stat (${errnoCode(err) ?? String(err)}); left out`),
      entries: new Map(),
      linkedObjects: new Map(),
    };
    recordPycs(a, roots, quarantinedInodes(storeRoots.map((r) => r.path), (m) => out.warn(m)));
    countReflinkSharers(a);
    const objectsOfRoots = judgeLedgerLinks(a, roots);
    const rows = !ledger || opts.checkObjects === false ? [] : opts.paths.length === 0 ? ledger.objects() : objectsOf(a, objectsOfRoots);
    const objects = checkObjects(a, rows, new Map(storeRoots.map((r) => [r.id, r.path])), full);
    const figures = computeFigures(
      roots.map((r) => r.path),
      [...a.entries.values()].map((e) => e.record),
    );
    return {
      store: opts.storeDir,
      exists: store !== undefined,
      full,
      roots: figures.roots,
      totals: figures.totals,
      anomalies: groupAnomalies(a.found),
      objects,
      durationMs: Date.now() - started,
    };
  } finally {
    out.done();
    store?.close();
  }
}

/** 1. The pycs, as dedup's scanner finds them: each one's record, and the anomalies a pyc alone shows. */
function recordPycs(a: Audit, roots: readonly ScanRoot[], quarantined: ReadonlySet<string>): void {
  for (const r of roots) if (!existsSync(r.path)) a.out.warn(`root ${r.path} no longer exists`);
  const scanning = progressOf(a.out, 'scanning', 'folders');
  // linked-elsewhere: every name of a multi-link inode in the run counted, then each such pyc judged.
  const names = new Map<string, number>();
  const multi: { readonly record: Entry['record']; readonly inode: string }[] = [];
  const scan = scanRoots(
    roots,
    (d) =>
      d.pycs.forEach((cand) => {
        const m = recordPyc(a, cand, quarantined);
        if (m) {
          names.set(m.inode, (names.get(m.inode) ?? 0) + 1);
          if (m.record.linked === null) multi.push(m);
        }
      }),
    { onProgress: (files, dirs) => scanning.update(dirs, `${formatCount(files)} pycs`), descend: a.descend },
  );
  for (const m of multi) m.record.linkedElsewhere = linkedElsewhere({ nlink: m.record.nlink, namesInRun: names.get(m.inode) ?? 1, isStoreObject: false });
  for (const e of scan.errors) a.out.warn(`${e.path}: ${e.reason}`);
}

/** One pyc's record and anomalies; for a pyc with other names, its record and inode ("dev:ino"). */
function recordPyc(a: Audit, cand: FoundPyc, quarantined: ReadonlySet<string>): { record: Entry['record']; inode: string } | undefined {
  const st = lstatOr(cand.path, a.unreadable);
  if (!st || !st.isFile()) return undefined; // gone since the scan, or unreadable
  const fp = fingerprintOf(st);
  const nlink = Number(st.nlink);
  const s = linkState(cand.path, fp, a.ledger);
  const allocated = allocatedBytes(st);
  const record: Entry['record'] = { rootIndex: cand.rootIndex, size: fp.size, allocated, nlink, linked: s.linked ? s.kind : null };
  if (s.linked) record.freed = s.link?.freed ?? allocated;
  a.entries.set(cand.path, { record, object: s.linked ? s.object : undefined });
  const multi = nlink > 1 ? { record, inode: `${fp.dev}:${fp.ino}` } : undefined;
  if (s.linked) {
    a.linkedObjects.set(s.object.id, s.object);
    return multi;
  }
  if (quarantined.has(`${fp.dev}:${fp.ino}`)) a.found.push({ kind: 'quarantined-inode', path: cand.path });
  else if (nlink > 1) a.found.push({ kind: 'foreign-inode', path: cand.path });
  if (s.link) a.found.push({ kind: 'replaced', path: cand.path });
  return multi;
}

/** 2. Reflinks: k = the live ledger links of their object. */
function countReflinkSharers(a: Audit): void {
  const ledger = a.ledger;
  if (!ledger) return;
  const live = new Map<number, number>();
  for (const e of a.entries.values()) {
    if (e.record.linked !== 'reflink' || !e.object) continue;
    let k = live.get(e.object.id);
    if (k === undefined) {
      k = 0;
      for (const l of ledger.linksOfObject(e.object.id)) {
        const p = ledger.filePath(l.dir_id, l.name);
        const known = a.entries.get(p);
        if (known) {
          if (known.object?.id === e.object.id) k++;
          continue;
        }
        const st = lstatOr(p, a.unreadable);
        if (st?.isFile() && stillLinked(l, e.object, fingerprintOf(st))) k++;
      }
      live.set(e.object.id, k);
    }
    e.record.reflinkSharers = k;
  }
}

/** 3. Ledger links under the roots that the scan did not find as pycs: gone, or replaced. Returns the objects they link to. */
function judgeLedgerLinks(a: Audit, roots: readonly ScanRoot[]): Set<number> {
  const objectsOfRoots = new Set<number>();
  const ledger = a.ledger;
  if (!ledger) return objectsOfRoots;
  const dirs = roots.flatMap((r) => [r.path, ...(r.pycachePrefix ? [prefixMirror(r.pycachePrefix, r.path)] : [])]);
  const seenLinks = new Set<number>();
  for (const dir of dirs) {
    for (const l of ledger.linksUnder(dir)) {
      if (seenLinks.has(l.id)) continue;
      seenLinks.add(l.id);
      objectsOfRoots.add(l.object_id);
      const p = ledger.filePath(l.dir_id, l.name);
      if (a.entries.has(p)) continue; // judged above
      const st = lstatOr(p, a.unreadable);
      if (st === null) continue; // can't tell
      if (!st) a.found.push({ kind: 'missing-file', path: p });
      else if (!st.isFile() || !stillLinked(l, ledger.objectById(l.object_id), fingerprintOf(st))) a.found.push({ kind: 'replaced', path: p });
    }
  }
  return objectsOfRoots;
}

/** With PATHs: the objects the trees link to (their pycs', and their ledger links'). */
function objectsOf(a: Audit, objectsOfRoots: ReadonlySet<number>): ObjectRow[] {
  for (const id of objectsOfRoots) {
    const o = a.linkedObjects.has(id) ? undefined : a.ledger?.objectById(id);
    if (o) a.linkedObjects.set(id, o);
  }
  return [...a.linkedObjects.values()].sort((x, y) => x.id - y.id);
}

/** 4. Store objects of usable store roots: there, a regular file, read-only, and (when their times moved, or `full`) their content. */
function checkObjects(a: Audit, rows: readonly ObjectRow[], storeRootPath: ReadonlyMap<number, string>, full: boolean): AuditReport['objects'] {
  const objects = { checked: 0, rehashed: 0, bytesHashed: 0 };
  const checking = progressOf(a.out, 'checking objects', 'objects', rows.length);
  for (const row of rows) {
    const rootPath = storeRootPath.get(row.root_id);
    if (rootPath === undefined) continue;
    objects.checked++;
    checking.update(objects.checked);
    const file = objectPath(rootPath, row, row.replica);
    const c = checkObject(row, recordedFingerprint(row), file, full);
    if (c.state === 'ok' || c.state === 'corrupt') {
      objects.rehashed++;
      objects.bytesHashed += c.bytes;
    }
    if (c.state === 'unreadable') a.out.warn(`${file}: ${c.reason}; not checked`);
    else if (c.state === 'missing') a.found.push({ kind: 'missing-object', path: file });
    else if (c.state === 'not-file' || c.state === 'corrupt') a.found.push({ kind: 'corrupt-object', path: file });
    if ((c.state === 'ok' || c.state === 'unchanged' || c.state === 'corrupt') && c.writable) a.found.push({ kind: 'writable-object', path: file });
  }
  return objects;
}
