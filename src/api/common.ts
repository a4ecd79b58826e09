/** What every library call shares: where the store is, and where its messages go. */
import { defaultStoreDir } from '../store/location.js';
import { makeOutput, type Output } from '../util/output.js';

export type { Output } from '../util/output.js';

export interface CommonOptions {
  /** The store directory (`--store`). Default: $PYCSTORE_HOME, else the user cache dir (~/.cache/pycstore on Linux). */
  readonly store?: string;
  /**
   * Where warnings and notes go (what the CLI prints on stderr). Default: stderr, without a
   * progress line; `memoryOutput()` collects them instead.
   */
  readonly output?: Output;
}

export function storeOf(opts: CommonOptions): string {
  return defaultStoreDir(opts.store, process.env);
}

export function outputOf(opts: CommonOptions): Output {
  return opts.output ?? makeOutput({ progress: false });
}
