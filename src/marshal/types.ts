/**
 * The object graph a marshal stream decodes to, and the type codes of the format.
 *
 * One node per object in the stream; a TYPE_REF resolves to the very node it names, so
 * sharing in the stream is identity in the graph. Leaves are decoded to a normal form
 * that keeps exactly the value CPython loads:
 *   - every int is `int` (fits int32: what CPython's writer emits as TYPE_INT) or `long`
 *     (normalized base-2^15 digits), whatever code it was read from (`i`, `I`, `l`);
 *   - floats and complexes keep their IEEE-754 bits (NaN payloads, -0.0 intact);
 *   - every str is its UTF-8 (surrogatepass) bytes, whatever code it was read from
 *     (`z`/`a` are Latin-1 on the wire, `u`/`t` UTF-8), plus `ascii` and `interned`.
 * `typeCode`, `flagged`, `offset` and `end` record how the object was written, for error
 * messages and tests; the canonical writer ignores them.
 *
 * Nodes are plain data (all of one class, see node.ts, so that walking a graph stays
 * monomorphic) and are never modified once read: the canonicalizer sees merged values,
 * the new co_filename and set order through a GraphView (writer.ts), which is what lets
 * canonicalizeChecked compare its output against the very graph it was made from.
 */
import { rangeEqual } from './strings.js';

export const FLAG_REF = 0x80;

export const TYPE_NULL = 0x30; // '0'
export const TYPE_NONE = 0x4e; // 'N'
export const TYPE_FALSE = 0x46; // 'F'
export const TYPE_TRUE = 0x54; // 'T'
export const TYPE_STOPITER = 0x53; // 'S'
export const TYPE_ELLIPSIS = 0x2e; // '.'
export const TYPE_INT = 0x69; // 'i'
export const TYPE_INT64 = 0x49; // 'I' (read only)
export const TYPE_FLOAT = 0x66; // 'f' (read only, marshal version 0/1)
export const TYPE_BINARY_FLOAT = 0x67; // 'g'
export const TYPE_COMPLEX = 0x78; // 'x' (read only, marshal version 0/1)
export const TYPE_BINARY_COMPLEX = 0x79; // 'y'
export const TYPE_LONG = 0x6c; // 'l'
export const TYPE_STRING = 0x73; // 's' (bytes)
export const TYPE_INTERNED = 0x74; // 't'
export const TYPE_REF = 0x72; // 'r'
export const TYPE_TUPLE = 0x28; // '('
export const TYPE_LIST = 0x5b; // '['
export const TYPE_DICT = 0x7b; // '{'
export const TYPE_CODE = 0x63; // 'c'
export const TYPE_UNICODE = 0x75; // 'u'
export const TYPE_SET = 0x3c; // '<'
export const TYPE_FROZENSET = 0x3e; // '>'
export const TYPE_SLICE = 0x3a; // ':' (marshal version 5, CPython 3.14)
export const TYPE_FROZENDICT = 0x7d; // '}' (marshal version 6, CPython 3.15)
export const TYPE_ASCII = 0x61; // 'a'
export const TYPE_ASCII_INTERNED = 0x41; // 'A'
export const TYPE_SMALL_TUPLE = 0x29; // ')'
export const TYPE_SHORT_ASCII = 0x7a; // 'z'
export const TYPE_SHORT_ASCII_INTERNED = 0x5a; // 'Z'

/** Numeric kinds (`node.k`), for fast dispatch; `node.kind` is the same as a name. */
export const K_NONE = 0;
export const K_TRUE = 1;
export const K_FALSE = 2;
export const K_ELLIPSIS = 3;
export const K_STOPITER = 4;
export const K_INT = 5;
export const K_LONG = 6;
export const K_FLOAT = 7;
export const K_COMPLEX = 8;
export const K_BYTES = 9;
export const K_STR = 10;
export const K_TUPLE = 11;
export const K_LIST = 12;
export const K_SET = 13;
export const K_FROZENSET = 14;
export const K_DICT = 15;
export const K_FROZENDICT = 16;
export const K_SLICE = 17;
export const K_CODE = 18;

export const KIND_NAMES = [
  'none', 'true', 'false', 'ellipsis', 'stopiter', 'int', 'long', 'float', 'complex', 'bytes', 'str',
  'tuple', 'list', 'set', 'frozenset', 'dict', 'frozendict', 'slice', 'code',
] as const;

/** Where a node came from in the stream. Singletons carry id -1 and offset -1. */
export interface NodeBase {
  /** The kind as a number (K_*): singletons < K_INT <= leaves <= K_STR < containers. */
  readonly k: number;
  /** Dense per-parse index (0..nodeCount-1); -1 for the shared singletons. */
  readonly id: number;
  /** Offset of the type byte in the stream. */
  readonly offset: number;
  /** Offset just after the object's last byte. */
  readonly end: number;
  /** Type byte as read, without FLAG_REF. */
  readonly typeCode: number;
  /** FLAG_REF was set (and the object took a slot in the ref table). */
  readonly flagged: boolean;
}

export interface SingletonNode extends NodeBase {
  readonly k: typeof K_NONE | typeof K_TRUE | typeof K_FALSE | typeof K_ELLIPSIS | typeof K_STOPITER;
  readonly kind: 'none' | 'true' | 'false' | 'ellipsis' | 'stopiter';
}

/** An int that fits in int32: CPython writes it as TYPE_INT. */
export interface IntNode extends NodeBase {
  readonly k: typeof K_INT;
  readonly kind: 'int';
  readonly value: number;
}

/**
 * A leaf whose value is a byte string: `src[start .. start+len)`. `src` is usually the
 * parsed stream itself (no copy is made); use `payload(node)` for a view.
 */
export interface PayloadNode extends NodeBase {
  readonly src: Uint8Array;
  readonly start: number;
  readonly len: number;
}

/** An int outside int32: sign + normalized base-2^15 digits, least significant first, 2 bytes LE each. */
export interface LongNode extends PayloadNode {
  readonly k: typeof K_LONG;
  readonly kind: 'long';
  readonly negative: boolean;
}

/** IEEE-754 binary64, little-endian, bit for bit (8 bytes). */
export interface FloatNode extends PayloadNode {
  readonly k: typeof K_FLOAT;
  readonly kind: 'float';
}

/** Two binary64 (real, imag), little-endian, bit for bit (16 bytes). */
export interface ComplexNode extends PayloadNode {
  readonly k: typeof K_COMPLEX;
  readonly kind: 'complex';
}

export interface BytesNode extends PayloadNode {
  readonly k: typeof K_BYTES;
  readonly kind: 'bytes';
}

/** The payload is UTF-8 with surrogates encoded as 3 bytes (Python's "surrogatepass"). */
export interface StrNode extends PayloadNode {
  readonly k: typeof K_STR;
  readonly kind: 'str';
  /** Every code point < 128 (CPython writes it as z/Z or a/A, else u/t). */
  readonly ascii: boolean;
  /** Loaded as an interned string (t, A, Z). */
  readonly interned: boolean;
}

export interface SeqNode extends NodeBase {
  readonly k: typeof K_TUPLE | typeof K_LIST | typeof K_SET | typeof K_FROZENSET;
  readonly kind: 'tuple' | 'list' | 'set' | 'frozenset';
  readonly items: readonly MNode[];
}

export interface DictNode extends NodeBase {
  readonly k: typeof K_DICT | typeof K_FROZENDICT;
  readonly kind: 'dict' | 'frozendict';
  /** Keys and values interleaved, in insertion order: k0, v0, k1, v1, … */
  readonly items: readonly MNode[];
}

export interface SliceNode extends NodeBase {
  readonly k: typeof K_SLICE;
  readonly kind: 'slice';
  /** start, stop, step */
  readonly items: readonly MNode[];
}

export interface CodeNode extends NodeBase {
  readonly k: typeof K_CODE;
  readonly kind: 'code';
  readonly layout: CodeLayoutInfo;
  /** The int32 fields, in stream order (see layout.intNames). */
  readonly ints: readonly number[];
  /** The object fields, in stream order (see layout.objNames). */
  readonly items: readonly MNode[];
}

export type LeafNode = IntNode | LongNode | FloatNode | ComplexNode | BytesNode | StrNode;
export type PayloadLeaf = LongNode | FloatNode | ComplexNode | BytesNode | StrNode;
export type ContainerNode = SeqNode | DictNode | SliceNode | CodeNode;
export type MNode = SingletonNode | LeafNode | ContainerNode;

/** What a code-object field must hold for CPython to build the code object. */
export type FieldType = 'int' | 'bytes' | 'tuple' | 'str' | 'strtuple';

/** FieldType as a number (`CodeLayoutInfo.fieldKinds`), for the reader's and writer's loops. */
export const F_INT = 0;
export const F_BYTES = 1;
export const F_STR = 2;
export const F_TUPLE = 3;
export const F_STRTUPLE = 4;

export interface CodeField {
  readonly name: string;
  readonly type: FieldType;
}

export interface CodeLayoutInfo {
  readonly name: '3.8' | '3.10' | '3.11';
  /** All fields in stream order. */
  readonly fields: readonly CodeField[];
  readonly intNames: readonly string[];
  readonly objNames: readonly string[];
  /** Index of co_filename in the code node's `items`. */
  readonly filenameIndex: number;
  /** Per field in stream order: its type as F_INT, F_BYTES, F_STR, F_TUPLE or F_STRTUPLE. */
  readonly fieldKinds: Uint8Array;
}

/** The result of parsing one marshal stream. */
export interface MarshalGraph {
  readonly root: MNode;
  /** Offset just after the root object (== body length for a well-formed pyc body). */
  readonly end: number;
  /** Number of ids handed out (ids are 0..nodeCount-1). */
  readonly nodeCount: number;
  /** Number of slots in the ref table (flagged objects). */
  readonly refCount: number;
}

/** The byte-string value of a leaf, as a view (no copy). */
export function payload(node: PayloadNode): Uint8Array {
  return node.src.subarray(node.start, node.start + node.len);
}

/** The two leaves hold the same byte string (nothing else is compared: kind, sign…). */
export function samePayload(a: PayloadNode, b: PayloadNode): boolean {
  return a.len === b.len && rangeEqual(a.src, a.start, b.src, b.start, a.len);
}

export function isLeaf(node: MNode): node is LeafNode {
  return node.k >= K_INT && node.k <= K_STR;
}
