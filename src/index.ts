/**
 * pycstore as a library. Each function is the command of the same name: its
 * options are the command's flags in camelCase (`dedup({ paths, dryRun,
 * linkMode })` is `pycstore dedup --dry-run --link-mode … PATH…`), its result
 * the object the command prints with `--json`. Refusals and usage errors are
 * thrown as PycstoreError with a stable `code` (ERROR_CODES) and a `hint`.
 *
 *   import { dedup } from 'pycstore';
 *   const r = await dedup({ paths: ['/home/me/.venvs'] });
 *   console.log(r.linked, r.bytesSaved);
 */
export { dedup, type DedupOptions, type DedupReport } from './api/dedup.js';
export { gc, type GcOptions, type GcReport } from './api/gc.js';
export { audit, type AuditOptions, type AuditReport, type AuditFilesReport, type FileAudit } from './api/audit.js';
export { verify, type VerifyOptions, type VerifyReport } from './api/verify.js';
export { unshare, type UnshareOptions, type UnshareReport } from './api/unshare.js';
export { status, type StatusOptions, type StatusReport } from './api/status.js';
export type { CommonOptions, Output } from './api/common.js';
export { memoryOutput } from './util/output.js';
export { PycstoreError, ERROR_CODES, type ErrorCode } from './errors.js';
