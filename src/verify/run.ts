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
import type { Output } from '../cli/output.js';
import { errnoCode } from '../errors.js';
import { allocatedBytes, fingerprintOf } from '../fs/fingerprint.js';
import { initHash } from '../hash/xxhash.js';
import { AuditQueries } from '../ledger/audit-queries.js';
import { keyString } from '../store/key.js';
import { ledgerPath, objectPath } from '../store/location.js';
import { OBJECT_MODE, tryLstat } from '../store/objects.js';
import { currentStoreRoots, openStore } from '../store/open.js';
import { formatCount } from '../util/format.js';
import { checkpointEvery } from '../util/turn.js';
import { checkObject } from './check.js';
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
    const ledger = store.ledger;
    const queries = new AuditQueries(ledger);
    const roots = new Map(currentStoreRoots(store, (m) => out.warn(m)).map((r) => [r.id, r.path]));
    const rows = ledger.objects();
    report.objects = rows.length;
    let pending: (() => void)[] = [];
    const flush = (): void => {
      const ops = pending;
      pending = [];
      if (ops.length) ledger.batch(() => ops.forEach((op) => op()));
    };

    let done = 0;
    const checkpoint = checkpointEvery(32);
    for (const row of rows) {
      await checkpoint();
      if (opts.signal?.aborted) {
        report.interrupted = true;
        break;
      }
      done++;
      out.progress(`verifying: ${formatCount(done)}/${formatCount(rows.length)} objects, ${formatCount(report.checked)} re-hashed`);
      const rootPath = roots.get(row.root_id);
      if (rootPath === undefined) continue; // its store root is unreachable (warned above)
      const file = objectPath(rootPath, row, row.replica);
      const c = checkObject(row, file, full);
      if (c.state === 'missing') {
        if (repair && wasQuarantined(rootPath, row)) {
          flush();
          queries.forgetObject(row.id); // a killed repair's step 3
          report.finished.push(file);
        } else report.missing.push(file);
        continue;
      }
      if (c.state === 'unreadable') {
        report.errors.push({ path: file, reason: c.reason });
        continue;
      }
      if (c.state === 'unchanged') report.unchanged++;
      else if (c.state === 'ok' || c.state === 'corrupt') {
        report.checked++;
        report.bytesHashed += c.bytes;
      }
      if (c.state === 'not-file' || c.state === 'corrupt') {
        const entry: CorruptObject = {
          object: keyString(row),
          replica: row.replica,
          path: file,
          found: c.state === 'corrupt' ? keyString(c.found) : null,
          links: queries.linksOfObject(row.id).length,
        };
        report.corrupt.push(entry);
        if (repair) {
          flush();
          const r = repairCorrupt(queries, row, rootPath, file, c.stat);
          entry.removed = r.removed;
          entry.kept = r.kept;
          entry.quarantined = r.quarantined;
          entry.unrecordedNames = r.unrecordedNames;
          report.errors.push(...r.errors);
          if (r.unrecordedNames > 0) {
            out.warn(
              `${r.unrecordedNames} more names of the corrupt ${file} are not in the ledger (copies made with cp -al?); ` +
                'pycstore audit over their trees lists them as quarantined-inode',
            );
          }
        }
        continue;
      }
      // Intact (or not re-hashed): the mode, then what to record.
      let stat = c.stat;
      if (c.writable) {
        let restored = false;
        if (repair) {
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
        const id = row.id;
        pending.push(() => ledger.reinodeObject(id, fp, alloc));
        if (pending.length >= 256) flush();
      }
    }
    flush();

    if (repair && !report.interrupted) {
      // Link rows whose file is gone (audit's missing-file): forget them.
      const gone: number[] = [];
      for (const link of ledger.links()) {
        const p = ledger.filePath(link.dir_id, link.name);
        try {
          if (!tryLstat(p)) gone.push(link.id);
        } catch {
          // unreadable folder: leave its rows alone
        }
      }
      ledger.batch(() => gone.forEach((id) => ledger.forgetLinkById(id)));
      report.forgotten = gone.length;
    }
    report.durationMs = Date.now() - started;
    const runId = ledger.startRun('verify', started);
    ledger.finishRun(runId, verifyFoundProblems(report) ? 1 : 0, report, now());
    return report;
  } finally {
    out.done();
    store.close();
  }
}
