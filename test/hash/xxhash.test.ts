import { randomBytes } from 'node:crypto';
import xxhash from 'xxhash-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { initHash, xxh64Hex } from '../../src/hash/xxhash.js';

describe('xxh64Hex', () => {
  let whole: (b: Uint8Array) => string;
  beforeAll(async () => {
    await initHash();
    const api = await xxhash(); // an instance of its own, hashing each input in one call
    whole = (b) => api.h64Raw(b).toString(16).padStart(16, '0');
  });

  it('hashes inputs bigger than its piece size in pieces, to the same hash as in one call', () => {
    const big = new Uint8Array(randomBytes(5 * 1024 * 1024 + 12345));
    expect(xxh64Hex(big)).toBe(whole(big));
    const exact = big.subarray(0, 2 * 1024 * 1024);
    expect(xxh64Hex(exact)).toBe(whole(exact));
    expect(xxh64Hex(big.subarray(0, 100), big.subarray(100))).toBe(whole(big));
  });

  it('gives the published xxh64 of the empty input and of short ones', () => {
    expect(xxh64Hex(new Uint8Array(0))).toBe('ef46db3751d8e999');
    const short = new TextEncoder().encode('abc');
    expect(xxh64Hex(short)).toBe('44bc2cf5ad770999');
    expect(xxh64Hex(short.subarray(0, 1), short.subarray(1))).toBe('44bc2cf5ad770999');
  });
});
