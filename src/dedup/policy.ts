/**
 * The header policy (`--invalidation`), pure: which variant of each pyc is
 * stored. A timestamp header names the source's mtime and size, so it can be
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
 * "That code" = same magic number and same canonical marshal body.
 */
import type { Invalidation } from '../pyc/header.js';
import { sameKey, type ObjectKey } from '../hash/key.js';
import type { InvalidationPolicy, Variant } from '../canonical/types.js';
import type { FileFacts } from './types.js';

export type { InvalidationPolicy };

/** An object already in the store with a given (magic, body). */
export interface BodyObject {
  readonly invalidation: string | null;
  readonly key: ObjectKey;
}

/** "That code": same magic number, same canonical marshal body. */
export function codeKey(magic: number, bodyHash: string): string {
  return `${magic}:${bodyHash}`;
}

const codeOf = (f: FileFacts): string => codeKey(f.header.version.magic, f.variants[0]!.bodyHash);

function pick(f: FileFacts, choice: Invalidation | 'as-is'): Variant {
  const v = f.variants.find((x) => x.choice === choice);
  if (!v) throw new Error(`no ${choice} variant for ${f.cand.path}`);
  return v;
}

/** A stored object of the same code under another header than the timestamp object `tsKey`: the copies disagree. */
function otherHeader(o: BodyObject, tsKey: ObjectKey): boolean {
  return o.invalidation === 'checked-hash' || (o.invalidation === 'timestamp' && !sameKey(o.key, tsKey));
}

export function chooseVariants(
  facts: readonly FileFacts[],
  policy: InvalidationPolicy,
  storedWithBody: (magic: number, bodyHash: string) => readonly BodyObject[],
): Variant[] {
  if (policy !== 'auto') return facts.map((f) => pick(f, policy));
  // Per code: the stamps of its timestamp copies in this run, and one timestamp variant to compare the store with.
  const stamps = new Map<string, { stamps: Set<string>; sample: Variant; magic: number }>();
  for (const f of facts) {
    if (f.header.invalidation !== 'timestamp') continue;
    const ts = pick(f, 'timestamp');
    const g = stamps.get(codeOf(f)) ?? { stamps: new Set<string>(), sample: ts, magic: f.header.version.magic };
    g.stamps.add(ts.stamp ?? '');
    stamps.set(codeOf(f), g);
  }
  const agree = new Map<string, boolean>();
  for (const [group, g] of stamps) {
    const f = g.sample;
    agree.set(group, g.stamps.size === 1 && !storedWithBody(g.magic, f.bodyHash).some((o) => otherHeader(o, f.key)));
  }
  return facts.map((f) => {
    if (f.header.invalidation !== 'timestamp') return pick(f, f.header.invalidation);
    return agree.get(codeOf(f)) ? pick(f, 'timestamp') : pick(f, 'checked-hash');
  });
}

/**
 * The code going checked-hash in this run (`chosen`) whose copies the store already shares
 * through timestamp objects: those copies must move to the checked-hash object too.
 * Returns the ids of those timestamp objects, plus `conflicting` (timestamp objects whose code the
 * store also holds under another header, from the ledger).
 */
export function timestampObjectsToLeave(
  facts: readonly FileFacts[],
  chosen: readonly Variant[],
  storedWithBody: (magic: number, bodyHash: string) => readonly (BodyObject & { readonly id: number })[],
  conflicting: readonly number[],
): Set<number> {
  const ids = new Set(conflicting);
  const seen = new Set<string>();
  facts.forEach((f, i) => {
    if (f.header.invalidation !== 'timestamp' || chosen[i]!.invalidation !== 'checked-hash' || seen.has(codeOf(f))) return;
    seen.add(codeOf(f));
    for (const o of storedWithBody(f.header.version.magic, f.variants[0]!.bodyHash)) if (o.invalidation === 'timestamp') ids.add(o.id);
  });
  return ids;
}
