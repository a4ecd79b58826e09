/**
 * Reading one `--fill` target (the I/O around fill.ts), in a worker thread or
 * this one: its source, exactly the size its stamp says, the source's content
 * key, and — when the thread can ask the ledger — the canonical body the store
 * already has for that compilation, read from its object and checked against
 * its hash. What is left for the main thread is compiling the sources the
 * store has no body for.
 */
import { sourceKeyOf } from '../canonical/compile-key.js';
import { errnoCode } from '../errors.js';
import { xxh64Hex } from '../hash/xxhash.js';
import { HEADER_SIZE } from '../pyc/header.js';
import { versionForCacheTag } from '../pyc/magic.js';
import { objectPath } from '../store/location.js';
import type { PycTask } from './analyze.js';
import { readExactly, type StoreAccess, type ThreadState } from './thread-state.js';
import type { StoredBody } from './types.js';

export type { StoreAccess };

export interface FillResult {
  readonly id: number;
  readonly fill: true;
  readonly bytesRead: number;
  /** The source can't be read now, or no longer has its stamp's size. */
  readonly failed?: { readonly reason: 'unreadable' | 'changed'; readonly detail: string } | undefined;
  readonly sourceKey?: string | undefined;
  /** `_imp.source_hash` of the source, when the task asked for it (hashSource: a hash header may be chosen). */
  readonly sourceHash?: string | undefined;
  /** Was the store asked (this thread had a StoreAccess)? */
  readonly looked: boolean;
  readonly stored?: StoredBody | undefined;
  /** The source's bytes, when the store gave no body (compiling needs them). */
  readonly source?: Uint8Array | undefined;
}

/** The canonical body the store has for this compilation, checked against its hash; undefined when none (or it doesn't check). */
export function storedBody(store: StoreAccess, magic: number, relName: string, sourceKey: string): StoredBody | undefined {
  const bodyHash = store.lookup.bodyFor(magic, 0, relName, sourceKey);
  if (!bodyHash) return undefined;
  const objects = store.lookup.objectsWithBody(magic, bodyHash);
  const obj = objects[0];
  const root = obj ? store.roots.get(obj.root_id) : undefined;
  if (!obj || !root) return undefined;
  const file = objectPath(root, { hash: obj.hash, size: obj.size }, obj.replica);
  let bytes: Uint8Array | undefined;
  try {
    bytes = readExactly(file, obj.size);
  } catch {
    return undefined;
  }
  if (!bytes || bytes.length <= HEADER_SIZE) return undefined;
  const body = bytes.subarray(HEADER_SIZE);
  return xxh64Hex(body) === bodyHash ? { body, bodyHash, row: obj, objects } : undefined;
}

/** Read a --fill target's source and look its body up (when `store` is given). */
export function readFill(task: PycTask, store: StoreAccess | undefined, state: ThreadState): FillResult {
  let source: Uint8Array | undefined;
  try {
    source = readExactly(task.source, task.stamp.size, state.source);
  } catch (err) {
    return { id: task.id, fill: true, bytesRead: 0, looked: false, failed: { reason: 'unreadable', detail: errnoCode(err) ?? String(err) } };
  }
  if (!source) return { id: task.id, fill: true, bytesRead: 0, looked: false, failed: { reason: 'changed', detail: 'its size changed since its stamp was taken' } };
  const sourceKey = sourceKeyOf(source);
  const version = versionForCacheTag(task.cacheTag)!;
  const sourceHash = task.hashSource ? state.hashes.get(version, sourceKey, source) : undefined;
  const stored = store ? storedBody(store, version.magic, task.relName, sourceKey) : undefined;
  return { id: task.id, fill: true, bytesRead: source.length, sourceKey, sourceHash, looked: store !== undefined, stored, source: stored ? undefined : source.slice() };
}
