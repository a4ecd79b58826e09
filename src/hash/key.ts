/**
 * An object's address: xxh64 of its whole content plus its size. Pure (the file
 * names built from it are store/location.ts's).
 */
import { xxh64Hex } from './xxhash.js';

export interface ObjectKey {
  readonly hash: string; // 16 hex digits
  readonly size: number;
}

export function keyString(key: ObjectKey): string {
  return `${key.hash}-${key.size}`;
}

export function sameKey(a: ObjectKey, b: ObjectKey): boolean {
  return a.hash === b.hash && a.size === b.size;
}

/** The address of an object's bytes. `initHash()` must have been awaited. */
export function contentAddress(bytes: Uint8Array): ObjectKey {
  return { hash: xxh64Hex(bytes), size: bytes.length };
}
