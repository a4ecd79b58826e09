/**
 * Compact in-memory storage for tables of hundreds of thousands of rows: growable
 * typed columns, strings stored once by number, and strings copied free of the
 * longer string they were cut from.
 */

/**
 * A copy of `s` that doesn't keep a longer string alive. V8 makes `path.dirname(p)` and
 * `path.basename(p)` (of 13 characters or more) views of `p`: keeping one keeps all of `p`. Slicing a
 * concatenation flattens it first, so this keeps one character more than `s`, nothing of `p`.
 */
export function ownString(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1);
}

/** Strings stored once, by number. */
export class Interner {
  readonly values: string[] = [];
  private readonly index = new Map<string, number>();
  id(s: string): number {
    let i = this.index.get(s);
    if (i === undefined) {
      i = this.values.length;
      const own = ownString(s);
      this.values.push(own);
      this.index.set(own, i);
    }
    return i;
  }
}

/** A growable column of unsigned 32-bit integers. */
export class Column {
  private data = new Uint32Array(1024);
  get(i: number): number {
    return this.data[i]!;
  }
  set(i: number, v: number): void {
    if (i >= this.data.length) {
      const next = new Uint32Array(Math.max(this.data.length * 2, i + 1));
      next.set(this.data);
      this.data = next;
    }
    this.data[i] = v;
  }
}

/**
 * A cache that keeps what was used lately, in two generations: when the younger one is full it
 * becomes the older one and the older one is dropped; a hit in the older one moves to the younger.
 * At most 2 × `perGeneration` entries, however many keys pass through it.
 */
export class RecentMap<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();
  constructor(private readonly perGeneration: number) {}

  get(key: K): V | undefined {
    const v = this.young.get(key);
    if (v !== undefined) return v;
    const o = this.old.get(key);
    if (o !== undefined) this.set(key, o);
    return o;
  }

  set(key: K, value: V): void {
    if (this.young.size >= this.perGeneration) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, value);
  }

  delete(key: K): void {
    this.young.delete(key);
    this.old.delete(key);
  }
}
