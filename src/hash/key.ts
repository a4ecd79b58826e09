/**
 * An object's address: xxh64 of its whole content plus its size. A replica
 * number > 0 names an extra copy made when the first hit the filesystem's
 * hard-link limit (EMLINK). Pure.
 */
export interface ObjectKey {
  readonly hash: string; // 16 hex digits
  readonly size: number;
}

export function keyString(key: ObjectKey): string {
  return `${key.hash}-${key.size}`;
}

/** File name of an object inside its shard directory. */
export function objectFileName(key: ObjectKey, replica: number): string {
  return replica === 0 ? keyString(key) : `${keyString(key)}.r${replica}`;
}

/** Inverse of objectFileName, or undefined for anything that isn't an object name. */
export function parseObjectFileName(name: string): { key: ObjectKey; replica: number } | undefined {
  const m = /^([0-9a-f]{16})-(\d+)(?:\.r(\d+))?$/.exec(name);
  if (!m) return undefined;
  return { key: { hash: m[1]!, size: Number(m[2]) }, replica: m[3] === undefined ? 0 : Number(m[3]) };
}

export function sameKey(a: ObjectKey, b: ObjectKey): boolean {
  return a.hash === b.hash && a.size === b.size;
}
