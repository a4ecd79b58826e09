/**
 * SipHash-c-d over bytes with a 128-bit key, as CPython's `_imp.source_hash`
 * uses it for hash-based pycs: SipHash-2-4 on 3.7–3.10, SipHash-1-3 on 3.11+,
 * key = the 4 magic bytes followed by 12 zero bytes, result written little-endian.
 *
 * Pure 32-bit arithmetic (each 64-bit lane is a hi/lo pair) so no BigInt in the hot loop.
 */
import type { SipRounds } from './magic.js';

// State: v0..v3 as [lo, hi] pairs in one typed array.
const V = new Uint32Array(8);

function add(a: number, b: number): void {
  // V[a] += V[b] (64-bit)
  const lo = (V[a]! + V[b]!) >>> 0;
  const carry = lo < V[a]! ? 1 : 0;
  V[a + 1] = (V[a + 1]! + V[b + 1]! + carry) >>> 0;
  V[a] = lo;
}

function rotl(a: number, n: number): void {
  const lo = V[a]!;
  const hi = V[a + 1]!;
  if (n === 32) {
    V[a] = hi;
    V[a + 1] = lo;
    return;
  }
  V[a + 1] = ((hi << n) | (lo >>> (32 - n))) >>> 0;
  V[a] = ((lo << n) | (hi >>> (32 - n))) >>> 0;
}

function xor(a: number, b: number): void {
  V[a] = (V[a]! ^ V[b]!) >>> 0;
  V[a + 1] = (V[a + 1]! ^ V[b + 1]!) >>> 0;
}

const V0 = 0;
const V1 = 2;
const V2 = 4;
const V3 = 6;

function sipRound(): void {
  add(V0, V1);
  rotl(V1, 13);
  xor(V1, V0);
  rotl(V0, 32);
  add(V2, V3);
  rotl(V3, 16);
  xor(V3, V2);
  add(V0, V3);
  rotl(V3, 21);
  xor(V3, V0);
  add(V2, V1);
  rotl(V1, 17);
  xor(V1, V2);
  rotl(V2, 32);
}

function absorb(lo: number, hi: number, c: number): void {
  V[V3] = (V[V3]! ^ lo) >>> 0;
  V[V3 + 1] = (V[V3 + 1]! ^ hi) >>> 0;
  for (let i = 0; i < c; i++) sipRound();
  V[V0] = (V[V0]! ^ lo) >>> 0;
  V[V0 + 1] = (V[V0 + 1]! ^ hi) >>> 0;
}

/**
 * SipHash of `data` with the 16-byte `key`; returns the 8-byte little-endian digest.
 */
export function siphash(key: Uint8Array, data: Uint8Array, rounds: SipRounds): Uint8Array {
  if (key.length !== 16) throw new RangeError('siphash key must be 16 bytes');
  const c = rounds === '2-4' ? 2 : 1;
  const d = rounds === '2-4' ? 4 : 3;
  const kv = new DataView(key.buffer, key.byteOffset, 16);
  const k0lo = kv.getUint32(0, true);
  const k0hi = kv.getUint32(4, true);
  const k1lo = kv.getUint32(8, true);
  const k1hi = kv.getUint32(12, true);
  V[V0] = (k0lo ^ 0x70736575) >>> 0;
  V[V0 + 1] = (k0hi ^ 0x736f6d65) >>> 0;
  V[V1] = (k1lo ^ 0x6e646f6d) >>> 0;
  V[V1 + 1] = (k1hi ^ 0x646f7261) >>> 0;
  V[V2] = (k0lo ^ 0x6e657261) >>> 0;
  V[V2 + 1] = (k0hi ^ 0x6c796765) >>> 0;
  V[V3] = (k1lo ^ 0x79746573) >>> 0;
  V[V3 + 1] = (k1hi ^ 0x74656462) >>> 0;

  const len = data.length;
  const dv = new DataView(data.buffer, data.byteOffset, len);
  const end = len - (len % 8);
  for (let i = 0; i < end; i += 8) {
    absorb(dv.getUint32(i, true), dv.getUint32(i + 4, true), c);
  }
  // Last block: remaining bytes little-endian, length (mod 256) in the top byte.
  let lo = 0;
  let hi = ((len & 0xff) << 24) >>> 0;
  const rest = len - end;
  for (let j = 0; j < rest; j++) {
    const b = data[end + j]!;
    if (j < 4) lo = (lo | (b << (8 * j))) >>> 0;
    else hi = (hi | (b << (8 * (j - 4)))) >>> 0;
  }
  absorb(lo, hi, c);

  V[V2] = (V[V2]! ^ 0xff) >>> 0;
  for (let i = 0; i < d; i++) sipRound();
  const outLo = (V[V0]! ^ V[V1]! ^ V[V2]! ^ V[V3]!) >>> 0;
  const outHi = (V[V0 + 1]! ^ V[V1 + 1]! ^ V[V2 + 1]! ^ V[V3 + 1]!) >>> 0;
  const out = new Uint8Array(8);
  const ov = new DataView(out.buffer);
  ov.setUint32(0, outLo, true);
  ov.setUint32(4, outHi, true);
  return out;
}
