/**
 * One error type for everything pycstore reports on purpose.
 *
 * `code` is stable (tests and scripts match on it, never on the wording);
 * `hint` says what the user can do about it; `cause` keeps the original error.
 */
/** Every `code` a PycstoreError can carry (stable: scripts match on them). */
export const ERROR_CODES = [
  'EUSAGE', // bad command line
  'ECONFIG', // pycstore's config file: unreadable, bad TOML, unknown key or wrong type
  'ESTOREPERM', // store owned by someone else, or group/other-writable
  'ESTOREFORMAT', // store or ledger written by a newer pycstore
  'ELOCKED', // could not get the store lock
  'EBADPYC', // a pyc we cannot parse (truncated, bad magic, ...)
  'EMARSHAL', // marshal stream we cannot read or write
  'ECANON', // canonical form failed its structural check
  'EINTEGRITY', // an object's content does not match its address
  'ECHANGED', // a file changed between hashing and swapping
  'EXDEV', // file and store on different filesystems
  'ENOREFLINK', // reflink asked for, filesystem can't
  'EPYTHON', // interpreter worker failed
  'ESCHEDULE', // scheduler setup failed
  'EINTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class PycstoreError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly data: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { hint?: string; cause?: unknown; data?: Record<string, unknown> } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'PycstoreError';
    this.code = code;
    this.hint = opts.hint;
    this.data = opts.data;
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

/** The exit code an error thrown by a command ends the process with: refusals 2, anything unexpected 1. */
export function exitCodeOf(err: unknown): number {
  return err instanceof PycstoreError && err.code !== 'EINTERNAL' ? 2 : 1;
}
