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
 * Both are open-addressing tables (linear probing, ProbeTable) sized from the node count:
 * no per-entry allocation.
 */
import {
  K_FROZENSET,
  K_INT,
  K_LONG,
  K_STR,
  samePayload,
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

/**
 * Entries and their hashes side by side, probed linearly; grows at half full. A subclass
 * says when a stored entry stands for a candidate (`same`) and calls `find` then `put`.
 */
abstract class ProbeTable<T extends MNode> {
  private mask: number;
  private hashes: Int32Array;
  protected slots: (T | undefined)[];
  private size = 0;

  /** `expected`: about how many distinct entries to expect (the table grows anyway). */
  constructor(expected: number) {
    let cap = 64;
    while (cap < expected * 2) cap *= 2;
    this.mask = cap - 1;
    this.hashes = new Int32Array(cap);
    this.slots = new Array<T | undefined>(cap).fill(undefined);
  }

  protected abstract same(entry: T, candidate: T): boolean;

  /** The slot of the entry that stands for `candidate` (hash `h`), else the free slot where it goes. */
  protected find(h: number, candidate: T): number {
    const mask = this.mask;
    let i = h & mask;
    for (;;) {
      const entry = this.slots[i];
      if (entry === undefined || (this.hashes[i] === h && this.same(entry, candidate))) return i;
      i = (i + 1) & mask;
    }
  }

  /** Store `entry` (hash `h`) in the free slot `i` that `find` returned. */
  protected put(i: number, h: number, entry: T): void {
    this.slots[i] = entry;
    this.hashes[i] = h;
    if (++this.size * 2 > this.mask) this.grow();
  }

  private grow(): void {
    const oldSlots = this.slots;
    const oldHashes = this.hashes;
    const cap = (this.mask + 1) * 2;
    this.mask = cap - 1;
    this.hashes = new Int32Array(cap);
    this.slots = new Array<T | undefined>(cap).fill(undefined);
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

export class LeafTable extends ProbeTable<LeafNode> {
  /** Interned bit of each str representative, by node id (the nodes are not modified). */
  readonly interned: Uint8Array;

  /**
   * `expected`: about how many distinct leaves to expect (the table grows anyway);
   * `idCapacity`: node ids are below it.
   */
  constructor(expected: number, idCapacity: number) {
    super(expected);
    this.interned = new Uint8Array(idCapacity);
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
    const i = this.find(h, node);
    let rep = this.slots[i];
    if (rep === undefined) {
      rep = node;
      this.put(i, h, node);
    }
    if (k === K_STR && (node as StrNode).interned) this.interned[rep.id] = 1;
    return rep;
  }

  protected same(a: LeafNode, b: LeafNode): boolean {
    if (a.k !== b.k) return false;
    if (a.k === K_INT) return a.value === (b as IntNode).value;
    if (a.k === K_LONG && a.negative !== (b as typeof a).negative) return false;
    return samePayload(a, b as PayloadLeaf);
  }
}

/** A number that identifies a node's representative within one graph (singletons by kind). */
function repKey(n: MNode, reps: readonly (MNode | undefined)[]): number {
  return n.id >= 0 ? reps[n.id]!.id : -1 - n.k;
}

/**
 * Hash-consing of immutable containers: tuples, frozensets and slices whose children have
 * the same representatives are one node. Run bottom-up: every child's representative must
 * be known (in `reps`, by node id). A frozenset is keyed by its set of children, whatever
 * their order.
 */
export class ContainerTable extends ProbeTable<SeqNode | SliceNode> {
  /** The sorted child keys of each frozenset interned, by node id. */
  private readonly setKeys = new Map<number, number[]>();

  constructor(
    expected: number,
    private readonly reps: readonly (MNode | undefined)[],
  ) {
    super(expected);
  }

  /** The representative of `node` (a tuple, frozenset or slice). */
  intern(node: SeqNode | SliceNode): MNode {
    const k = node.k;
    const items = node.items;
    const reps = this.reps;
    let h = Math.imul(k + 1, 0x9e3779b1) ^ items.length;
    if (k === K_FROZENSET) {
      const keys = items.map((x) => repKey(x, reps)).sort((x, y) => x - y);
      for (let i = 0; i < keys.length; i++) h = Math.imul(h ^ keys[i]!, 0x01000193);
      this.setKeys.set(node.id, keys);
    } else {
      for (let i = 0; i < items.length; i++) h = Math.imul(h ^ repKey(items[i]!, reps), 0x01000193);
    }
    const i = this.find(h, node);
    const rep = this.slots[i];
    if (rep !== undefined) return rep;
    this.put(i, h, node);
    return node;
  }

  protected same(a: SeqNode | SliceNode, b: SeqNode | SliceNode): boolean {
    if (a.k !== b.k) return false;
    if (a.k === K_FROZENSET) return sameKeys(this.setKeys.get(a.id)!, this.setKeys.get(b.id)!);
    return sameReps(a.items, b.items, this.reps);
  }
}

function sameKeys(a: number[], b: number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameReps(a: readonly MNode[], b: readonly MNode[], reps: readonly (MNode | undefined)[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (repKey(a[i]!, reps) !== repKey(b[i]!, reps)) return false;
  return true;
}
