/**
 * Leaf merging: one node per distinct leaf value.
 *
 * Two leaves are the same value exactly when CPython's writer would encode them the same
 * way, ignoring the interned bit of a str: int/long by value (1 == 1 whatever code it was
 * read from), float/complex by IEEE bits (so -0.0 != 0.0, and NaNs merge only with the
 * same payload), bytes and str by content. Kinds never mix: 1, 1.0 and True stay apart.
 * A merged str is interned if any of its occurrences was.
 */
import { rangeEqual } from './strings.js';
import type { IntNode, LeafNode, PayloadLeaf } from './types.js';

const TAG = { long: 1, float: 2, complex: 3, bytes: 4, str: 5 } as const;

/** Hash of a payload: every byte of short ones, 64 spread-out bytes of long ones. */
function hashPayload(tag: number, b: Uint8Array, start: number, len: number): number {
  let h = (0x811c9dc5 ^ Math.imul(tag, 0x9e3779b1) ^ len) | 0;
  if (len <= 64) {
    for (let i = start, end = start + len; i < end; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  } else {
    const step = len / 64;
    for (let k = 0; k < 64; k++) h = Math.imul(h ^ b[start + Math.floor(k * step)]!, 0x01000193);
    h = Math.imul(h ^ b[start + len - 1]!, 0x01000193);
  }
  return h;
}

export class LeafTable {
  private readonly ints = new Map<number, IntNode>();
  private readonly buckets = new Map<number, PayloadLeaf | PayloadLeaf[]>();

  /** The representative for this leaf's value (the first one seen). */
  intern(node: LeafNode): LeafNode {
    if (node.kind === 'int') {
      const have = this.ints.get(node.value);
      if (have) return have;
      this.ints.set(node.value, node);
      return node;
    }
    const tag = node.kind === 'long' && node.negative ? 6 : TAG[node.kind];
    const h = hashPayload(tag, node.src, node.start, node.len);
    const entry = this.buckets.get(h);
    if (entry === undefined) {
      this.buckets.set(h, node);
      return node;
    }
    if (!Array.isArray(entry)) {
      if (same(entry, node)) return merged(entry, node);
      this.buckets.set(h, [entry, node]);
      return node;
    }
    for (const other of entry) if (same(other, node)) return merged(other, node);
    entry.push(node);
    return node;
  }
}

function same(a: PayloadLeaf, b: PayloadLeaf): boolean {
  if (a.kind !== b.kind || a.len !== b.len) return false;
  if (a.kind === 'long' && a.negative !== (b as typeof a).negative) return false;
  return rangeEqual(a.src, a.start, b.src, b.start, a.len);
}

function merged(rep: PayloadLeaf, node: PayloadLeaf): PayloadLeaf {
  if (node.kind === 'str' && node.interned && rep.kind === 'str') rep.interned = true;
  return rep;
}
