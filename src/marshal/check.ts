/**
 * The structural check run on every canonical object before it is stored: parse the
 * original and the canonical stream independently and walk both graphs side by side.
 *
 * They must hold the same objects, kind for kind and value for value (ints by value,
 * floats/complexes bit for bit, str/bytes by content, code objects field by field), up to
 * the documented canonical changes only:
 *   - co_filename: the original's must be the same string in every code object, the
 *     canonical one must be `relFilename`;
 *   - FLAG_REF, ref numbering, the choice of type code for a value, and sharing (leaf
 *     merging) are not compared;
 *   - the interned bit of a str is not compared (merging ORs it);
 *   - set/frozenset elements are compared as multisets.
 * The first difference throws ECANON with data.path, e.g. "co_consts[3].co_names[0]".
 */
import { PycstoreError } from '../errors.js';
import type { PyVersionInfo } from '../pyc/magic.js';
import { toHex } from '../pyc/header.js';
import { guardStack, parseMarshal } from './reader.js';
import { decodeUtf8Surrogatepass, encodeUtf8Surrogatepass, rangeEqual } from './strings.js';
import {
  K_CODE,
  K_DICT,
  K_FROZENDICT,
  K_FROZENSET,
  K_INT,
  K_LONG,
  K_SET,
  K_STR,
  payload,
  samePayload,
  type CodeNode,
  type ContainerNode,
  type IntNode,
  type LongNode,
  type MarshalGraph,
  type MNode,
  type PayloadLeaf,
  type SeqNode,
  type StrNode,
} from './types.js';

/** Largest value key computed for one set element (a guard against pathological sharing). */
const MAX_KEY_CHARS = 1 << 20;

export function checkCanonical(
  original: Uint8Array,
  canonical: Uint8Array,
  version: PyVersionInfo,
  relFilename: string,
): void {
  checkCanonicalGraph(parseMarshal(original, version), canonical, version, encodeUtf8Surrogatepass(relFilename));
}

/**
 * checkCanonical against an original already parsed (and not modified since: the
 * canonicalizer never modifies its graph), with `relName` already encoded (UTF-8,
 * surrogatepass). The canonical bytes are always parsed here.
 */
export function checkCanonicalGraph(a: MarshalGraph, canonical: Uint8Array, version: PyVersionInfo, relName: Uint8Array): void {
  const b = parseMarshal(canonical, version);
  if (a.root.k !== K_CODE) {
    throw new PycstoreError('ECANON', `the original root is a ${a.root.kind}, not a code object`, { data: { path: '' } });
  }
  const origFilename = a.root.items[a.root.layout.filenameIndex] as StrNode;
  const checker = new Checker(origFilename, relName, a.nodeCount, b.nodeCount + 1);
  try {
    guardStack(() => checker.same(a.root, b.root));
  } catch (err) {
    if (err instanceof Mismatch) {
      const path = checker.describePath();
      throw new PycstoreError('ECANON', `canonical form differs from the original at ${path || '<root>'}: ${err.reason}`, {
        data: { path, reason: err.reason },
      });
    }
    throw err;
  }
}

class Mismatch extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

class Checker {
  /** matched[o.id] = c.id + 1 for the first container pair compared. */
  private readonly matched: Int32Array;
  /** Further pairs (an original node met next to a different canonical node). */
  private readonly seen = new Set<number>();
  /** The path being compared: container and child index, per level. */
  private readonly pathNodes: MNode[] = [];
  private readonly pathIdx: number[] = [];
  private depth = 0;

  constructor(
    private readonly origFilename: StrNode,
    private readonly relName: Uint8Array,
    origCount: number,
    private readonly idSpan: number,
  ) {
    this.matched = new Int32Array(origCount);
  }

  /** e.g. "co_consts[3].co_names[0]" */
  describePath(): string {
    let s = '';
    for (let d = 0; d < this.depth; d++) {
      const n = this.pathNodes[d]!;
      const i = this.pathIdx[d]!;
      if (n.k === K_CODE) s += `.${n.layout.objNames[i]}`;
      else if (n.k === K_DICT || n.k === K_FROZENDICT) s += i % 2 === 0 ? `.key(${i >> 1})` : `.value(${i >> 1})`;
      else if (n.k === K_SET || n.k === K_FROZENSET) s += `{${i}}`;
      else s += `[${i}]`;
    }
    return s.replace(/^\./, '');
  }

  private child(parent: MNode, idx: number, o: MNode, c: MNode): void {
    const d = this.depth++;
    this.pathNodes[d] = parent;
    this.pathIdx[d] = idx;
    this.same(o, c);
    this.depth = d;
  }

  same(o: MNode, c: MNode): void {
    const k = o.k;
    if (k !== c.k) throw new Mismatch(`${o.kind} became ${c.kind}`);
    if (k < K_INT) return; // singletons
    if (k === K_INT) {
      if ((o as IntNode).value !== (c as IntNode).value) {
        throw new Mismatch(`int ${(o as IntNode).value} became ${(c as IntNode).value}`);
      }
      return;
    }
    // Each (original, canonical) pair is compared once: pycs refer to the same names and
    // constants again and again (half of all slots of a 3.8 pyc are refs).
    const m = this.matched[o.id]!;
    if (m === c.id + 1) return;
    if (m === 0) this.matched[o.id] = c.id + 1;
    else if (k > K_STR) {
      const key = o.id * this.idSpan + c.id;
      if (this.seen.has(key)) return;
      this.seen.add(key);
    }
    if (k <= K_STR) {
      const op = o as PayloadLeaf;
      const cp = c as PayloadLeaf;
      if (!samePayload(op, cp) || (k === K_LONG && (op as LongNode).negative !== (cp as LongNode).negative)) {
        throw new Mismatch(k === K_STR ? `str ${strText(op as StrNode)} became ${strText(cp as StrNode)}` : `${o.kind} value differs`);
      }
      return;
    }
    if (k === K_CODE) {
      this.sameCode(o as CodeNode, c as CodeNode);
    } else if (k === K_SET || k === K_FROZENSET) {
      this.sameSet(o as SeqNode, (c as SeqNode).items);
    } else {
      // tuple, list, slice; dict and frozendict (keys and values interleaved, in order)
      const oi = (o as ContainerNode).items;
      const ci = (c as ContainerNode).items;
      if (oi.length !== ci.length) throw new Mismatch(`${o.kind} of ${oi.length} became ${ci.length}`);
      for (let i = 0; i < ci.length; i++) this.child(o, i, oi[i]!, ci[i]!);
    }
  }

  private sameSet(o: SeqNode, ci: readonly MNode[]): void {
    const oi = o.items;
    if (oi.length !== ci.length) throw new Mismatch(`${o.kind} of ${oi.length} became ${ci.length}`);
    const byKey = (x: { k: string }, y: { k: string }): number => (x.k < y.k ? -1 : x.k > y.k ? 1 : 0);
    const ok = oi.map((n) => ({ n, k: valueKey(n) })).sort(byKey);
    const ck = ci.map((n) => ({ n, k: valueKey(n) })).sort(byKey);
    for (let i = 0; i < ok.length; i++) {
      if (ok[i]!.k !== ck[i]!.k) throw new Mismatch(`${o.kind} elements differ`);
      this.child(o, i, ok[i]!.n, ck[i]!.n);
    }
  }

  private sameCode(o: CodeNode, c: CodeNode): void {
    const layout = o.layout;
    if (c.layout !== layout) throw new Mismatch('code layout differs');
    for (let i = 0; i < o.ints.length; i++) {
      if (o.ints[i] !== c.ints[i]) throw new Mismatch(`${layout.intNames[i]} ${o.ints[i]} became ${c.ints[i]}`);
    }
    const fi = layout.filenameIndex;
    for (let i = 0; i < o.items.length; i++) {
      if (i !== fi) {
        this.child(o, i, o.items[i]!, c.items[i]!);
        continue;
      }
      const of = o.items[i] as StrNode;
      const cf = c.items[i]!;
      const d = this.depth++;
      this.pathNodes[d] = o;
      this.pathIdx[d] = i;
      if (!samePayload(of, this.origFilename)) {
        throw new Mismatch(`original co_filename ${strText(of)} differs from the root's`);
      }
      const rel = this.relName;
      if (cf.k !== K_STR || cf.len !== rel.length || !rangeEqual(cf.src, cf.start, rel, 0, rel.length)) {
        throw new Mismatch('canonical co_filename is not the relative filename');
      }
      this.depth = d;
    }
  }
}

function strText(n: StrNode): string {
  return JSON.stringify(decodeUtf8Surrogatepass(payload(n)));
}

/**
 * A string that is equal for two nodes exactly when they hold the same value, ignoring
 * sharing, interned bits and type-code choice (used to pair up set elements).
 */
function valueKey(node: MNode): string {
  const parts: string[] = [];
  let size = 0;
  const hex = (n: PayloadLeaf): string => toHex(payload(n));
  const add = (s: string): void => {
    size += s.length;
    if (size > MAX_KEY_CHARS) {
      throw new PycstoreError('ECANON', 'a set element is too large to compare', { data: { path: '' } });
    }
    parts.push(s);
  };
  const walk = (n: MNode): void => {
    switch (n.kind) {
      case 'int':
        add(`i${n.value};`);
        return;
      case 'long':
        add(`l${n.negative ? '-' : '+'}${hex(n)};`);
        return;
      case 'float':
      case 'complex':
      case 'bytes':
      case 'str':
        add(`${n.kind[0]}${n.len}:${hex(n)};`);
        return;
      case 'tuple':
      case 'list':
      case 'set':
      case 'frozenset':
      case 'slice': {
        add(`${n.kind}(`);
        if (n.kind === 'set' || n.kind === 'frozenset') for (const key of n.items.map(valueKey).sort()) add(key);
        else for (const x of n.items) walk(x);
        add(')');
        return;
      }
      case 'dict':
      case 'frozendict':
        add(`${n.kind}(`);
        for (const x of n.items) walk(x);
        add(')');
        return;
      case 'code':
        add(`code(${n.ints.join(',')}`);
        n.items.forEach((x, i) => (i === n.layout.filenameIndex ? add('<filename>') : walk(x)));
        add(')');
        return;
      default:
        add(`${n.kind};`);
    }
  };
  walk(node);
  return parts.join('');
}
