/**
 * One error type for everything pycstore reports on purpose.
 *
 * `code` is stable (tests and scripts match on it, never on the wording);
 * `hint` says what the user can do about it; `cause` keeps the original error.
 *
 * Each code also says what the CLI exits with (the contract is in src/cli/exit.ts):
 * a *refusal* (exit 2) is raised before any work, and nothing has been created
 * or changed on disk; every other code means the run failed part-way (exit 1),
 * with what was done so far recorded. An error can override that with `exit`.
 */
/** Every `code` a PycstoreError can carry (stable: scripts match on them). */
export const ERROR_CODES = [
  // refusals (exit 2)
  'EUSAGE', // bad command line
  'ECONFIG', // pycstore's config file: unreadable, bad TOML, unknown key or wrong type
  'ESTOREPERM', // store path unusable: a file, owned by someone else, writable by others (or a folder on its way)
  'ESTOREFORMAT', // store or ledger written by a newer pycstore
  'ELEDGER', // the ledger can't be read: not a database, damaged, unreadable
  'ELOCKED', // could not get the store lock
  'ENOREFLINK', // reflink asked for, the filesystem can't
  'ESCHEDULE', // scheduler setup refused or failed (exit 1 once a step was done)
  // failures part-way (exit 1)
  'EBADPYC', // a pyc we cannot parse (truncated, bad magic, ...)
  'EMARSHAL', // marshal stream we cannot read or write
  'ECANON', // canonical form failed its structural check
  'EINTEGRITY', // an object's content does not match its address
  'ECHANGED', // a file changed between hashing and swapping
  'EXDEV', // file and store on different filesystems
  'ENOSPC', // no space left (or quota exceeded) on the store's filesystem
  'EPYTHON', // interpreter worker failed
  // a bug (exit 3)
  'EINTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const REFUSALS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'EUSAGE',
  'ECONFIG',
  'ESTOREPERM',
  'ESTOREFORMAT',
  'ELEDGER',
  'ELOCKED',
  'ENOREFLINK',
  'ESCHEDULE',
]);

export class PycstoreError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly data: Record<string, unknown> | undefined;
  /** The exit code this error means for the CLI: 2 refused before any work, 1 failed part-way, 3 a bug. */
  readonly exit: 1 | 2 | 3;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { hint?: string | undefined; cause?: unknown; data?: Record<string, unknown>; exit?: 1 | 2 } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'PycstoreError';
    this.code = code;
    this.hint = opts.hint;
    this.data = opts.data;
    this.exit = code === 'EINTERNAL' ? 3 : (opts.exit ?? (REFUSALS.has(code) ? 2 : 1));
  }
}

export function usageError(message: string, hint?: string): PycstoreError {
  return new PycstoreError('EUSAGE', message, hint === undefined ? {} : { hint });
}

/** The errno code of a Node system error, or undefined. */
export function errnoCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    return (err as { code: string }).code;
  }
  return undefined;
}

/**
 * The exit code an error thrown by a command ends the process with: a PycstoreError's own (2 refused
 * before any work, 1 failed part-way), 3 for anything unexpected. (The CLI also recognises some system
 * errors as anticipated: src/cli/exit.ts.)
 */
export function exitCodeOf(err: unknown): number {
  return err instanceof PycstoreError ? err.exit : 3;
}
