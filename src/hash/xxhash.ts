/**
 * xxh64 content hashing (xxhash-wasm), the store's address function.
 * `initHash()` must be awaited once before the synchronous calls.
 */
import xxhash, { type XXHashAPI } from 'xxhash-wasm';

let api: XXHashAPI | undefined;

export async function initHash(): Promise<void> {
  api ??= await xxhash();
}

function ready(): XXHashAPI {
  if (!api) throw new Error('initHash() was not awaited');
  return api;
}

/** xxh64 (seed 0) of the concatenation of `parts`, as 16 lowercase hex digits. */
export function xxh64Hex(...parts: Uint8Array[]): string {
  const a = ready();
  if (parts.length === 1) return a.h64Raw(parts[0]!).toString(16).padStart(16, '0');
  const h = a.create64();
  for (const p of parts) h.update(p);
  return h.digest().toString(16).padStart(16, '0');
}
