/**
 * Replicas: when an object reaches the filesystem's hard-link limit (EMLINK:
 * ext4 65,000, btrfs 65,535, NTFS 1,023), further links go to a copy of it,
 * `<address>.r1`, `.r2`, … (store/location.ts names them). A replica is written
 * like any object (store/objects.ts: temp file, fdatasync, 0444, link into
 * place; "already there" only after a byte comparison) and is durable before
 * it is returned, since a venv file is linked to it right away.
 */
import type { ObjectKey } from '../hash/key.js';
import { putObject, type PutResult } from './objects.js';

/** The replica after `replica` of the object `key` with content `bytes`, made if needed. */
export function nextReplica(rootDir: string, key: ObjectKey, bytes: Uint8Array, replica: number): { readonly replica: number; readonly put: PutResult } {
  const next = replica + 1;
  return { replica: next, put: putObject(rootDir, key, bytes, next, { sync: true }) };
}
