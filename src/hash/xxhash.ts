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

/**
 * Bytes handed to the WebAssembly hasher at once. It copies its input into its own memory, which
 * grows to the biggest input and never shrinks: in pieces, a thread that hashed an 11.8 MB pyc
 * doesn't keep 12 MB of it for the rest of the run.
 */
const PIECE = 1024 * 1024;

/** xxh64 (seed 0) of the concatenation of `parts`, as 16 lowercase hex digits. */
export function xxh64Hex(...parts: Uint8Array[]): string {
  const a = ready();
  if (parts.length === 1 && parts[0]!.length <= PIECE) return a.h64Raw(parts[0]!).toString(16).padStart(16, '0');
  const h = a.create64();
  for (const p of parts) {
    for (let at = 0; at < p.length; at += PIECE) h.update(p.subarray(at, at + PIECE));
  }
  return h.digest().toString(16).padStart(16, '0');
}
