/**
 * Merging equal values: one node per distinct leaf value (LeafTable), and one node per
 * distinct immutable container of merged children (ContainerTable).
 *
 * Two leaves are the same value exactly when CPython's writer would encode them the same
 * way, ignoring the interned bit of a str: int/long by value (1 == 1 whatever code it was
 * read from), float/complex by IEEE bits (so -0.0 != 0.0, and NaNs merge only with the
 * same payload), bytes and str by content. Kinds never mix: 1, 1.0 and True stay apart.
 * A merged str is interned if any of its occurrences was.
 *
 * An open-addressing table (linear probing) sized from the node count: no Map, no
 * per-entry allocation.
 */
import { rangeEqual } from './strings.js';
import {
  K_FROZENSET,
  K_INT,
  K_LONG,
  K_STR,
  type IntNode,
  type LeafNode,
  type MNode,
  type PayloadLeaf,
  type SeqNode,
  type SliceNode,
  type StrNode,
} from './types.js';

/** Hash of a payload: every byte of short ones, 64 spread-out bytes (and the last) of long ones. */
function hashPayload(seed: number, b: Uint8Array, start: number, len: number): number {
  let h = (0x811c9dc5 ^ Math.imul(seed, 0x9e3779b1) ^ len) | 0;
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
  private mask: number;
  private hashes: Int32Array;
  private slots: (LeafNode | undefined)[];
  private size = 0;
  /** Interned bit of each str representative, by node id (the nodes are not modified). */
  readonly interned: Uint8Array;

  /**
   * `expected`: about how many distinct leaves to expect (the table grows anyway);
   * `idCapacity`: node ids are below it.
   */
  constructor(expected: number, idCapacity: number) {
    this.interned = new Uint8Array(idCapacity);
    let cap = 64;
    while (cap < expected * 2) cap *= 2;
    this.mask = cap - 1;
    this.hashes = new Int32Array(cap);
    this.slots = new Array<LeafNode | undefined>(cap).fill(undefined);
  }

  /** The representative for this leaf's value (the first one seen). */
  intern(node: LeafNode): LeafNode {
    const k = node.k;
    let h: number;
    if (k === K_INT) h = Math.imul((node as IntNode).value ^ 0x5bd1e995, 0x9e3779b1);
    else {
      const p = node as PayloadLeaf;
      h = hashPayload(k === K_LONG && (p as { negative: boolean }).negative ? 100 : k, p.src, p.start, p.len);
    }
    const mask = this.mask;
    let i = h & mask;
    for (;;) {
      const other = this.slots[i];
      if (other === undefined) break;
      if (this.hashes[i] === h && sameValue(other, node)) {
        if (k === K_STR && (node as StrNode).interned) this.interned[other.id] = 1;
        return other;
      }
      i = (i + 1) & mask;
    }
    if (k === K_STR && (node as StrNode).interned) this.interned[node.id] = 1;
    this.slots[i] = node;
    this.hashes[i] = h;
    if (++this.size * 2 > mask) this.grow();
    return node;
  }

  private grow(): void {
    const oldSlots = this.slots;
    const oldHashes = this.hashes;
    const cap = (this.mask + 1) * 2;
    this.mask = cap - 1;
    this.hashes = new Int32Array(cap);
    this.slots = new Array<LeafNode | undefined>(cap).fill(undefined);
    for (let j = 0; j < oldSlots.length; j++) {
      const n = oldSlots[j];
      if (n === undefined) continue;
      let i = oldHashes[j]! & this.mask;
      while (this.slots[i] !== undefined) i = (i + 1) & this.mask;
      this.slots[i] = n;
      this.hashes[i] = oldHashes[j]!;
    }
  }
}

function sameValue(a: LeafNode, b: LeafNode): boolean {
  if (a.k !== b.k) return false;
  if (a.k === K_INT) return a.value === (b as IntNode).value;
  const pb = b as PayloadLeaf;
  if (a.len !== pb.len) return false;
  if (a.k === K_LONG && a.negative !== (pb as typeof a).negative) return false;
  return rangeEqual(a.src, a.start, pb.src, pb.start, a.len);
}

/** A number that identifies a node's representative within one graph (singletons by kind). */
function repKey(n: MNode, reps: (MNode | undefined)[]): number {
  return n.id >= 0 ? reps[n.id]!.id : -1 - n.k;
}

/**
 * Hash-consing of immutable containers: tuples, frozensets and slices whose children have
 * the same representatives are one node. Run bottom-up: every child's representative must
 * be known. A frozenset is keyed by its set of children, whatever their order.
 */
export class ContainerTable {
  private mask: number;
  private hashes: Int32Array;
  private slots: (MNode | undefined)[];
  /** The sorted child keys of each slot's node, for frozensets. */
  private keys: (number[] | undefined)[];
  private size = 0;

  constructor(expected: number) {
    let cap = 64;
    while (cap < expected * 2) cap *= 2;
    this.mask = cap - 1;
    this.hashes = new Int32Array(cap);
    this.slots = new Array<MNode | undefined>(cap).fill(undefined);
    this.keys = new Array<number[] | undefined>(cap).fill(undefined);
  }

  /** The representative of `node` (a tuple, frozenset or slice). */
  intern(node: SeqNode | SliceNode, reps: (MNode | undefined)[]): MNode {
    const k = node.k;
    const items = node.items;
    let h = Math.imul(k + 1, 0x9e3779b1) ^ items.length;
    let keys: number[] | undefined;
    if (k === K_FROZENSET) {
      keys = items.map((x) => repKey(x, reps)).sort((x, y) => x - y);
      for (let i = 0; i < keys.length; i++) h = Math.imul(h ^ keys[i]!, 0x01000193);
    } else {
      for (let i = 0; i < items.length; i++) h = Math.imul(h ^ repKey(items[i]!, reps), 0x01000193);
    }
    const mask = this.mask;
    let i = h & mask;
    for (;;) {
      const other = this.slots[i];
      if (other === undefined) break;
      if (this.hashes[i] === h && other.k === k) {
        if (keys ? sameKeys(this.keys[i]!, keys) : sameReps((other as SeqNode | SliceNode).items, items, reps)) return other;
      }
      i = (i + 1) & mask;
    }
    this.slots[i] = node;
    this.hashes[i] = h;
    this.keys[i] = keys;
    if (++this.size * 2 > mask) this.grow();
    return node;
  }

  private grow(): void {
    const oldSlots = this.slots;
    const oldHashes = this.hashes;
    const oldKeys = this.keys;
    const cap = (this.mask + 1) * 2;
    this.mask = cap - 1;
    this.hashes = new Int32Array(cap);
    this.slots = new Array<MNode | undefined>(cap).fill(undefined);
    this.keys = new Array<number[] | undefined>(cap).fill(undefined);
    for (let j = 0; j < oldSlots.length; j++) {
      const n = oldSlots[j];
      if (n === undefined) continue;
      let i = oldHashes[j]! & this.mask;
      while (this.slots[i] !== undefined) i = (i + 1) & this.mask;
      this.slots[i] = n;
      this.hashes[i] = oldHashes[j]!;
      this.keys[i] = oldKeys[j];
    }
  }
}

function sameKeys(a: number[], b: number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameReps(a: MNode[], b: MNode[], reps: (MNode | undefined)[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (repKey(a[i]!, reps) !== repKey(b[i]!, reps)) return false;
  return true;
}
