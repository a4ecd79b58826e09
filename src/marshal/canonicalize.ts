/**
 * The canonical form of a pyc body: co_filename relative to the import root, and a
 * deterministic marshal encoding (see index.ts for the contract and writer.ts for the
 * encoding rules).
 */
import { PycstoreError } from '../errors.js';
import type { PyVersionInfo } from '../pyc/magic.js';
import { ContainerTable, LeafTable } from './merge.js';
import { asNode, payloadNode } from './node.js';
import { guardStack, parseMarshal } from './reader.js';
import { classifyUtf8, compareBytes, decodeUtf8Surrogatepass, encodeUtf8Surrogatepass, rangeEqual } from './strings.js';
import {
  isLeaf,
  K_CODE,
  K_FROZENSET,
  K_SET,
  K_SLICE,
  K_STR,
  K_TUPLE,
  payload,
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
 * co_filename of the root code object, as a JS string (lone surrogates kept). Throws
 * EMARSHAL for an unreadable stream, ECANON when the root isn't a code object.
 */
export function readCodeFilename(body: Uint8Array, version: PyVersionInfo): string {
  const { root } = parseMarshal(body, version);
  if (root.kind !== 'code') throw notCode(root);
  const fn = root.items[root.layout.filenameIndex] as StrNode;
  return decodeUtf8Surrogatepass(payload(fn));
}

/** A str node for `text`, not interned, outside the parsed id range (id = `id`). */
export function makeStrNode(text: string, id: number): StrNode {
  const src = encodeUtf8Surrogatepass(text);
  const n = payloadNode(K_STR, id, -1, -1, TYPE_SHORT_ASCII, false, src, 0, src.length);
  n.ascii = classifyUtf8(src) === 1;
  return asNode(n) as StrNode;
}

function notCode(root: MNode): PycstoreError {
  return new PycstoreError('ECANON', `the root object is a ${root.kind}, not a code object`, { data: { kind: root.kind } });
}

/**
 * Canonicalize a graph this module parsed itself (it is modified in place: merged
 * constants, sorted sets, the new filename). Exported for the benchmark and tests.
 */
export function canonicalizeGraph(graph: MarshalGraph, relFilename: string, sizeHint = 1024): Uint8Array {
  const root = graph.root;
  if (root.k !== K_CODE) throw notCode(root);
  const relNode = makeStrNode(relFilename, graph.nodeCount);
  const { sets, finalUses } = prepare(graph, relNode);
  const encoder = new Encoder(graph.nodeCount + 1);
  for (const set of sets) sortSet(set, encoder);
  return encoder.encode(root, { forceRootRef: true, sizeHint: sizeHint + 64, uses: finalUses });
}

/**
 * One walk over the graph, children before parents: replace co_filename, merge equal
 * leaves and then equal immutable containers (tuple, frozenset, slice) bottom-up, check
 * the filename rules, count the slots referring to each node of the final graph, and
 * list the sets (inner sets first, so they get sorted before the sets that hold them).
 */
function prepare(graph: MarshalGraph, relNode: StrNode): { sets: SeqNode[]; finalUses: Int32Array } {
  const n = graph.nodeCount;
  const uses = new Int32Array(n);
  const finalUses = new Int32Array(n + 1);
  /** The merged representative of each node, once known (also marks containers walked). */
  const reps: (MNode | undefined)[] = new Array<MNode | undefined>(n).fill(undefined);
  const filenameUses = new Int32Array(n);
  const filenameNodes: StrNode[] = [];
  const leaves = new LeafTable(n);
  const containers = new ContainerTable(n >> 2);
  const sets: SeqNode[] = [];

  const slot = (child: MNode): MNode => {
    const id = child.id;
    if (id < 0) return child;
    uses[id]!++;
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
    return rep;
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
      // `node` drops out of the graph: its slots no longer refer to its children.
      for (const x of node.items) if (x.id >= 0) finalUses[x.id]!--;
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
          objs[i] = slot(objs[i]!);
          continue;
        }
        const fn = objs[i] as StrNode; // the reader checked the type
        uses[fn.id]!++;
        if (filenameUses[fn.id]!++ === 0) {
          const first = filenameNodes[0];
          if (first !== undefined && !sameStr(first, fn)) {
            throw new PycstoreError('ECANON', 'code objects carry different co_filename values', {
              data: {
                filenames: [decodeUtf8Surrogatepass(payload(first)), decodeUtf8Surrogatepass(payload(fn))],
                offset: node.offset,
              },
            });
          }
          filenameNodes.push(fn);
        }
        // The new name stays its own object, never merged with an equal constant: the
        // co_filename string must not be shared with another slot (canonicalize refuses
        // that), so that canonicalizing the canonical form gives it back unchanged.
        finalUses[relNode.id]!++;
        objs[i] = relNode;
      }
    } else if (k > K_STR) {
      const items = (node as ContainerNode).items;
      for (let i = 0; i < items.length; i++) items[i] = slot(items[i]!);
    }
  };

  const root = graph.root;
  reps[root.id] = root;
  walk(root);
  for (const fn of filenameNodes) {
    if (uses[fn.id] !== filenameUses[fn.id]) {
      throw new PycstoreError('ECANON', 'the co_filename string is also used outside co_filename', {
        data: { filename: decodeUtf8Surrogatepass(payload(fn)), offset: fn.offset },
      });
    }
  }
  return { sets, finalUses };
}

/** Order set elements by their standalone canonical encoding (bytes order). */
function sortSet(set: SeqNode, encoder: Encoder): void {
  const items = set.items;
  if (items.length < 2) return;
  const keyed = items.map((node) => ({ node, key: encoder.encode(node) }));
  keyed.sort((a, b) => compareBytes(a.key, b.key));
  for (let i = 0; i < keyed.length; i++) items[i] = keyed[i]!.node;
}

function sameStr(a: StrNode, b: StrNode): boolean {
  return a.len === b.len && rangeEqual(a.src, a.start, b.src, b.start, a.len);
}
