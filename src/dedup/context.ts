/** What the apply step works with, shared by its parts (objects.ts, link.ts, apply.ts). */
import type { BigIntStats } from 'node:fs';
import type { Transform } from '../canonical/types.js';
import { allocatedBytes, fingerprintOf } from '../fs/fingerprint.js';
import type { Linker } from '../fs/link.js';
import type { Ledger, LedgerWriter, LedgerWrites } from '../ledger/ledger.js';
import type { ObjectRow } from '../ledger/rows.js';
import type { PlannedObject, StoreRootInfo } from './plan.js';
import type { ByteCache, TouchedInodes } from './rebuild.js';

export interface ApplyContext {
  /** Reads (rows of objects already recorded). */
  readonly ledger: Ledger;
  /** Every ledger write of the apply step goes through it. */
  readonly writer: LedgerWriter<LedgerWrites>;
  readonly transform: Transform;
  /** The linker of a store root (one per root: auto probes once per root). */
  readonly linkerOf: (root: StoreRootInfo) => Linker;
  /** root id of each scanned path, by candidate rootIndex. */
  readonly rootIds: readonly number[];
  readonly now: () => number;
  /** What the transform prepared from each file while planning, reused when the file is unchanged. */
  readonly cache: ByteCache;
  /** Inodes whose names this run replaced (their ctime moved because of us). */
  readonly inodes: TouchedInodes;
  /** `n` more planned files dealt with (linked, skipped or failed). */
  readonly onProgress?: (n: number) => void;
  readonly onWarn?: (message: string) => void;
  /** SIGINT/SIGTERM: stop between two files (what is linked is recorded). */
  readonly signal?: AbortSignal | undefined;
}

/** Record an object file (replica `replica`) of a planned object, now: its row (inserted, or the existing one with this inode). */
export function recordObject(ctx: ApplyContext, obj: PlannedObject, replica: number, st: BigIntStats): ObjectRow {
  return ctx.writer.now((w) =>
    w.recordObject(
      {
        key: obj.key,
        replica,
        rootId: obj.root.id,
        fp: fingerprintOf(st),
        allocated: allocatedBytes(st),
        magic: obj.magic,
        invalidation: obj.variant.invalidation,
        bodyHash: obj.variant.bodyHash,
      },
      ctx.now(),
    ),
  );
}
