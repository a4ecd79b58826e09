/**
 * The header policy (`--invalidation`), pure: which variant of each pyc is
 * stored. A timestamp header names the source's mtime and size, so it can be
 * shared only by copies whose sources agree on both (uv venvs, whose sources
 * are hard links of one cache file); a checked-hash header names the source's
 * SipHash, the same in every venv, at the price of reading and hashing the
 * source on every import (+4.5–5% import time, measured).
 *
 * auto, per pyc, first rule that applies:
 *   1. a hash-based pyc keeps its own kind (checked stays checked, unchecked stays unchecked);
 *   2. its timestamp object is in the store already → timestamp;
 *   3. another copy in this run has the same source mtime and size → timestamp;
 *   4. its checked-hash object is in the store already → checked-hash;
 *   5. it is the only copy of that code → timestamp (nothing to share, import stays fastest);
 *   6. otherwise → checked-hash.
 */
import type { Invalidation } from '../pyc/header.js';
import type { ObjectKey } from '../store/key.js';
import type { FileFacts, Variant } from './types.js';

export type InvalidationPolicy = 'auto' | Invalidation;

function pick(f: FileFacts, choice: Invalidation | 'as-is'): Variant {
  const v = f.variants.find((x) => x.choice === choice);
  if (!v) throw new Error(`no ${choice} variant for ${f.cand.path}`);
  return v;
}

export function chooseVariants(
  facts: readonly FileFacts[],
  policy: InvalidationPolicy,
  inStore: (key: ObjectKey) => boolean,
): Variant[] {
  if (policy !== 'auto') return facts.map((f) => pick(f, policy));
  const group = (f: FileFacts): string => `${f.header.version.magic}:${f.variants[0]!.bodyHash}`;
  const groups = new Map<string, number>();
  const stamps = new Map<string, number>();
  for (const f of facts) {
    groups.set(group(f), (groups.get(group(f)) ?? 0) + 1);
    const ts = f.variants.find((v) => v.choice === 'timestamp');
    if (ts?.stamp) stamps.set(`${group(f)}@${ts.stamp}`, (stamps.get(`${group(f)}@${ts.stamp}`) ?? 0) + 1);
  }
  return facts.map((f) => {
    if (f.header.invalidation !== 'timestamp') return pick(f, f.header.invalidation);
    const ts = pick(f, 'timestamp');
    const chk = pick(f, 'checked-hash');
    if (inStore(ts.key)) return ts;
    if ((stamps.get(`${group(f)}@${ts.stamp}`) ?? 0) >= 2) return ts;
    if (inStore(chk.key)) return chk;
    if (groups.get(group(f)) === 1) return ts;
    return chk;
  });
}
