/**
 * Object graph -> marshal bytes, in canonical encoding.
 *
 * The encoding of a graph depends only on its values and its sharing, never on how the
 * input was written:
 *   - FLAG_REF is set exactly on the objects reached through two or more slots of the
 *     graph being written; ref indices are handed out in emission order (the order the
 *     reader reserves them in); every object is written in full at its first position and
 *     as TYPE_REF afterwards;
 *   - each value gets the type code CPython's writer picks for it: TYPE_INT for ints that
 *     fit int32 else TYPE_LONG; TYPE_BINARY_FLOAT/COMPLEX; str as z/Z (ASCII, < 256
 *     chars), a/A (ASCII), else u/t, interned variant iff `interned`; tuples as `)` when
 *     shorter than 256, else `(`;
 *   - elements of sets and frozensets are written in the view's `setOrder` when it has
 *     one (`canonicalize` sorts them), else as read; dict and frozendict keep their
 *     insertion order.
 * The graph is read through a GraphView (merged representatives, the new co_filename,
 * set order, interned bits) and never modified.
 *
 * `forceRootRef` sets FLAG_REF on the root even though nothing refers back to it; that is
 * how CPython's py_compile/importlib pycs start (0xe3 = TYPE_CODE | FLAG_REF).
 *
 * A frozendict must never be shared: the reader of early 3.15 builds reserves a ref slot
 * for a flagged frozendict but never fills it (cpython gh-155315; 3.15.2 loads it fine),
 * so a reference to one may not load. Writing such a graph throws ECANON. The compiler
 * never makes frozendict constants, so this costs nothing in practice.
 */
import { PycstoreError } from '../errors.js';
import { ByteSink, ExpectSink, type Sink } from './sink.js';
import {
  F_INT,
  FLAG_REF,
  TYPE_ASCII,
  TYPE_ASCII_INTERNED,
  TYPE_BINARY_COMPLEX,
  TYPE_BINARY_FLOAT,
  TYPE_CODE,
  TYPE_DICT,
  TYPE_FROZENDICT,
  TYPE_FROZENSET,
  TYPE_INT,
  TYPE_INTERNED,
  TYPE_LIST,
  TYPE_LONG,
  TYPE_NULL,
  TYPE_REF,
  TYPE_SET,
  TYPE_SHORT_ASCII,
  TYPE_SHORT_ASCII_INTERNED,
  TYPE_SLICE,
  TYPE_SMALL_TUPLE,
  TYPE_STRING,
  TYPE_TUPLE,
  TYPE_UNICODE,
  K_BYTES,
  K_CODE,
  K_COMPLEX,
  K_DICT,
  K_FLOAT,
  K_FROZENDICT,
  K_FROZENSET,
  K_INT,
  K_LIST,
  K_LONG,
  K_SET,
  K_SLICE,
  K_STR,
  K_TUPLE,
  type ContainerNode,
  type LeafNode,
  type MNode,
} from './types.js';

const EMPTY = new Int32Array(0);

/**
 * How to see a parsed graph as the graph to write, without modifying it: merged values,
 * a new co_filename, set element order. Everything optional (absent: the graph as is).
 */
export interface GraphView {
  /** The representative of each node, by id; undefined: the node itself. */
  readonly reps?: (MNode | undefined)[];
  /** Interned bit of each str representative, by id (merging ORs it). */
  readonly interned?: Uint8Array;
  /** Written in place of every code object's co_filename. */
  readonly filename?: MNode;
  /** Element order (of representatives) of sets and frozensets, by node id. */
  readonly setOrder?: Map<number, readonly MNode[]>;
}

export interface EncodeOptions {
  forceRootRef?: boolean;
  /** Initial output capacity in bytes. */
  sizeHint?: number;
  /** Bytes left free in front of the output, in its buffer (a pyc header's room: canonical/types.ts objectBytes). */
  reserve?: number;
  /** Gives a buffer of the caller's of at least this many bytes to write the output into (the result is then a view of it). */
  room?: ((size: number) => Uint8Array) | undefined;
  /** The output this one probably equals (ExpectSink): when it does, the result is this very view and nothing is written. */
  expect?: Uint8Array | undefined;
  /**
   * Use counts already known (indexed by node id: how many slots of the viewed graph
   * refer to each node); otherwise the encoder counts them itself.
   */
  uses?: Int32Array;
}

/**
 * Reusable encoder for the nodes of one graph, seen through `view`: ids must be
 * < `capacity`. Each `encode` call is independent (its marks carry a fresh epoch).
 */
export class Encoder {
  private readonly capacity: number;
  private ownUses: Int32Array | undefined;
  private uses: Int32Array;
  private countStamp: Int32Array | undefined;
  private readonly refStamp: Int32Array;
  private readonly refIdx: Int32Array;
  private epoch = 0;
  private nextRef = 0;
  private sink: Sink = new ByteSink();
  private root: MNode | undefined;
  private forceRootRef = false;
  private readonly reps: (MNode | undefined)[] | null;
  private readonly interned: Uint8Array | null;
  private readonly filename: MNode | null;
  private readonly setOrder: Map<number, readonly MNode[]> | null;

  constructor(capacity: number, view: GraphView = {}) {
    this.capacity = capacity;
    this.uses = EMPTY;
    this.refStamp = new Int32Array(capacity);
    this.refIdx = new Int32Array(capacity);
    this.reps = view.reps ?? null;
    this.interned = view.interned ?? null;
    this.filename = view.filename ?? null;
    this.setOrder = view.setOrder ?? null;
  }

  encode(root: MNode, opts: EncodeOptions = {}): Uint8Array {
    this.epoch++;
    this.nextRef = 0;
    this.root = root;
    this.forceRootRef = opts.forceRootRef === true;
    const capacity = opts.sizeHint ?? 256;
    const reserve = opts.reserve ?? 0;
    this.sink = opts.expect ? new ExpectSink(opts.expect, capacity, reserve, opts.room) : new ByteSink(capacity, reserve, opts.room?.(capacity + reserve));
    if (opts.uses) this.uses = opts.uses;
    else {
      this.ownUses ??= new Int32Array(this.capacity);
      this.countStamp ??= new Int32Array(this.capacity);
      this.uses = this.ownUses;
      this.count(root);
    }
    this.emit(root);
    this.root = undefined;
    return this.sink.take();
  }

  /** The node written for `n` (its representative). */
  private rep(n: MNode): MNode {
    const id = n.id;
    if (id < 0 || this.reps === null) return n;
    return this.reps[id] ?? n;
  }

  /** One more slot refers to `node`; on first sight, count its children. */
  private count(node: MNode): void {
    const id = node.id;
    if (id < 0) return;
    const stamp = this.countStamp!;
    const uses = this.ownUses!;
    if (stamp[id] === this.epoch) {
      uses[id]!++;
      return;
    }
    stamp[id] = this.epoch;
    uses[id] = 1;
    if (node.k <= K_STR) return;
    const items = (node as ContainerNode).items;
    const fi = node.k === K_CODE && this.filename !== null ? node.layout.filenameIndex : -1;
    for (let i = 0; i < items.length; i++) this.count(i === fi ? this.filename! : this.rep(items[i]!));
  }

  private emit(node: MNode): void {
    const s = this.sink;
    const id = node.id;
    if (id < 0) {
      s.byte(node.typeCode);
      return;
    }
    if (this.refStamp[id] === this.epoch) {
      s.byte(TYPE_REF);
      s.i32(this.refIdx[id]!);
      return;
    }
    let flag = 0;
    if (this.uses[id]! >= 2 || (this.forceRootRef && node === this.root)) {
      if (node.k === K_FROZENDICT) {
        throw new PycstoreError('ECANON', 'a frozendict is shared; early 3.15 builds cannot load a reference to one (gh-155315)', {
          data: { offset: node.offset },
        });
      }
      flag = FLAG_REF;
      this.refStamp[id] = this.epoch;
      this.refIdx[id] = this.nextRef++;
    }
    if (node.k <= K_STR) this.emitLeaf(node as LeafNode, flag);
    else this.emitContainer(node as ContainerNode, flag);
  }

  private emitItems(items: readonly MNode[]): void {
    for (let i = 0; i < items.length; i++) this.emit(this.rep(items[i]!));
  }

  private emitLeaf(node: LeafNode, flag: number): void {
    const s = this.sink;
    switch (node.k) {
      case K_INT:
        s.byte(TYPE_INT | flag);
        s.i32(node.value);
        return;
      case K_LONG:
        s.byte(TYPE_LONG | flag);
        s.i32(node.negative ? -(node.len / 2) : node.len / 2);
        s.range(node.src, node.start, node.len);
        return;
      case K_FLOAT:
        s.byte(TYPE_BINARY_FLOAT | flag);
        s.range(node.src, node.start, 8);
        return;
      case K_COMPLEX:
        s.byte(TYPE_BINARY_COMPLEX | flag);
        s.range(node.src, node.start, 16);
        return;
      case K_BYTES:
        s.byte(TYPE_STRING | flag);
        s.i32(node.len);
        s.range(node.src, node.start, node.len);
        return;
      case K_STR: {
        const n = node.len;
        const interned = this.interned !== null ? this.interned[node.id] === 1 : node.interned;
        if (node.ascii && n < 256) {
          s.byte((interned ? TYPE_SHORT_ASCII_INTERNED : TYPE_SHORT_ASCII) | flag);
          s.byte(n);
        } else {
          const t = node.ascii
            ? interned
              ? TYPE_ASCII_INTERNED
              : TYPE_ASCII
            : interned
              ? TYPE_INTERNED
              : TYPE_UNICODE;
          s.byte(t | flag);
          s.i32(n);
        }
        s.range(node.src, node.start, n);
        return;
      }
      default:
        throw new PycstoreError('EINTERNAL', `cannot encode a ${(node as MNode).kind} node`);
    }
  }

  private emitContainer(node: ContainerNode, flag: number): void {
    const s = this.sink;
    switch (node.k) {
      case K_TUPLE: {
        const n = node.items.length;
        if (n < 256) {
          s.byte(TYPE_SMALL_TUPLE | flag);
          s.byte(n);
        } else {
          s.byte(TYPE_TUPLE | flag);
          s.i32(n);
        }
        this.emitItems(node.items);
        return;
      }
      case K_LIST:
        s.byte(TYPE_LIST | flag);
        s.i32(node.items.length);
        this.emitItems(node.items);
        return;
      case K_SET:
      case K_FROZENSET: {
        s.byte((node.k === K_SET ? TYPE_SET : TYPE_FROZENSET) | flag);
        s.i32(node.items.length);
        const order = this.setOrder?.get(node.id);
        if (order) for (let i = 0; i < order.length; i++) this.emit(order[i]!);
        else this.emitItems(node.items);
        return;
      }
      case K_SLICE:
        s.byte(TYPE_SLICE | flag);
        this.emitItems(node.items);
        return;
      case K_DICT:
      case K_FROZENDICT:
        s.byte((node.k === K_DICT ? TYPE_DICT : TYPE_FROZENDICT) | flag);
        this.emitItems(node.items);
        s.byte(TYPE_NULL);
        return;
      case K_CODE: {
        s.byte(TYPE_CODE | flag);
        let ii = 0;
        let oi = 0;
        const kinds = node.layout.fieldKinds;
        const ints = node.ints;
        const objs = node.items;
        const fi = this.filename !== null ? node.layout.filenameIndex : -1;
        for (let f = 0; f < kinds.length; f++) {
          if (kinds[f] === F_INT) s.i32(ints[ii++]!);
          else {
            this.emit(oi === fi ? this.filename! : this.rep(objs[oi]!));
            oi++;
          }
        }
        return;
      }
      default:
        throw new PycstoreError('EINTERNAL', `cannot encode a ${(node as MNode).kind} node`);
    }
  }
}
