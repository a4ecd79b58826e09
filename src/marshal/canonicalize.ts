/**
 * The canonical form of a pyc body: co_filename relative to the import root, and a
 * deterministic marshal encoding (see index.ts for the contract and writer.ts for the
 * encoding rules).
 */
import { PycstoreError } from '../errors.js';
import type { PyVersionInfo } from '../pyc/magic.js';
import { ContainerTable, LeafTable } from './merge.js';
import { asNode, payloadNode } from './node.js';
import { checkCanonicalGraph } from './check.js';
import { guardStack, parseMarshal } from './reader.js';
import { classifyUtf8, compareBytes, decodeUtf8Surrogatepass, encodeUtf8Surrogatepass } from './strings.js';
import {
  isLeaf,
  K_CODE,
  K_FROZENSET,
  K_SET,
  K_SLICE,
  K_STR,
  K_TUPLE,
  payload,
  samePayload,
  TYPE_SHORT_ASCII,
  type MarshalGraph,
  type MNode,
  type SeqNode,
  type ContainerNode,
  type StrNode,
} from './types.js';
import { Encoder } from './writer.js';

/**
 * Rewrite every code object's co_filename to `relFilename` and return the canonical
 * encoding of the result. Throws EMARSHAL for a stream it cannot read, ECANON when the
 * code objects don't all carry the same co_filename, when the co_filename string object
 * is also used in another slot, or when the root isn't a code object.
 */
export function canonicalize(body: Uint8Array, version: PyVersionInfo, relFilename: string): Uint8Array {
  const graph = parseMarshal(body, version);
  return guardStack(() => canonicalizeGraph(graph, relFilename, body.length));
}

/**
 * canonicalize, then checkCanonical, parsing the original once: what to run on every
 * object before storing it. Same errors as both (ECANON from the check: a bug).
 * `reserve` bytes are left free in front of the result, in its buffer. `out.room` may give a buffer
 * of the caller's to write it into (the result is then a view of it); `out.expect`, a canonical body
 * it probably equals: when it does, the result is that very view (nothing else is written).
 */
export function canonicalizeChecked(body: Uint8Array, version: PyVersionInfo, relFilename: string, reserve = 0, out: Output = {}): Uint8Array {
  const graph = parseMarshal(body, version);
  const relName = encodeUtf8Surrogatepass(relFilename);
  const canon = guardStack(() => encodeCanonical(graph, relName, body.length, reserve, out));
  checkCanonicalGraph(graph, canon, version, relName);
  return canon;
}

/**
 * co_filename of the root code object, as a JS string (lone surrogates kept). Throws
 * EMARSHAL for an unreadable stream, ECANON when the root isn't a code object.
 */
export function readCodeFilename(body: Uint8Array, version: PyVersionInfo): string {
  const { root } = parseMarshal(body, version);
  if (root.kind !== 'code') throw notCode(root);
  const fn = root.items[root.layout.filenameIndex] as StrNode;
  return decodeUtf8Surrogatepass(payload(fn));
}

/** A str node for the UTF-8 (surrogatepass) bytes `src`, not interned, with id `id`. */
function strNode(src: Uint8Array, id: number): StrNode {
  const n = payloadNode(K_STR, id, -1, -1, TYPE_SHORT_ASCII, false, src, 0, src.length);
  n.ascii = classifyUtf8(src) === 1;
  return asNode(n) as StrNode;
}

function notCode(root: MNode): PycstoreError {
  return new PycstoreError('ECANON', `the root object is a ${root.kind}, not a code object`, { data: { kind: root.kind } });
}

/**
 * The canonical encoding of a parsed graph with every co_filename set to `relFilename`.
 * The graph is not modified (merged values, the new filename and set order live in a
 * GraphView), so the caller can check the result against it. Exported for tests.
 */
export function canonicalizeGraph(graph: MarshalGraph, relFilename: string, sizeHint = 1024): Uint8Array {
  return encodeCanonical(graph, encodeUtf8Surrogatepass(relFilename), sizeHint);
}

/**
 * Where canonicalizeChecked makes its result: `room` gives a buffer of at least `size` bytes to make
 * it in; `expect` is a body it probably equals (another copy's), returned itself — untouched, its
 * buffer may be shared — when it does.
 */
export interface Output {
  readonly room?: ((size: number) => Uint8Array) | undefined;
  readonly expect?: Uint8Array | undefined;
}

/** canonicalizeGraph with the new co_filename already encoded (UTF-8, surrogatepass). */
function encodeCanonical(graph: MarshalGraph, relName: Uint8Array, sizeHint: number, reserve = 0, out: Output = {}): Uint8Array {
  const root = graph.root;
  if (root.k !== K_CODE) throw notCode(root);
  const relNode = strNode(relName, graph.nodeCount);
  const { reps, interned, sets, finalUses } = prepare(graph, relNode);
  const setOrder = new Map<number, MNode[]>();
  const encoder = new Encoder(graph.nodeCount + 1, { reps, interned, filename: relNode, setOrder });
  // Inner sets come first in `sets`, so an element's standalone encoding is already final.
  for (const set of sets) setOrder.set(set.id, sortedElements(set, reps, encoder));
  return encoder.encode(root, { forceRootRef: true, sizeHint: sizeHint + 64, uses: finalUses, reserve, room: out.room, expect: out.expect });
}

interface Prepared {
  reps: (MNode | undefined)[];
  interned: Uint8Array;
  sets: SeqNode[];
  finalUses: Int32Array;
}

/**
 * One walk over the graph, children before parents: find the representative of every
 * node (equal leaves merged, then equal immutable containers: tuple, frozenset, slice,
 * bottom-up), check the filename rules, count the slots referring to each node of the
 * graph to write, and list its sets (inner sets first).
 */
function prepare(graph: MarshalGraph, relNode: StrNode): Prepared {
  const n = graph.nodeCount;
  const finalUses = new Int32Array(n + 1);
  /**
   * The representative of each node, once known (also marks containers walked). A
   * co_filename str that is never in another slot never gets one.
   */
  const reps: (MNode | undefined)[] = new Array<MNode | undefined>(n + 1).fill(undefined);
  /** The distinct co_filename str objects, in order of first sight (marked in filenameSeen). */
  const filenameNodes: StrNode[] = [];
  const filenameSeen = new Uint8Array(n);
  const leaves = new LeafTable(n, n + 1); // fewer leaves than nodes: it never grows
  const containers = new ContainerTable(n >> 2, reps);
  const sets: SeqNode[] = [];

  const slot = (child: MNode): void => {
    const id = child.id;
    if (id < 0) return;
    let rep = reps[id];
    if (rep === undefined) {
      if (isLeaf(child)) rep = leaves.intern(child);
      else {
        reps[id] = child; // walking: a ref back to it can't happen (the reader refuses cycles)
        walk(child);
        rep = mergeContainer(child);
      }
      reps[id] = rep;
    }
    finalUses[rep.id]!++;
  };

  const mergeContainer = (node: MNode): MNode => {
    const k = node.k;
    if (k !== K_TUPLE && k !== K_FROZENSET && k !== K_SLICE) {
      if (k === K_SET) sets.push(node);
      return node;
    }
    const rep = containers.intern(node);
    if (rep === node) {
      if (k === K_FROZENSET) sets.push(node);
    } else {
      // `node` is not written: its slots no longer refer to its children.
      for (const x of node.items) if (x.id >= 0) finalUses[reps[x.id]!.id]!--;
    }
    return rep;
  };

  const walk = (node: MNode): void => {
    const k = node.k;
    if (k === K_CODE) {
      const objs = node.items;
      const fi = node.layout.filenameIndex;
      for (let i = 0; i < objs.length; i++) {
        if (i !== fi) {
          slot(objs[i]!);
          continue;
        }
        const fn = objs[i] as StrNode; // the reader checked the type
        if (filenameSeen[fn.id] === 0) {
          filenameSeen[fn.id] = 1;
          const first = filenameNodes[0];
          if (first !== undefined && !samePayload(first, fn)) {
            throw new PycstoreError('ECANON', 'code objects carry different co_filename values', {
              data: {
                filenames: [decodeUtf8Surrogatepass(payload(first)), decodeUtf8Surrogatepass(payload(fn))],
                offset: node.offset,
              },
            });
          }
          filenameNodes.push(fn);
        }
        // The new name is one object of its own, never merged with an equal constant:
        // the co_filename string must not be shared with another slot (canonicalize
        // refuses that), so that canonicalizing the canonical form gives it back unchanged.
        finalUses[relNode.id]!++;
      }
    } else if (k > K_STR) {
      const items = (node as ContainerNode).items;
      for (let i = 0; i < items.length; i++) slot(items[i]!);
    }
  };

  const root = graph.root;
  reps[root.id] = root;
  walk(root);
  for (const fn of filenameNodes) {
    if (reps[fn.id] !== undefined) {
      throw new PycstoreError('ECANON', 'the co_filename string is also used outside co_filename', {
        data: { filename: decodeUtf8Surrogatepass(payload(fn)), offset: fn.offset },
      });
    }
  }
  return { reps, interned: leaves.interned, sets, finalUses };
}

/** A set's elements (representatives) in the order of their standalone canonical encoding. */
function sortedElements(set: SeqNode, reps: (MNode | undefined)[], encoder: Encoder): MNode[] {
  const elems = set.items.map((x) => (x.id >= 0 ? reps[x.id]! : x));
  if (elems.length < 2) return elems;
  const keyed = elems.map((node) => ({ node, key: encoder.encode(node) }));
  keyed.sort((a, b) => compareBytes(a.key, b.key));
  return keyed.map((x) => x.node);
}
