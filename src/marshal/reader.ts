/**
 * Marshal stream -> object graph, for the pyc bodies of CPython 3.8–3.15.
 *
 * Follows `r_object` in Python/marshal.c:
 *   - an object whose type byte has FLAG_REF takes the next slot of the ref table when
 *     its type byte is read, before its children (pre-order, as r_ref_reserve/R_REF do);
 *     TYPE_REF names a slot and resolves to that very node;
 *   - FLAG_REF on None/True/False/Ellipsis/StopIteration/NULL/TYPE_REF is ignored, as in
 *     CPython (they take no slot);
 *   - nesting deeper than 2000 objects is refused (MAX_MARSHAL_STACK_DEPTH); nesting
 *     that overflows the JS stack first is refused too (see guardStack);
 *   - `:` (slice) needs marshal version 5 (3.14), `}` (frozendict) version 6 (3.15);
 *   - a long's digits must be < 2^15 and its top digit non-zero; `z`/`a` payloads are
 *     Latin-1, `u`/`t` must be valid UTF-8 with surrogates allowed (surrogatepass).
 *
 * Stricter than CPython, on purpose (the compiler never writes these, and guessing would
 * be worse than refusing): a reference to an object still being read (a cycle), a NULL
 * as a dict value, legacy text floats that aren't plain decimal literals, code-object
 * fields of the wrong type, and bytes after the root object are all refused.
 *
 * Every length is checked against the bytes left before anything is allocated, so a
 * huge length field costs nothing; payloads are never copied (leaves point into the
 * input, except Latin-1 str payloads, transcoded to UTF-8). Errors are
 * PycstoreError('EMARSHAL') with data.offset = offset of the offending byte.
 */
import { PycstoreError } from '../errors.js';
import type { PyVersionInfo } from '../pyc/magic.js';
import { codeLayout } from './layout.js';
import { asNode, Node, payloadNode } from './node.js';
import { bigintToDigits, fitsInt32, parseFloatText, smallDigitsValue } from './numbers.js';
import { classifyUtf8, isAscii, latin1ToUtf8 } from './strings.js';
import {
  F_BYTES,
  F_INT,
  F_STR,
  F_TUPLE,
  FLAG_REF,
  K_BYTES,
  K_CODE,
  K_COMPLEX,
  K_DICT,
  K_ELLIPSIS,
  K_FALSE,
  K_FLOAT,
  K_FROZENDICT,
  K_FROZENSET,
  K_INT,
  K_LIST,
  K_LONG,
  K_NONE,
  K_SET,
  K_SLICE,
  K_STOPITER,
  K_STR,
  K_TRUE,
  K_TUPLE,
  TYPE_ASCII,
  TYPE_ASCII_INTERNED,
  TYPE_BINARY_COMPLEX,
  TYPE_BINARY_FLOAT,
  TYPE_CODE,
  TYPE_COMPLEX,
  TYPE_DICT,
  TYPE_ELLIPSIS,
  TYPE_FALSE,
  TYPE_FLOAT,
  TYPE_FROZENDICT,
  TYPE_FROZENSET,
  TYPE_INT,
  TYPE_INT64,
  TYPE_INTERNED,
  TYPE_LIST,
  TYPE_LONG,
  TYPE_NONE,
  TYPE_NULL,
  TYPE_REF,
  TYPE_SET,
  TYPE_SHORT_ASCII,
  TYPE_SHORT_ASCII_INTERNED,
  TYPE_SLICE,
  TYPE_SMALL_TUPLE,
  TYPE_STOPITER,
  TYPE_STRING,
  TYPE_TRUE,
  TYPE_TUPLE,
  TYPE_UNICODE,
  type CodeLayoutInfo,
  type MarshalGraph,
  type MNode,
} from './types.js';

/** CPython's MAX_MARSHAL_STACK_DEPTH on Linux. */
export const MAX_DEPTH = 2000;

export interface ParseOptions {
  /** Accept bytes after the root object (marshal.loads ignores them). Default false. */
  allowTrailing?: boolean;
}

/**
 * Run `fn`, turning a JS stack overflow into EMARSHAL. The reader and the walkers recurse
 * once or twice per nesting level; real pycs nest less than 20 deep (the 3.13 stdlib:
 * 17), but a hostile stream may nest up to CPython's 2000, deeper than V8's stack allows
 * before the code is optimized. Such streams are refused, never crash.
 */
export function guardStack<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof RangeError && /call stack/i.test(err.message)) {
      throw new PycstoreError('EMARSHAL', 'marshal: objects nested too deeply for the JS stack', { data: { offset: -1 }, cause: err });
    }
    throw err;
  }
}

/** Parse a whole marshal stream (a pyc body: the bytes after the 16-byte header). */
export function parseMarshal(body: Uint8Array, version: PyVersionInfo, opts: ParseOptions = {}): MarshalGraph {
  return guardStack(() => parseUnguarded(body, version, opts));
}

function parseUnguarded(body: Uint8Array, version: PyVersionInfo, opts: ParseOptions): MarshalGraph {
  // A plain Uint8Array view: subarray() on a Node Buffer is several times slower.
  const bytes =
    Object.getPrototypeOf(body) === Uint8Array.prototype ? body : new Uint8Array(body.buffer, body.byteOffset, body.length);
  const r = new Reader(bytes, version.marshalVersion, codeLayout(version.codeLayout));
  const root = r.readObject();
  if (r.pos !== bytes.length && !opts.allowTrailing) {
    throw marshalError(`${bytes.length - r.pos} unexpected bytes after the root object`, r.pos);
  }
  return { root: asNode(root), end: r.pos, nodeCount: r.nextId, refCount: r.refs.length };
}

function marshalError(message: string, offset: number): PycstoreError {
  return new PycstoreError('EMARSHAL', `marshal: ${message} (offset ${offset})`, { data: { offset } });
}

/** The one node of None, True, False, Ellipsis and StopIteration, by type code (id -1). */
const SINGLETONS: (Node | undefined)[] = [];
for (const [k, type] of [
  [K_NONE, TYPE_NONE],
  [K_TRUE, TYPE_TRUE],
  [K_FALSE, TYPE_FALSE],
  [K_ELLIPSIS, TYPE_ELLIPSIS],
  [K_STOPITER, TYPE_STOPITER],
] as const) {
  SINGLETONS[type] = new Node(k, -1, -1, -1, type, false);
}

class Reader {
  pos = 0;
  nextId = 0;
  depth = 0;
  /** Ref table; undefined = reserved by an object still being read. */
  readonly refs: (Node | undefined)[] = [];
  private readonly len: number;

  constructor(
    private readonly buf: Uint8Array,
    private readonly marshalVersion: number,
    private readonly layout: CodeLayoutInfo,
  ) {
    this.len = buf.length;
  }

  readObject(): Node {
    const at = this.pos;
    const node = this.read();
    if (node === null) throw marshalError('NULL object where a value was expected', at);
    return node;
  }

  private fail(message: string, offset: number): never {
    throw marshalError(message, offset);
  }

  private short(n: number, what: string): never {
    return this.fail(`data too short: ${what} needs ${n} bytes, ${this.len - this.pos} left`, this.pos);
  }

  private u8(): number {
    if (this.pos >= this.len) this.short(1, 'a 1-byte length');
    return this.buf[this.pos++]!;
  }

  private i32(): number {
    const p = this.pos;
    if (p + 4 > this.len) this.short(4, 'an int32');
    const b = this.buf;
    this.pos = p + 4;
    return b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24);
  }

  /** An int32 size field: not negative, and at least one byte per item left. */
  private size(what: string): number {
    const at = this.pos;
    const n = this.i32();
    if (n < 0) this.fail(`negative ${what} size ${n}`, at);
    if (n > this.len - this.pos) this.fail(`${what} size ${n} exceeds the ${this.len - this.pos} bytes left`, at);
    return n;
  }

  private read(): Node | null {
    const offset = this.pos;
    if (offset >= this.len) this.short(1, 'an object');
    const code = this.buf[offset]!;
    this.pos = offset + 1;
    // CPython counts every object, NULL and singletons included.
    if (this.depth >= MAX_DEPTH) this.fail(`objects nested deeper than ${MAX_DEPTH}`, offset);
    const type = code & ~FLAG_REF;
    if (type === TYPE_NULL) return null;
    const single = SINGLETONS[type];
    if (single !== undefined) return single;
    this.depth++;
    let node: Node;
    if (type === TYPE_REF) {
      const n = this.i32();
      if (n < 0 || n >= this.refs.length) this.fail(`invalid reference ${n} (${this.refs.length} slots)`, offset);
      const target = this.refs[n];
      if (target === undefined) this.fail(`reference ${n} to an object still being read`, offset);
      node = target;
    } else if ((code & FLAG_REF) !== 0) {
      const idx = this.refs.length;
      this.refs.push(undefined);
      node = this.readValue(type, offset, true);
      this.refs[idx] = node;
    } else {
      node = this.readValue(type, offset, false);
    }
    this.depth--;
    return node;
  }

  /** Everything that takes a ref slot when flagged. */
  private readValue(type: number, offset: number, flagged: boolean): Node {
    switch (type) {
      case TYPE_INT:
        return this.int(this.i32(), offset, type, flagged);
      case TYPE_SHORT_ASCII:
      case TYPE_SHORT_ASCII_INTERNED: {
        const n = this.u8();
        if (n > this.len - this.pos) this.short(n, 'a str');
        return this.ascii(type, offset, flagged, n, type === TYPE_SHORT_ASCII_INTERNED);
      }
      case TYPE_ASCII:
      case TYPE_ASCII_INTERNED:
        return this.ascii(type, offset, flagged, this.size('str'), type === TYPE_ASCII_INTERNED);
      case TYPE_UNICODE:
      case TYPE_INTERNED: {
        const len = this.size('str');
        const start = this.pos;
        this.pos = start + len;
        const cls = classifyUtf8(this.buf, start, start + len);
        if (cls < 0) this.fail('str payload is not valid UTF-8 (surrogatepass)', offset);
        const n = payloadNode(K_STR, this.nextId++, offset, this.pos, type, flagged, this.buf, start, len);
        n.ascii = cls === 1;
        n.interned = type === TYPE_INTERNED;
        return n;
      }
      case TYPE_STRING: {
        const len = this.size('bytes');
        const start = this.pos;
        this.pos = start + len;
        return payloadNode(K_BYTES, this.nextId++, offset, this.pos, type, flagged, this.buf, start, len);
      }
      case TYPE_SMALL_TUPLE: {
        const count = this.u8();
        if (count > this.len - this.pos) this.fail(`tuple size ${count} exceeds the ${this.len - this.pos} bytes left`, offset);
        return this.seq(K_TUPLE, type, offset, flagged, count);
      }
      case TYPE_TUPLE:
        return this.seq(K_TUPLE, type, offset, flagged, this.size('tuple'));
      case TYPE_LIST:
        return this.seq(K_LIST, type, offset, flagged, this.size('list'));
      case TYPE_SET:
        return this.seq(K_SET, type, offset, flagged, this.size('set'));
      case TYPE_FROZENSET:
        return this.seq(K_FROZENSET, type, offset, flagged, this.size('frozenset'));
      case TYPE_CODE:
        return this.code(offset, flagged);
      case TYPE_LONG:
        return this.long(offset, flagged);
      case TYPE_BINARY_FLOAT:
      case TYPE_BINARY_COMPLEX: {
        const len = type === TYPE_BINARY_FLOAT ? 8 : 16;
        const start = this.pos;
        if (start + len > this.len) this.short(len, type === TYPE_BINARY_FLOAT ? 'a float' : 'a complex');
        this.pos = start + len;
        const k = type === TYPE_BINARY_FLOAT ? K_FLOAT : K_COMPLEX;
        return payloadNode(k, this.nextId++, offset, this.pos, type, flagged, this.buf, start, len);
      }
      case TYPE_FLOAT: {
        const src = this.floatText();
        return payloadNode(K_FLOAT, this.nextId++, offset, this.pos, type, flagged, src, 0, 8);
      }
      case TYPE_COMPLEX: {
        const src = new Uint8Array(16);
        src.set(this.floatText(), 0);
        src.set(this.floatText(), 8);
        return payloadNode(K_COMPLEX, this.nextId++, offset, this.pos, type, flagged, src, 0, 16);
      }
      case TYPE_INT64: {
        const p = this.pos;
        if (p + 8 > this.len) this.short(8, 'an int64');
        this.pos = p + 8;
        const v = new DataView(this.buf.buffer, this.buf.byteOffset + p, 8).getBigInt64(0, true);
        return this.intFromBig(v, offset, type, flagged);
      }
      case TYPE_DICT:
        return this.dict(K_DICT, type, offset, flagged);
      case TYPE_FROZENDICT:
        if (this.marshalVersion < 6) break;
        return this.dict(K_FROZENDICT, type, offset, flagged);
      case TYPE_SLICE:
        if (this.marshalVersion < 5) break;
        return this.seq(K_SLICE, type, offset, flagged, 3);
    }
    return this.fail(`unknown type code 0x${type.toString(16)} for marshal version ${this.marshalVersion}`, offset);
  }

  private ascii(type: number, offset: number, flagged: boolean, len: number, interned: boolean): Node {
    let src = this.buf;
    let start = this.pos;
    let n = len;
    this.pos = start + len;
    // CPython reads these as Latin-1 (PyUnicode_1BYTE_KIND); keep UTF-8 like every str.
    const ascii = isAscii(src, start, start + len);
    if (!ascii) {
      src = latin1ToUtf8(src.subarray(start, start + len));
      start = 0;
      n = src.length;
    }
    const node = payloadNode(K_STR, this.nextId++, offset, this.pos, type, flagged, src, start, n);
    node.ascii = ascii;
    node.interned = interned;
    return node;
  }

  private seq(k: number, type: number, offset: number, flagged: boolean, count: number): Node {
    const items: MNode[] = [];
    for (let i = 0; i < count; i++) items.push(asNode(this.readObject()));
    const n = new Node(k, this.nextId++, offset, this.pos, type, flagged);
    n.items = items;
    return n;
  }

  private dict(k: number, type: number, offset: number, flagged: boolean): Node {
    const items: MNode[] = [];
    for (;;) {
      const key = this.read();
      if (key === null) break;
      items.push(asNode(key), asNode(this.readObject()));
    }
    const n = new Node(k, this.nextId++, offset, this.pos, type, flagged);
    n.items = items;
    return n;
  }

  private floatText(): Uint8Array {
    const at = this.pos;
    const n = this.u8();
    if (n > this.len - this.pos) this.short(n, 'a float text');
    const text = String.fromCharCode(...this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    const bits = parseFloatText(text);
    if (!bits) this.fail(`float text ${JSON.stringify(text)} is not a plain decimal literal`, at);
    return bits;
  }

  private long(offset: number, flagged: boolean): Node {
    const at = this.pos;
    const n = this.i32();
    if (n < -0x7fffffff) this.fail('long size out of range', at);
    const size = n < 0 ? -n : n;
    if (2 * size > this.len - this.pos) this.short(2 * size, 'long digits');
    const b = this.buf;
    const start = this.pos;
    this.pos = start + 2 * size;
    for (let i = 0; i < size; i++) {
      const d = b[start + 2 * i]! | (b[start + 2 * i + 1]! << 8);
      if (d > 0x7fff) this.fail('long digit out of range', start + 2 * i);
      if (d === 0 && i === size - 1) this.fail('unnormalized long (top digit 0)', start + 2 * i);
    }
    if (size <= 3) {
      const mag = smallDigitsValue(b, start, size);
      const value = n < 0 ? -mag : mag;
      if (fitsInt32(value)) return this.int(value | 0, offset, TYPE_LONG, flagged);
    }
    const node = payloadNode(K_LONG, this.nextId++, offset, this.pos, TYPE_LONG, flagged, b, start, 2 * size);
    node.negative = n < 0;
    return node;
  }

  /** An int that fits int32, read from `typeCode` (i, I or l), ending here. */
  private int(value: number, offset: number, typeCode: number, flagged: boolean): Node {
    const node = new Node(K_INT, this.nextId++, offset, this.pos, typeCode, flagged);
    node.value = value;
    return node;
  }

  private intFromBig(v: bigint, offset: number, typeCode: number, flagged: boolean): Node {
    const value = Number(v); // exact whenever it fits int32
    if (fitsInt32(value)) return this.int(value, offset, typeCode, flagged);
    const src = bigintToDigits(v < 0n ? -v : v);
    const node = payloadNode(K_LONG, this.nextId++, offset, this.pos, typeCode, flagged, src, 0, src.length);
    node.negative = v < 0n;
    return node;
  }

  private code(offset: number, flagged: boolean): Node {
    const layout = this.layout;
    const kinds = layout.fieldKinds;
    const ints: number[] = [];
    const objs: MNode[] = [];
    for (let f = 0; f < kinds.length; f++) {
      const want = kinds[f]!;
      if (want === F_INT) {
        ints.push(this.i32());
        continue;
      }
      const at = this.pos;
      const v = this.readObject();
      let ok: boolean;
      if (want === F_BYTES) ok = v.k === K_BYTES;
      else if (want === F_STR) ok = v.k === K_STR;
      else if (want === F_TUPLE) ok = v.k === K_TUPLE;
      else ok = v.k === K_TUPLE && allStr(v.items!);
      if (!ok) {
        const field = layout.fields[f]!;
        this.fail(`code object field ${field.name} holds a ${v.kind}, not ${field.type}`, at);
      }
      objs.push(asNode(v));
    }
    const n = new Node(K_CODE, this.nextId++, offset, this.pos, TYPE_CODE, flagged);
    n.layout = layout;
    n.ints = ints;
    n.items = objs;
    return n;
  }
}

function allStr(items: readonly MNode[]): boolean {
  for (let i = 0; i < items.length; i++) if (items[i]!.k !== K_STR) return false;
  return true;
}
