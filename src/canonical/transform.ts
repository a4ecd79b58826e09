/**
 * The canonical transform: a fresh pyc becomes an object whose marshal body is
 * canonical (co_filename relative to the import root, deterministic encoding)
 * under the header the policy picks. Pure over bytes; bodies that had to be
 * recompiled by a real interpreter are looked up through `fallbackBody`.
 *
 * Every body is checked structurally against its original (canonicalizeChecked)
 * when it is made, i.e. before any object is stored or linked.
 * Sourceless pycs never get here: the scanner only yields pycs with a source,
 * and only loads from source get co_filename fixed by CPython.
 */
import { contentAddress } from '../hash/key.js';
import { xxh64Hex } from '../hash/xxhash.js';
import { canonicalizeChecked } from '../marshal/index.js';
import { buildHeader, HEADER_SIZE, mtimeSeconds, sourceHash, type Invalidation } from '../pyc/header.js';
import { compileKey, sourceKeyOf } from './compile-key.js';
import type { HeaderChoice, InvalidationPolicy, Transform, TransformInput, Variant } from './types.js';

export interface CanonicalTransformOptions {
  readonly policy: InvalidationPolicy;
  /** The checked canonical body a real interpreter compiled for this compileKey, if any (the compile cache). */
  readonly fallbackBody: (key: string) => Uint8Array | undefined;
}

export function canonicalTransform(opts: CanonicalTransformOptions): Transform {
  const { policy, fallbackBody } = opts;

  const relNameOf = (input: TransformInput): string => {
    if (!input.relName) throw new Error(`no canonical name for ${input.cand.path}`);
    return input.relName;
  };

  /** The canonical body, checked: from `prepared`, from the recompiled fallback, or from the pyc's own bytes. */
  const body = (input: TransformInput): Uint8Array => {
    if (input.prepared) return input.prepared;
    const rel = relNameOf(input);
    if (input.source) {
      const fb = fallbackBody(compileKey(input.header.version.magic, input.cand.name.optimization, rel, sourceKeyOf(input.source)));
      if (fb) return fb;
    }
    const original = input.bytes.subarray(HEADER_SIZE);
    return canonicalizeChecked(original, input.header.version, rel);
  };

  const header = (input: TransformInput, inv: Invalidation): Uint8Array => {
    const v = input.header.version;
    if (inv === 'timestamp') {
      return buildHeader(v, 'timestamp', { mtime: mtimeSeconds(input.cand.sourceStat), sourceSize: Number(input.cand.sourceStat.size) });
    }
    const h = input.sourceHash ?? (input.header.invalidation !== 'timestamp' ? input.header.sourceHash : undefined);
    return buildHeader(v, inv, { sourceHash: h ?? sourceHash(v, input.source!) });
  };

  const choices = (input: TransformInput): Invalidation[] => {
    if (policy !== 'auto') return [policy];
    if (input.header.invalidation !== 'timestamp') return [input.header.invalidation];
    return ['timestamp', 'checked-hash'];
  };

  const t: Transform = {
    name: 'canonical',
    address: contentAddress,
    needsSource: (h) => policy !== 'timestamp' || h.invalidation !== 'timestamp',
    prepare: body,
    variants(input) {
      const b = body(input);
      const bodyHash = xxh64Hex(b);
      return choices(input).map((inv): Variant => {
        const hdr = header(input, inv);
        return {
          choice: inv,
          key: { hash: xxh64Hex(hdr, b), size: hdr.length + b.length },
          invalidation: inv,
          bodyHash,
          stamp: inv === 'timestamp' ? `${mtimeSeconds(input.cand.sourceStat)}:${input.cand.sourceStat.size}` : undefined,
        };
      });
    },
    materialize(input, choice: HeaderChoice) {
      const inv: Invalidation = choice === 'as-is' ? input.header.invalidation : choice;
      const b = body(input);
      const hdr = header(input, inv);
      const out = new Uint8Array(hdr.length + b.length);
      out.set(hdr, 0);
      out.set(b, hdr.length);
      return out;
    },
  };
  return t;
}
