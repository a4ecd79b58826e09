/**
 * What one thread that reads pycs keeps between files (a worker of pool.ts, or
 * the main thread for small runs): read buffers reused from file to file, the
 * source hashes it has computed, and the ledger it asks for --fill's stored
 * bodies. Reading exactly a size is here too: every read of the run goes
 * through it.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { BodyLookup } from '../ledger/lookup.js';
import { SourceHashes } from './analyze.js';
import { Scratch } from './scratch.js';

export { Scratch };

/** The ledger and the store roots a thread reads stored bodies from (read-fill.ts). */
export interface StoreAccess {
  readonly lookup: BodyLookup;
  /** Store root id → its path. */
  readonly roots: ReadonlyMap<number, string>;
}

/**
 * Read `size` bytes of a file, exactly: undefined if it holds another number of bytes now. Into
 * `scratch` when given (the result is valid until its next use), else into a buffer of its own.
 */
export function readExactly(p: string, size: number, scratch?: Scratch): Uint8Array | undefined {
  const fd = openSync(p, 'r');
  try {
    const buf = scratch ? scratch.get(size + 1) : Buffer.allocUnsafeSlow(size + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, n);
      if (got === 0) break;
      n += got;
      if (n > size) return undefined;
    }
    return n === size ? new Uint8Array(buf.buffer, buf.byteOffset, size) : undefined;
  } finally {
    closeSync(fd);
  }
}

/** A thread's reusable state: its read buffers, its source hashes (analyze.ts), and the ledger it asks for --fill's stored bodies. */
export interface ThreadState {
  readonly pyc: Scratch;
  readonly source: Scratch;
  readonly hashes: SourceHashes;
  readonly store?: StoreAccess | undefined;
}

export function threadState(store?: StoreAccess): ThreadState {
  return { pyc: new Scratch(), source: new Scratch(), hashes: new SourceHashes(), store };
}
