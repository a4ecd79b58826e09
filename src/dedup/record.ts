/**
 * Step 6, record: what the run learns goes into the ledger as it goes, in the
 * writer's batches (short IMMEDIATE transactions, nothing awaited inside), so
 * the ledger never lags the disk by more than a batch: links as they are made
 * (link.ts), objects at their durability barrier (objects.ts), skips as they
 * are judged (context.ts), and here — hard links made outside pycstore
 * adopted, which canonical body each read source compiles to (for `--fill`),
 * and the roots scanned.
 */
import type { Fingerprint } from '../fs/fingerprint.js';
import type { LedgerWriter, LedgerWrites } from '../ledger/ledger.js';
import type { RunContext } from './context.js';
import type { FileFacts } from './types.js';

/** A file found hard-linked to a store object outside pycstore (e.g. `cp -al`): recorded without reading it. */
export function adopt(writer: LedgerWriter<LedgerWrites>, path: string, objectId: number, fp: Fingerprint, rootId: number | null, when: number): void {
  writer.add((w) => w.recordLink(path, objectId, rootId, 'hardlink', fp, when));
}

/** Which canonical body each source read in a group compiles to: (magic, optimization, relName, source) → body. */
export function recordBodies(run: RunContext, facts: readonly FileFacts[]): void {
  if (!run.writer || !run.canonical) return;
  for (const f of facts) {
    if (!f.sourceKey) continue;
    const { magic } = f.header.version;
    const { optimization } = f.subject.name;
    const { relName } = f.subject;
    const sourceKey = f.sourceKey;
    const bodyHash = f.bodyHash;
    run.writer.add((w) => w.recordBody(magic, optimization, relName, sourceKey, bodyHash));
  }
}

/** The end of a run: the roots it scanned, marked, and everything queued written. */
export function recordScanned(run: RunContext): void {
  if (!run.writer) return;
  const when = run.now();
  run.writer.now((w) => run.rootIds.forEach((id) => w.markScanned(id, when)));
}
