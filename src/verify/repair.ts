/**
 * `verify --repair` for one corrupt object, in the order that keeps every
 * crash recoverable and never lets the corrupt content spread:
 *
 *   1. Remove the venv paths the ledger links to it, each only if it still is
 *      that link: a hard link that still is the corrupt inode is removed
 *      without reading; any other path that still is its recorded link (the
 *      recorded inode of a hard link, the recorded fingerprint of a reflink) is
 *      read and removed unless its content hashes to the address. A path
 *      replaced since (Python recompiled it) is left alone. CPython writes a
 *      missing pyc again on the next import.
 *   2. Move the object file to `quarantine-v1/` of its own store root: a rename
 *      within one filesystem, so it is atomic and never copies (a store root on
 *      another filesystem gets its own quarantine-v1/ beside its objects-v1/).
 *      Nothing links to the address any more until dedup writes a good object there.
 *   3. Forget the object row and its link rows (one transaction).
 *
 * The store's exclusive lock is held, so no dedup links to the object meanwhile.
 * A crash after 1 (or a path that could not be removed) leaves the object
 * corrupt in place: the next repair finishes.
 * A crash after 2 leaves rows without a file whose copy is in quarantine: the next repair
 * finishes (wasQuarantined below), and gc drops such rows too.
 *
 * Names of the corrupt inode that the ledger doesn't know (a `cp -al` copy of a
 * venv) can't be found without a disk-wide search; their count is reported, and
 * `pycstore audit` over their tree lists them (kind `quarantined-inode`).
 */
import { mkdirSync, readdirSync, renameSync, unlinkSync, type BigIntStats } from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../errors.js';
import { fingerprintOf, sameFingerprint, sameInode } from '../fs/fingerprint.js';
import { tryLstat } from '../fs/stat.js';
import type { Ledger, LedgerWriter, LedgerWrites } from '../ledger/ledger.js';
import { recordedFingerprint, type ObjectRow } from '../ledger/rows.js';
import { isQuarantineOf, quarantineDir, quarantinePath } from '../store/location.js';
import { holdsAddress } from '../store/check.js';

export interface RepairResult {
  /** Venv paths removed (they held, or might hold, the corrupt content). */
  readonly removed: string[];
  /** Linked paths left in place: replaced since, gone, or (reflinks) still holding the good content. */
  readonly kept: string[];
  /** Where the object file went, or null if it could not be moved. */
  quarantined: string | null;
  /** Names of the corrupt inode not in the ledger (nlink left after the moves, minus the quarantine name). */
  unrecordedNames: number;
  readonly errors: { path: string; reason: string }[];
}

export function repairCorrupt(
  ledger: Ledger,
  writer: LedgerWriter<LedgerWrites>,
  row: ObjectRow,
  storeRootPath: string,
  objectFile: string,
  corruptStat: BigIntStats,
): RepairResult {
  const res: RepairResult = { removed: [], kept: [], quarantined: null, unrecordedNames: 0, errors: [] };
  const corrupt = fingerprintOf(corruptStat);

  // 1. The linked paths.
  for (const link of ledger.linksOfObject(row.id)) {
    const p = ledger.filePath(link.dir_id, link.name);
    let st;
    try {
      st = tryLstat(p);
    } catch (err) {
      res.errors.push({ path: p, reason: `cannot stat: ${errnoCode(err) ?? String(err)}` });
      continue;
    }
    if (!st || !st.isFile()) continue; // gone already: only its row is left, dropped below
    const fp = fingerprintOf(st);
    let remove: boolean;
    if (sameInode(fp, corrupt)) remove = true;
    else if (
      (link.kind === 'hardlink' && sameInode(fp, row)) ||
      (link.kind === 'reflink' && sameFingerprint(fp, recordedFingerprint(link)))
    ) {
      remove = !holdsAddress(p, row);
    } else remove = false; // replaced since: not ours
    if (!remove) {
      res.kept.push(p);
      continue;
    }
    try {
      unlinkSync(p);
      res.removed.push(p);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') continue;
      res.errors.push({ path: p, reason: `cannot remove: ${errnoCode(err) ?? String(err)}` });
    }
  }

  // 2. The object file, only if it still is the inode found corrupt, and only when every linked path
  //    was dealt with: otherwise it stays (dedup never links to an object that fails its address check)
  //    and the next repair retries the paths.
  if (res.errors.length > 0) return res;
  const now = tryLstat(objectFile);
  if (now && sameInode(fingerprintOf(now), corrupt)) {
    const target = quarantinePath(storeRootPath, row, row.replica);
    try {
      mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
      renameSync(objectFile, target);
      res.quarantined = target;
      const moved = tryLstat(target);
      if (moved) res.unrecordedNames = Math.max(0, Number(moved.nlink) - 1);
    } catch (err) {
      res.errors.push({ path: objectFile, reason: `cannot move to quarantine: ${errnoCode(err) ?? String(err)}` });
    }
  }

  // 3. The ledger: only when nothing failed, so the next repair can finish the job.
  if (res.errors.length === 0) writer.now((w) => w.forgetObjectWithLinks(row.id));
  return res;
}

/**
 * Did a repair already move this object (whose file is gone) to quarantine, and die before step 3?
 * Then the next repair finishes it: its rows go (its links were removed in step 1).
 */
export function wasQuarantined(storeRootPath: string, row: ObjectRow): boolean {
  try {
    return readdirSync(quarantineDir(storeRootPath)).some((name) => isQuarantineOf(name, row, row.replica));
  } catch {
    return false; // no quarantine folder: nothing was ever moved there
  }
}
