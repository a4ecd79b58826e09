/**
 * The one class every graph node is an instance of. All fields exist on every node (the
 * ones a kind doesn't use keep their defaults), so V8 sees a single object shape and the
 * walkers' property loads stay monomorphic: this roughly halves canonicalization time
 * compared with one object-literal shape per kind. Booleans share one bit field, and
 * every container keeps its children in `items`, to keep nodes small. The typed view is
 * the MNode union (types.ts).
 */
import { KIND_NAMES, type CodeLayoutInfo, type MNode } from './types.js';

const EMPTY = new Uint8Array(0);
const FLAGGED = 1;
const ASCII = 2;
const INTERNED = 4;
const NEGATIVE = 8;

export class Node {
  bits: number;
  value = 0;
  src: Uint8Array = EMPTY;
  start = 0;
  len = 0;
  items: MNode[] | null = null;
  layout: CodeLayoutInfo | null = null;
  ints: number[] | null = null;

  constructor(
    readonly k: number,
    readonly id: number,
    readonly offset: number,
    readonly end: number,
    readonly typeCode: number,
    flagged: boolean,
  ) {
    this.bits = flagged ? FLAGGED : 0;
  }

  get kind(): string {
    return KIND_NAMES[this.k]!;
  }

  get flagged(): boolean {
    return (this.bits & FLAGGED) !== 0;
  }

  get ascii(): boolean {
    return (this.bits & ASCII) !== 0;
  }

  set ascii(on: boolean) {
    this.bits = on ? this.bits | ASCII : this.bits & ~ASCII;
  }

  get interned(): boolean {
    return (this.bits & INTERNED) !== 0;
  }

  set interned(on: boolean) {
    this.bits = on ? this.bits | INTERNED : this.bits & ~INTERNED;
  }

  get negative(): boolean {
    return (this.bits & NEGATIVE) !== 0;
  }

  set negative(on: boolean) {
    this.bits = on ? this.bits | NEGATIVE : this.bits & ~NEGATIVE;
  }
}

/** A leaf holding `src[start .. start+len)`. */
export function payloadNode(
  k: number,
  id: number,
  offset: number,
  end: number,
  typeCode: number,
  flagged: boolean,
  src: Uint8Array,
  start: number,
  len: number,
): Node {
  const n = new Node(k, id, offset, end, typeCode, flagged);
  n.src = src;
  n.start = start;
  n.len = len;
  return n;
}

export function asNode(n: Node): MNode {
  return n as unknown as MNode;
}
