/**
 * unshare gives a file back the header kind it had before pycstore first linked it (the ledger's
 * `links.header`): a store object may carry another (the auto policy's checked-hash, an explicit
 * --invalidation, unchecked-hash), and the installer's choice is the user's. The new header is
 * built from the source as importlib would check it, so the copy is fresh; the body stays the
 * object's. Without a remembered kind, or without the source, the object's bytes are kept as they are.
 */
import { readFileSync, statSync } from 'node:fs';
import { buildHeader, HEADER_SIZE, mtimeSeconds, parseHeader, sourceHash, type Invalidation } from '../pyc/header.js';

const KINDS: readonly string[] = ['timestamp', 'checked-hash', 'unchecked-hash'];

/** The copy's bytes: the object's, with the remembered header kind when it differs. */
export function withRememberedHeader(bytes: Uint8Array, remembered: string | null, source: string | undefined): Uint8Array {
  if (remembered === null || !KINDS.includes(remembered) || source === undefined) return bytes;
  const want = remembered as Invalidation;
  const header = parseHeader(bytes);
  if (typeof header === 'string' || header.invalidation === want) return bytes;
  let fields: { mtime?: number; sourceSize?: number; sourceHash?: string };
  try {
    if (want === 'timestamp') {
      const st = statSync(source, { bigint: true });
      fields = { mtime: mtimeSeconds(st), sourceSize: Number(st.size) };
    } else fields = { sourceHash: sourceHash(header.version, readFileSync(source)) };
  } catch {
    return bytes; // the source is gone: the object's header is as good as any
  }
  const out = new Uint8Array(bytes.length);
  out.set(buildHeader(header.version, want, fields), 0);
  out.set(bytes.subarray(HEADER_SIZE), HEADER_SIZE);
  return out;
}
