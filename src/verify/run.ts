/**
 * `verify` as a library call: re-hash store objects and, with `repair`,
 * quarantine the corrupt ones, restore lost read-only modes and forget link
 * rows whose file is gone.
 *
 * Which objects: by default those whose inode, mtime or ctime moved since the
 * ledger recorded them (see check.ts); all of them with `full`. After an object
 * is found intact and did not change while it was read, its current inode and
 * times are recorded, so the next default verify skips it.
 *
 * Lock: `repair` changes the store (moves objects, removes venv files), so it
 * takes the store's exclusive lock, like gc; a plain verify only writes the
 * recorded times into the ledger and takes the shared lock, like dedup.
 */
import { chmodSync, existsSync } from 'node:fs';
import { progressOf, type Output } from '../util/output.js';
import { errnoCode } from '../errors.js';
import { allocatedBytes, fingerprintOf } from '../fs/fingerprint.js';
import { initHash } from '../hash/xxhash.js';
import { tryLstat } from '../fs/stat.js';
import { keyString } from '../hash/key.js';
import { recordedFingerprint, type ObjectRow } from '../ledger/rows.js';
import { openStore, recordedRun, type WritableStore } from '../session/open.js';
import { usableStoreRoots } from '../session/roots.js';
import { checkObject, type ObjectCheck } from '../store/check.js';
import { ledgerPath, objectPath } from '../store/location.js';
import { OBJECT_MODE } from '../store/objects.js';
import { formatCount } from '../util/format.js';
import { checkpointEvery } from '../util/turn.js';
import { repairCorrupt, wasQuarantined } from './repair.js';

export interface VerifyOptions {
  readonly storeDir: string;
  readonly full?: boolean;
  readonly repair?: boolean;
  readonly out: Output;
  readonly now?: () => number;
  /** Stop at the next object when aborted (SIGINT/SIGTERM); what was checked so far is recorded. */
  readonly signal?: AbortSignal;
}

export interface CorruptObject {
  /** The address it should hold ("<xxh64>-<size>"). */
  object: string;
  replica: number;
  path: string;
  /** The address its content hashes to, or null when it isn't a regular file. */
  found: string | null;
  /** Venv paths the ledger links to it. */
  links: number;
  /** With --repair: */
  removed?: string[];
  kept?: string[];
  quarantined?: string | null;
  unrecordedNames?: number;
}

export interface VerifyReport {
  store: string;
  exists: boolean;
  full: boolean;
  repair: boolean;
  /** Object rows in the ledger. */
  objects: number;
  /** Objects re-hashed this run. */
  checked: number;
  /** Objects not re-hashed: inode and times as recorded. */
  unchanged: number;
  bytesHashed: number;
  corrupt: CorruptObject[];
  /** Objects that lost their read-only mode; `restored` with --repair. */
  writable: { path: string; restored: boolean }[];
  /** Object rows whose file is gone (gc drops them). */
  missing: string[];
  /** With --repair: objects an interrupted repair had moved to quarantine; their rows forgotten now. */
  finished: string[];
  /** With --repair: link rows whose file was gone, forgotten. */
  forgotten: number;
  errors: { path: string; reason: string }[];
  /** Stopped by SIGINT/SIGTERM before every object was looked at. */
  interrupted: boolean;
  durationMs: number;
}

/** Did verify find something wrong (what its exit status 1 means)? With repair, restored modes count as fixed. */
export function verifyFoundProblems(r: VerifyReport): boolean {
  return r.corrupt.length > 0 || r.missing.length > 0 || r.errors.length > 0 || r.writable.some((w) => !w.restored);
}

export async function runVerify(opts: VerifyOptions): Promise<VerifyReport> {
  const started = Date.now();
  const now = opts.now ?? Date.now;
  const full = opts.full ?? false;
  const repair = opts.repair ?? false;
  const out = opts.out;
  const report: VerifyReport = {
    store: opts.storeDir,
    exists: false,
    full,
    repair,
    objects: 0,
    checked: 0,
    unchanged: 0,
    bytesHashed: 0,
    corrupt: [],
    writable: [],
    missing: [],
    finished: [],
    forgotten: 0,
    errors: [],
    interrupted: false,
    durationMs: 0,
  };
  // Nothing to verify, and nothing to create.
  if (!existsSync(ledgerPath(opts.storeDir))) {
    report.durationMs = Date.now() - started;
    return report;
  }
  await initHash();
  const store = openStore(opts.storeDir, { command: 'verify', lock: repair ? 'exclusive' : 'shared', onWait: (m) => out.note(m) });
  try {
    report.exists = true;
    return await recordedRun(
      store,
      'verify',
      now,
      async () => {
        await checkAll(store, report, opts);
        if (repair && !report.interrupted) report.forgotten = forgetGoneLinks(store);
        report.durationMs = Date.now() - started;
        return report;
      },
      (r) => ({ exitCode: verifyFoundProblems(r) ? 1 : 0, figures: r }),
    );
  } finally {
    out.done();
    store.close();
  }
}

/** Check every object of a usable store root; with repair, deal with what is wrong. Stops between two objects when aborted. */
async function checkAll(store: WritableStore, report: VerifyReport, opts: VerifyOptions): Promise<void> {
  const { ledger, writer } = store;
  const roots = new Map(
    usableStoreRoots(ledger, store.dir, (root, why) => opts.out.warn(`store root ${root}: ${why}; its objects are not checked`)).map((r) => [r.id, r.path]),
  );
  const rows = ledger.objects();
  report.objects = rows.length;
  let done = 0;
  const progress = progressOf(opts.out, 'verifying', 'objects', rows.length);
  const checkpoint = checkpointEvery(32);
  for (const row of rows) {
    await checkpoint();
    if (opts.signal?.aborted) {
      report.interrupted = true;
      break;
    }
    done++;
    progress.update(done, `${formatCount(report.checked)} re-hashed`);
    const rootPath = roots.get(row.root_id);
    if (rootPath === undefined) continue; // its store root is not usable (warned above)
    checkOne(store, row, rootPath, report, opts);
  }
  writer.flush();
}

function checkOne(store: WritableStore, row: ObjectRow, rootPath: string, report: VerifyReport, opts: VerifyOptions): void {
  const file = objectPath(rootPath, row, row.replica);
  const c = checkObject(row, recordedFingerprint(row), file, opts.full ?? false);
  if (c.state === 'missing') {
    if (opts.repair && wasQuarantined(rootPath, row)) {
      store.writer.flush();
      store.writer.now((w) => w.forgetObjectWithLinks(row.id)); // a killed repair's step 3
      report.finished.push(file);
    } else report.missing.push(file);
    return;
  }
  if (c.state === 'unreadable') {
    report.errors.push({ path: file, reason: c.reason });
    return;
  }
  if (c.state === 'unchanged') report.unchanged++;
  else if (c.state === 'ok' || c.state === 'corrupt') {
    report.checked++;
    report.bytesHashed += c.bytes;
  }
  if (c.state === 'not-file' || c.state === 'corrupt') {
    report.corrupt.push(corruptEntry(store, row, rootPath, file, c, report, opts));
    return;
  }
  // Intact (or not re-hashed): the mode, then what to record.
  let stat = c.stat;
  if (c.writable) {
    let restored = false;
    if (opts.repair) {
      try {
        chmodSync(file, OBJECT_MODE);
        restored = true;
        stat = tryLstat(file) ?? stat;
      } catch (err) {
        report.errors.push({ path: file, reason: `cannot restore mode 0444: ${errnoCode(err) ?? String(err)}` });
      }
    }
    report.writable.push({ path: file, restored });
  }
  const verified = c.state === 'ok' && c.stable;
  // Record the current inode and times: after a re-hash that found it intact, or after our own chmod
  // of an object whose times were as recorded (the chmod moved its ctime). Never for content we didn't check.
  const recordable = verified || (c.state === 'unchanged' && stat !== c.stat);
  if (recordable && stat.mtimeNs === c.stat.mtimeNs && stat.ino === c.stat.ino) {
    const fp = fingerprintOf(stat);
    const alloc = allocatedBytes(stat);
    store.writer.add((w) => w.reinodeObject(row.id, fp, alloc));
  }
}

function corruptEntry(
  store: WritableStore,
  row: ObjectRow,
  rootPath: string,
  file: string,
  c: Extract<ObjectCheck, { state: 'not-file' | 'corrupt' }>,
  report: VerifyReport,
  opts: VerifyOptions,
): CorruptObject {
  const entry: CorruptObject = {
    object: keyString(row),
    replica: row.replica,
    path: file,
    found: c.state === 'corrupt' ? keyString(c.found) : null,
    links: store.ledger.linksOfObject(row.id).length,
  };
  if (!opts.repair) return entry;
  store.writer.flush();
  const r = repairCorrupt(store.ledger, store.writer, row, rootPath, file, c.stat);
  entry.removed = r.removed;
  entry.kept = r.kept;
  entry.quarantined = r.quarantined;
  entry.unrecordedNames = r.unrecordedNames;
  report.errors.push(...r.errors);
  if (r.unrecordedNames > 0) {
    opts.out.warn(
      `${r.unrecordedNames} more names of the corrupt ${file} are not in the ledger (copies made with cp -al?); ` +
        'pycstore audit over their trees lists them as quarantined-inode',
    );
  }
  return entry;
}

/** verify --repair: link rows whose file is gone (audit's missing-file) are forgotten. */
function forgetGoneLinks(store: WritableStore): number {
  const gone: number[] = [];
  for (const link of store.ledger.links()) {
    const p = store.ledger.filePath(link.dir_id, link.name);
    try {
      if (!tryLstat(p)) gone.push(link.id);
    } catch {
      // unreadable folder: leave its rows alone
    }
  }
  store.writer.now((w) => gone.forEach((id) => w.forgetLinkById(id)));
  return gone.length;
}
