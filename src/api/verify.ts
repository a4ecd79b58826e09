/** `verify` for library callers: the CLI's flags as options, the `verify --json` object as the result. */
import { runVerify, type VerifyReport } from '../verify/run.js';
export { verifyFoundProblems } from '../verify/run.js';
import { outputOf, storeOf, type CommonOptions } from './common.js';

export type { VerifyReport } from '../verify/run.js';

export interface VerifyOptions extends CommonOptions {
  /** `--full`: re-hash every object, not only those whose times moved. */
  readonly full?: boolean;
  /** `--repair`: quarantine corrupt objects and remove their links; restore read-only modes. */
  readonly repair?: boolean;
}

/** Re-hash store objects (and repair what is wrong, with `repair`). */
export async function verify(opts: VerifyOptions = {}): Promise<VerifyReport> {
  return runVerify({ storeDir: storeOf(opts), full: opts.full ?? false, repair: opts.repair ?? false, out: outputOf(opts), ...(opts.signal ? { signal: opts.signal } : {}) });
}
