/**
 * The header policy (`--invalidation`), pure: which header each pyc's object
 * carries. A timestamp header names the source's mtime and size, so it can be
 * shared only by copies whose sources agree on both (uv venvs, whose sources
 * are hard links of one cache file); a checked-hash header names the source's
 * SipHash, the same in every venv, at the price of reading and hashing the
 * source on every import (+4.5–5% import time, measured).
 *
 * auto, per pyc:
 *   - a hash-based pyc keeps its own kind (checked stays checked, unchecked stays unchecked);
 *   - a timestamp pyc keeps a timestamp header when all copies of that code agree on the source's
 *     mtime and size: every copy in this run has the same stamp, and the store holds no object of
 *     that code with another header (a timestamp object of another stamp, or a checked-hash one);
 *   - otherwise checked-hash, for all of its copies, so they all share one object.
 * "That code" = same magic number and same canonical marshal body. Every copy of a code is in one
 * group of the run (same relative name), so the decision is taken once per code, when its group
 * has been read.
 */
import type { HeaderChoice, InvalidationPolicy, Transform } from '../canonical/types.js';
import { sameKey, type ObjectKey } from '../hash/key.js';
import type { FileFacts } from './types.js';

export type { InvalidationPolicy };

/** An object already in the store with a given (magic, body). */
export interface BodyObject {
  readonly id: number;
  readonly invalidation: string | null;
  readonly key: ObjectKey;
}

/** "That code": same magic number, same canonical marshal body. */
export function codeKey(magic: number, bodyHash: string): string {
  return `${magic}:${bodyHash}`;
}

export const codeOf = (f: FileFacts): string => codeKey(f.header.version.magic, f.bodyHash);

/** A stored object of the same code under another header than the timestamp object `tsKey`: the copies disagree. */
function otherHeader(o: BodyObject, tsKey: ObjectKey): boolean {
  return o.invalidation === 'checked-hash' || (o.invalidation === 'timestamp' && !sameKey(o.key, tsKey));
}

/** The stamp a timestamp copy's header names. */
export const stampOf = (f: FileFacts): string => `${f.source.stamp.mtime}:${f.source.stamp.size}`;

/**
 * Do the timestamp copies of one code (`copies`, all of one code) keep a timestamp header under auto?
 * `stored`: the store's objects of that code; `tsKey`: the timestamp object the copies would share.
 */
export function timestampAgrees(copies: readonly FileFacts[], stored: readonly BodyObject[], tsKey: () => ObjectKey): boolean {
  const stamps = new Set(copies.filter((f) => f.header.invalidation === 'timestamp').map(stampOf));
  if (stamps.size > 1) return false;
  if (stored.length === 0) return true;
  const key = tsKey();
  return !stored.some((o) => otherHeader(o, key));
}

/** The header a file's object gets, given whether its code's timestamp copies agree (auto). */
export function chooseHeader(f: FileFacts, transform: Transform, policy: InvalidationPolicy, agrees: boolean): HeaderChoice {
  const choices = transform.choices(f.header);
  if (choices.length === 1 || policy !== 'auto') return choices[0]!;
  if (f.header.invalidation !== 'timestamp') return f.header.invalidation;
  return agrees ? 'timestamp' : 'checked-hash';
}

/**
 * The timestamp objects a code going checked-hash leaves: the store's timestamp objects of that code
 * (their files in the scanned trees move to the checked-hash object, so all copies share one).
 */
export function timestampObjectsLeft(stored: readonly BodyObject[]): number[] {
  return stored.filter((o) => o.invalidation === 'timestamp').map((o) => o.id);
}
