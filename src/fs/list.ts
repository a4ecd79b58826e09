/**
 * The one directory lister, with one error policy: a directory that is missing
 * (ENOENT, ENOTDIR) lists as empty, silently; any other failure (EACCES, EIO,
 * …) lists as empty too, and is reported to the caller's `onError`, which says
 * what to do with it (a warning, a failure, a counted skip). Entries come
 * sorted by name, so every walk is deterministic.
 */
import { readdirSync, type Dirent } from 'node:fs';
import { errnoCode } from '../errors.js';
import { isMissing } from './stat.js';

export interface ListError {
  readonly path: string;
  /** The errno code (EACCES, EIO, …). */
  readonly code: string;
}

export type OnListError = (e: ListError) => void;

export function listDir(dir: string, onError: OnListError): Dirent[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    const code = errnoCode(err);
    if (!isMissing(code)) onError({ path: dir, code: code ?? String(err) });
    return [];
  }
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
