/**
 * The exit-code contract, and how anything a command throws becomes one line
 * (two with a hint), a `--json` error object and an exit code. Pure: the entry
 * file (src/cli.ts) prints and exits.
 *
 *   0    success
 *   1    some files failed, or (verify, audit) a problem was found; each is reported
 *   2    usage error, or a refusal before any work: nothing was created or changed
 *   3    internal error: a bug (one line; the stack with PYCSTORE_DEBUG=1)
 *   130  interrupted by SIGINT (Ctrl-C); 143 by SIGTERM
 *
 * A closed stdout or stderr (`pycstore status | head -c 10`) is not an error:
 * pycstore stops writing to it, prints nothing about it, and exits with the
 * code of the work it did.
 */
import { freeBytes, isNoSpaceCode } from '../fs/free-space.js';
import { PycstoreError, errnoCode, type ErrorCode } from '../errors.js';
import { ledgerWayOut } from '../ledger/advice.js';
import { ledgerPath } from '../store/location.js';
import { formatBytes } from '../util/format.js';

export const EXIT = { ok: 0, failed: 1, refused: 2, internal: 3, sigint: 130, sigterm: 143 } as const;

export type InterruptSignal = 'SIGINT' | 'SIGTERM';

export function signalExit(sig: InterruptSignal): 130 | 143 {
  return sig === 'SIGINT' ? EXIT.sigint : EXIT.sigterm;
}

/** The table, as shown at the end of every --help. */
export const EXIT_STATUS_HELP: readonly string[] = [
  'Exit status:',
  '  0    success',
  '  1    some files failed, or (verify, audit) a problem was found; each is reported',
  '  2    usage error, or refused before any work (nothing was created or changed)',
  '  3    internal error: a bug; please report it (PYCSTORE_DEBUG=1 shows the stack)',
  '  130  interrupted by SIGINT (Ctrl-C), 143 by SIGTERM',
  '  A closed stdout (pycstore … | head) is not an error: the status is that of the work done.',
];

export interface Reported {
  readonly code: ErrorCode;
  readonly message: string;
  readonly hint: string | undefined;
  readonly exit: 1 | 2 | 3;
  /** Not anticipated: a bug. */
  readonly internal: boolean;
}

const REPORT_BUG = 'this is a bug in pycstore: please report it with the command line and the output of PYCSTORE_DEBUG=1 pycstore …';

/** What an error thrown out of a command means for the user. `storeDir` names the store in the advice. */
export function describeError(err: unknown, storeDir: string | undefined): Reported {
  if (err instanceof PycstoreError) return { code: err.code, message: err.message, hint: err.hint, exit: err.exit, internal: err.exit === 3 };
  const message = err instanceof Error ? err.message : String(err);
  const code = errnoCode(err);
  const ledger = storeDir === undefined ? 'the ledger' : ledgerPath(storeDir);
  const damaged = code === 'SQLITE_ERROR' && /^no such (table|column)/.test(message); // a ledger missing parts of its schema
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || code?.startsWith('SQLITE_IOERR') || damaged) {
    return {
      code: 'ELEDGER',
      message: `the ledger ${ledger} is damaged (${message})`,
      hint: ledgerWayOut(ledger),
      exit: EXIT.failed,
      internal: false,
    };
  }
  if (isNoSpaceCode(code)) {
    return {
      code: 'ENOSPC',
      message: `no space left${storeDir === undefined ? '' : ` on the filesystem of the store ${storeDir}${freeSpace(storeDir)}`} (${message})`,
      hint: 'free some space there (or use a store elsewhere: --store DIR), then run the same command again: what was done so far is recorded',
      exit: EXIT.failed,
      internal: false,
    };
  }
  if (code?.startsWith('SQLITE_BUSY')) {
    return {
      code: 'ELOCKED',
      message: `the ledger ${ledger} stayed locked by another pycstore for too long (${message})`,
      hint: 'run the same command again when the other one has finished',
      exit: EXIT.failed,
      internal: false,
    };
  }
  return { code: 'EINTERNAL', message, hint: REPORT_BUG, exit: EXIT.internal, internal: true };
}

/** " (12.0 KiB free)" for the filesystem of `dir`, or nothing when it can't be told. */
function freeSpace(dir: string): string {
  const free = freeBytes(dir);
  return free === undefined ? '' : ` (${formatBytes(free)} free)`;
}

/** The lines pycstore prints for an error: one (two with a hint); the stack only when asked (PYCSTORE_DEBUG=1). */
export function errorLines(r: Reported, stack: string | undefined): string[] {
  const lines = [`pycstore: ${r.internal ? 'internal error' : 'error'}: ${r.message}`];
  if (r.hint) lines.push(`pycstore: ${r.hint}`);
  if (stack) lines.push(stack);
  return lines;
}

/** The --json error object. */
export function errorJson(r: Reported): { error: { code: string; message: string; hint?: string } } {
  return { error: { code: r.code, message: r.message, ...(r.hint ? { hint: r.hint } : {}) } };
}

/** Is this a write to a closed pipe or a destroyed stream (the reader went away)? */
export function isClosedPipe(err: unknown): boolean {
  const code = errnoCode(err);
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED' || code === 'ECONNRESET';
}
