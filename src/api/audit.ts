/** `audit` for library callers: the CLI's flags as options, the `audit --json` object as the result. */
import { auditFiles, fileArguments, type FileAudit } from '../audit/file.js';
import { runAudit, type AuditReport } from '../audit/run.js';
import { outputOf, storeOf, type CommonOptions } from './common.js';

export type { AuditReport } from '../audit/run.js';
export type { FileAudit } from '../audit/file.js';

export interface AuditOptions extends CommonOptions {
  /** Directories to audit (none: every registered root), or pyc files to look up (not both). */
  readonly paths?: readonly string[];
  /** `--full`: re-hash every store object checked. */
  readonly full?: boolean;
}

/** `audit FILE…`: which other paths share each file's object. */
export interface AuditFilesReport {
  files: FileAudit[];
}

/** Figures re-checked on disk and the anomalies, per root; or, given pyc files, what shares them (`'files' in result`). */
export async function audit(opts: AuditOptions = {}): Promise<AuditReport | AuditFilesReport> {
  const paths = opts.paths ?? [];
  const files = fileArguments(paths);
  if (files) return { files: auditFiles(storeOf(opts), files) };
  return runAudit({ storeDir: storeOf(opts), paths, full: opts.full ?? false, out: outputOf(opts) });
}
