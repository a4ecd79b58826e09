/**
 * The step between a fresh pyc and the object it is stored as, as types: a
 * Transform turns a pyc's bytes into a checked body, and a body plus a header
 * into an object (its bytes and its address). Two transforms exist:
 * `rawTransform` (objects are the pycs byte for byte, `--byte-identical`) and
 * the canonical one (canonical/transform.ts). Pure over bytes: no file access.
 */
import { PycstoreError } from '../errors.js';
import type { ObjectKey } from '../hash/key.js';
import type { Output } from '../marshal/canonicalize.js';
import type { Invalidation, PycHeader } from '../pyc/header.js';

/** Where a transform makes a body: canonicalizeChecked's Output (marshal/canonicalize.ts). */
export type BodyOutput = Output;

/** Which header an object built from a pyc carries. 'as-is' keeps the file's own. */
export type HeaderChoice = 'as-is' | Invalidation;

/** The header policy (`--invalidation`): a fixed kind, or auto (see dedup/policy.ts). */
export type InvalidationPolicy = 'auto' | Invalidation;

/** One object a pyc can be stored as. */
export interface Variant {
  readonly choice: HeaderChoice;
  readonly key: ObjectKey;
  readonly invalidation: Invalidation;
  /** xxh64 of the marshal body the object carries (canonical or raw). */
  readonly bodyHash: string;
  /** Timestamp objects: the source (mtime s, size) the header names. */
  readonly stamp?: string | undefined;
}

/** What a timestamp header names of a source: its mtime in whole seconds (as importlib's int(st_mtime)) and its size. */
export interface SourceStamp {
  readonly mtime: number;
  readonly size: number;
}

/** What an object's header is made from. */
export interface HeaderInput {
  /** The pyc's own header, parsed. */
  readonly header: PycHeader;
  /** The pyc's own 16 header bytes (kept by 'as-is'). */
  readonly own: Uint8Array | undefined;
  /** The source's stamp (a timestamp header names it). */
  readonly stamp: SourceStamp;
  /** `_imp.source_hash` of the source (16 hex digits), when it was computed. */
  readonly sourceHash?: string | undefined;
}

export interface Transform {
  readonly name: string;
  /** The store address of an object's bytes (xxh64 + size; a test seam can force collisions). */
  address(bytes: Uint8Array): ObjectKey;
  /**
   * The checked body of a pyc (canonical: the canonical marshal body, validated against the
   * original; raw: the bytes after the header, a view of `pyc`). Throws PycstoreError
   * (ECANON/EMARSHAL) to refuse it. `out` (canonical): where to make it, and a body it probably
   * equals — returned itself when it does (marshal/canonicalize.ts's Output).
   */
  body(pyc: Uint8Array, header: PycHeader, relName: string, out?: BodyOutput): Uint8Array;
  /** The headers an object of a pyc with this header may carry (the policy picks among them). */
  choices(header: PycHeader): readonly HeaderChoice[];
  /** The object's 16 header bytes for a choice. */
  header(input: HeaderInput, choice: HeaderChoice): Uint8Array;
}

/**
 * An object's bytes: its header, then its body. When the body's buffer already holds exactly this
 * header right in front of it (a body made with room for one: withHeaderInFront), those bytes are
 * the object's, seen without a copy; else a new buffer.
 */
export function objectBytes(header: Uint8Array, body: Uint8Array): Uint8Array {
  if (body.byteOffset >= header.length) {
    const front = new Uint8Array(body.buffer, body.byteOffset - header.length, header.length);
    if (front.every((b, i) => b === header[i])) return new Uint8Array(body.buffer, front.byteOffset, header.length + body.length);
  }
  const out = new Uint8Array(header.length + body.length);
  out.set(header, 0);
  out.set(body, header.length);
  return out;
}

/** Write `header` into the room a body was made with in front of it (ByteSink's reserve); returns the body. */
export function withHeaderInFront(body: Uint8Array, header: Uint8Array): Uint8Array {
  if (body.byteOffset < header.length) throw new PycstoreError('EINTERNAL', 'a body made without room for its header');
  new Uint8Array(body.buffer, body.byteOffset - header.length, header.length).set(header);
  return body;
}
