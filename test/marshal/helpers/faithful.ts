/**
 * Re-serialize a parsed graph the way it was written: same type codes, same FLAG_REF
 * bits, refs where the stream had refs, leaf payloads copied from the input. For a stream
 * CPython wrote, the result must be byte-identical: that proves the reader saw every
 * object, flag, size and reference where CPython put it.
 */
import { ByteSink } from '../../../src/marshal/sink.js';
import type { MarshalGraph, MNode } from '../../../src/marshal/types.js';

/**
 * `filename`: when given, every code object's co_filename is written as this str instead
 * (same type code family, same flag): a rewrite of co_filename and nothing else, to show
 * what canonicalization has to do beyond it.
 */
export function writeFaithful(body: Uint8Array, graph: MarshalGraph, filename?: string): Uint8Array {
  const newName = filename === undefined ? undefined : new TextEncoder().encode(filename);
  const filenameNodes = new Set<MNode>();
  const s = new ByteSink(body.length + 16);
  const refIdx = new Map<MNode, number>();
  let next = 0;
  const emit = (n: MNode): void => {
    if (n.id < 0) {
      s.byte(n.typeCode);
      return;
    }
    const r = refIdx.get(n);
    if (r !== undefined) {
      s.byte(0x72);
      s.i32(r);
      return;
    }
    if (n.flagged) refIdx.set(n, next++);
    s.byte(n.typeCode | (n.flagged ? 0x80 : 0));
    if (newName && filenameNodes.has(n)) {
      if (n.typeCode === 0x7a || n.typeCode === 0x5a) s.byte(newName.length);
      else s.i32(newName.length);
      s.bytes(newName);
      return;
    }
    switch (n.kind) {
      case 'tuple':
        if (n.typeCode === 0x29) s.byte(n.items.length);
        else s.i32(n.items.length);
        n.items.forEach(emit);
        return;
      case 'list':
      case 'set':
      case 'frozenset':
        s.i32(n.items.length);
        n.items.forEach(emit);
        return;
      case 'slice':
        n.items.forEach(emit);
        return;
      case 'dict':
      case 'frozendict':
        n.items.forEach(emit); // keys and values interleaved
        s.byte(0x30);
        return;
      case 'code': {
        filenameNodes.add(n.items[n.layout.filenameIndex]!);
        let ii = 0;
        let oi = 0;
        for (const f of n.layout.fields) {
          if (f.type === 'int') s.i32(n.ints[ii++]!);
          else emit(n.items[oi++]!);
        }
        return;
      }
      default:
        s.bytes(body.subarray(n.offset + 1, n.end)); // leaf payload as written
    }
  };
  emit(graph.root);
  return s.take();
}
