/**
 * The one class every graph node is an instance of. All fields exist on every node (the
 * ones a kind doesn't use keep their defaults), so V8 sees a single object shape and the
 * walkers' property loads stay monomorphic: this roughly halves canonicalization time
 * compared with one object-literal shape per kind. The typed view is the MNode union.
 */
import { KIND_NAMES, type CodeLayoutInfo, type MNode } from './types.js';

const EMPTY = new Uint8Array(0);

export class Node {
  value = 0;
  negative = false;
  src: Uint8Array = EMPTY;
  start = 0;
  len = 0;
  ascii = false;
  interned = false;
  items: MNode[] | null = null;
  keys: MNode[] | null = null;
  values: MNode[] | null = null;
  layout: CodeLayoutInfo | null = null;
  ints: number[] | null = null;
  objs: MNode[] | null = null;

  constructor(
    readonly k: number,
    readonly id: number,
    readonly offset: number,
    public end: number,
    readonly typeCode: number,
    readonly flagged: boolean,
  ) {}

  /** The kind's name (a getter: one field less to fill in per node). */
  get kind(): string {
    return KIND_NAMES[this.k]!;
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
