/**
 * Step 6, record: what the run learnt besides its links (which the apply step
 * queued as it made them) goes into the ledger — hard links made outside
 * pycstore adopted, skip reasons to remember until the file or its source
 * changes, the roots scanned, and which canonical body each compiled source
 * has (for `--fill`).
 */
import type { Fingerprint } from '../fs/fingerprint.js';
import type { LedgerWriter, LedgerWrites } from '../ledger/ledger.js';
import type { ClassifiedAll } from './classify.js';
import type { FileFacts, SkipReason } from './types.js';

/** A skip worth remembering: the file was read and judged (not 'changed', not 'unreadable'). */
export interface SeenSkip {
  readonly path: string;
  readonly fp: Fingerprint;
  readonly sourceFp: string;
  readonly reason: SkipReason;
}

export interface Learnt {
  readonly adopt: ClassifiedAll['adopt'];
  readonly seen: readonly SeenSkip[];
  /** Ledger id of each scanned root, by rootIndex. */
  readonly rootIds: readonly number[];
  /** Files read this run: their (magic, optimization, relName, source) → body, where the source was read. */
  readonly facts: readonly FileFacts[];
  /** Bodies are canonical (a raw body says nothing about a compilation). */
  readonly canonical: boolean;
}

export function recordLearnt(writer: LedgerWriter<LedgerWrites>, learnt: Learnt, when: number): void {
  writer.now((w) => {
    for (const a of learnt.adopt) w.recordLink(a.path, a.objectId, learnt.rootIds[a.rootIndex] ?? null, 'hardlink', a.fp, when);
    for (const s of learnt.seen) w.recordSeen(s.path, s.fp, s.sourceFp, s.reason, when);
    for (const id of learnt.rootIds) w.markScanned(id, when);
    if (!learnt.canonical) return;
    for (const f of learnt.facts) {
      if (f.sourceKey) w.recordBody(f.header.version.magic, f.cand.name.optimization, f.cand.relName, f.sourceKey, f.variants[0]!.bodyHash);
    }
  });
}
