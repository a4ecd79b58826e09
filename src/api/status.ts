/** `status` for library callers: the `status --json` object. */
import { storeStatus, type StatusReport } from '../status/status.js';
import { storeOf, type CommonOptions } from './common.js';

export type { StatusReport } from '../status/status.js';

export type StatusOptions = Pick<CommonOptions, 'store'>;

/** What the store holds and what it saves, from the ledger alone (read-only). */
export async function status(opts: StatusOptions = {}): Promise<StatusReport> {
  return storeStatus(storeOf(opts));
}
