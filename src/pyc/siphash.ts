/**
 * SipHash-c-d over bytes with a 128-bit key, as CPython's `_imp.source_hash`
 * uses it for hash-based pycs: SipHash-2-4 on 3.7–3.10, SipHash-1-3 on 3.11+,
 * key = the 4 magic bytes followed by 12 zero bytes, result written little-endian.
 *
 * Pure int32 arithmetic (values kept as int32 so V8 never boxes them as doubles): each 64-bit lane is a (hi, lo) pair of local
 * variables and the SipRound is written out where it is used (a closure over
 * the locals would move them to the heap: 3× slower), so there is no BigInt
 * and no allocation in the loop.
 */
import type { SipRounds } from './magic.js';

/**
 * SipHash of `data` with the 16-byte `key`; returns the 8-byte little-endian digest.
 */
export function siphash(key: Uint8Array, data: Uint8Array, rounds: SipRounds): Uint8Array {
  if (key.length !== 16) throw new RangeError('siphash key must be 16 bytes');
  const c = rounds === '2-4' ? 2 : 1;
  const d = rounds === '2-4' ? 4 : 3;
  const kv = new DataView(key.buffer, key.byteOffset, 16);
  const k0l = kv.getUint32(0, true);
  const k0h = kv.getUint32(4, true);
  const k1l = kv.getUint32(8, true);
  const k1h = kv.getUint32(12, true);
  let v0l = (k0l ^ 0x70736575) | 0;
  let v0h = (k0h ^ 0x736f6d65) | 0;
  let v1l = (k1l ^ 0x6e646f6d) | 0;
  let v1h = (k1h ^ 0x646f7261) | 0;
  let v2l = (k0l ^ 0x6e657261) | 0;
  let v2h = (k0h ^ 0x6c796765) | 0;
  let v3l = (k1l ^ 0x79746573) | 0;
  let v3h = (k1h ^ 0x74656462) | 0;

  let lo = 0;
  let t = 0;

  const len = data.length;
  const end = len - (len % 8);
  const b = data;
  for (let i = 0; i < end; i += 8) {
    const ml = (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) | 0;
    const mh = (b[i + 4]! | (b[i + 5]! << 8) | (b[i + 6]! << 16) | (b[i + 7]! << 24)) | 0;
    v3l = (v3l ^ ml) | 0;
    v3h = (v3h ^ mh) | 0;
    for (let r = 0; r < c; r++) {
      // SipRound
      lo = (v0l + v1l) | 0; v0h = (v0h + v1h + ((lo >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0; v0l = lo;
      t = ((v1h << 13) | (v1l >>> 19)) | 0; v1l = ((v1l << 13) | (v1h >>> 19)) | 0; v1h = t;
      v1l = (v1l ^ v0l) | 0; v1h = (v1h ^ v0h) | 0;
      t = v0l; v0l = v0h; v0h = t;
      lo = (v2l + v3l) | 0; v2h = (v2h + v3h + ((lo >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0; v2l = lo;
      t = ((v3h << 16) | (v3l >>> 16)) | 0; v3l = ((v3l << 16) | (v3h >>> 16)) | 0; v3h = t;
      v3l = (v3l ^ v2l) | 0; v3h = (v3h ^ v2h) | 0;
      lo = (v0l + v3l) | 0; v0h = (v0h + v3h + ((lo >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0; v0l = lo;
      t = ((v3h << 21) | (v3l >>> 11)) | 0; v3l = ((v3l << 21) | (v3h >>> 11)) | 0; v3h = t;
      v3l = (v3l ^ v0l) | 0; v3h = (v3h ^ v0h) | 0;
      lo = (v2l + v1l) | 0; v2h = (v2h + v1h + ((lo >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0; v2l = lo;
      t = ((v1h << 17) | (v1l >>> 15)) | 0; v1l = ((v1l << 17) | (v1h >>> 15)) | 0; v1h = t;
      v1l = (v1l ^ v2l) | 0; v1h = (v1h ^ v2h) | 0;
      t = v2l; v2l = v2h; v2h = t;
    }
    v0l = (v0l ^ ml) | 0;
    v0h = (v0h ^ mh) | 0;
  }
  // Last block: remaining bytes little-endian, length (mod 256) in the top byte.
  let ml = 0;
  let mh = ((len & 0xff) << 24) | 0;
  for (let j = 0; j < len - end; j++) {
    const x = b[end + j]!;
    if (j < 4) ml = (ml | (x << (8 * j))) | 0;
    else mh = (mh | (x << (8 * (j - 4)))) | 0;
  }
  v3l = (v3l ^ ml) | 0;
  v3h = (v3h ^ mh) | 0;
  for (let r = 0; r < c; r++) {
      // SipRound
      lo = (v0l + v1l) | 0; v0h = (v0h + v1h + ((lo >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0; v0l = lo;
      t = ((v1h << 13) | (v1l >>> 19)) | 0; v1l = ((v1l << 13) | (v1h >>> 19)) | 0; v1h = t;
      v1l = (v1l ^ v0l) | 0; v1h = (v1h ^ v0h) | 0;
      t = v0l; v0l = v0h; v0h = t;
      lo = (v2l + v3l) | 0; v2h = (v2h + v3h + ((lo >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0; v2l = lo;
      t = ((v3h << 16) | (v3l >>> 16)) | 0; v3l = ((v3l << 16) | (v3h >>> 16)) | 0; v3h = t;
      v3l = (v3l ^ v2l) | 0; v3h = (v3h ^ v2h) | 0;
      lo = (v0l + v3l) | 0; v0h = (v0h + v3h + ((lo >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0; v0l = lo;
      t = ((v3h << 21) | (v3l >>> 11)) | 0; v3l = ((v3l << 21) | (v3h >>> 11)) | 0; v3h = t;
      v3l = (v3l ^ v0l) | 0; v3h = (v3h ^ v0h) | 0;
      lo = (v2l + v1l) | 0; v2h = (v2h + v1h + ((lo >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0; v2l = lo;
      t = ((v1h << 17) | (v1l >>> 15)) | 0; v1l = ((v1l << 17) | (v1h >>> 15)) | 0; v1h = t;
      v1l = (v1l ^ v2l) | 0; v1h = (v1h ^ v2h) | 0;
      t = v2l; v2l = v2h; v2h = t;
  }
  v0l = (v0l ^ ml) | 0;
  v0h = (v0h ^ mh) | 0;

  v2l = (v2l ^ 0xff) | 0;
  for (let r = 0; r < d; r++) {
      // SipRound
      lo = (v0l + v1l) | 0; v0h = (v0h + v1h + ((lo >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0; v0l = lo;
      t = ((v1h << 13) | (v1l >>> 19)) | 0; v1l = ((v1l << 13) | (v1h >>> 19)) | 0; v1h = t;
      v1l = (v1l ^ v0l) | 0; v1h = (v1h ^ v0h) | 0;
      t = v0l; v0l = v0h; v0h = t;
      lo = (v2l + v3l) | 0; v2h = (v2h + v3h + ((lo >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0; v2l = lo;
      t = ((v3h << 16) | (v3l >>> 16)) | 0; v3l = ((v3l << 16) | (v3h >>> 16)) | 0; v3h = t;
      v3l = (v3l ^ v2l) | 0; v3h = (v3h ^ v2h) | 0;
      lo = (v0l + v3l) | 0; v0h = (v0h + v3h + ((lo >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0; v0l = lo;
      t = ((v3h << 21) | (v3l >>> 11)) | 0; v3l = ((v3l << 21) | (v3h >>> 11)) | 0; v3h = t;
      v3l = (v3l ^ v0l) | 0; v3h = (v3h ^ v0h) | 0;
      lo = (v2l + v1l) | 0; v2h = (v2h + v1h + ((lo >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0; v2l = lo;
      t = ((v1h << 17) | (v1l >>> 15)) | 0; v1l = ((v1l << 17) | (v1h >>> 15)) | 0; v1h = t;
      v1l = (v1l ^ v2l) | 0; v1h = (v1h ^ v2h) | 0;
      t = v2l; v2l = v2h; v2h = t;
  }
  const out = new Uint8Array(8);
  const ov = new DataView(out.buffer);
  ov.setUint32(0, (v0l ^ v1l ^ v2l ^ v3l) >>> 0, true);
  ov.setUint32(4, (v0h ^ v1h ^ v2h ^ v3h) >>> 0, true);
  return out;
}
