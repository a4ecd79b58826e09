/**
 * Reading one candidate pyc: is it a fresh, well-formed pyc of the version its
 * name says, and which objects can it become? Touches the file and its source
 * (read only); everything it decides comes from pure code.
 */
import { lstat, readFile } from 'node:fs/promises';
import { PycstoreError } from '../errors.js';
import { sourceKeyOf } from '../canonical/compile-key.js';
import { allocatedBytes, fingerprintOf, sameFingerprint, type Fingerprint } from '../fs/fingerprint.js';
import { checkFresh, HEADER_SIZE, MAX_PYC_BYTES, mtimeSeconds, parseHeader, sourceHash, type PycHeader } from '../pyc/header.js';
import { formatBytes } from '../util/format.js';
import type { CanonicalCompiler } from '../python/compile.js';
import type { Candidate } from '../python/scan.js';
import type { Transform, TransformInput } from '../canonical/types.js';
import { sourceFingerprint, type FileFacts, type SkipReason } from './types.js';

export type Analysis =
  | { readonly ok: true; readonly facts: FileFacts; readonly bytesRead: number; readonly prepared: Uint8Array }
  | {
      readonly ok: false;
      readonly reason: SkipReason;
      readonly detail?: string | undefined;
      readonly fp?: Fingerprint | undefined;
      readonly sourceFp: string;
      readonly bytesRead: number;
    };

/** Read a pyc (and its source when needed) and check it is what it claims. */
export async function readCandidate(
  cand: Candidate,
  transform: Transform,
): Promise<{ input: TransformInput; fp: Fingerprint; nlink: number; uid: number; allocated: number; bytesRead: number } | Extract<Analysis, { ok: false }>> {
  const sourceFp = sourceFingerprint(cand.sourceStat);
  let bytesRead = 0;
  const skip = (reason: SkipReason, fp?: Fingerprint, detail?: string): Extract<Analysis, { ok: false }> => ({
    ok: false,
    reason,
    detail,
    fp,
    sourceFp,
    bytesRead,
  });
  let bytes: Uint8Array;
  let st1;
  try {
    st1 = await lstat(cand.path, { bigint: true });
    if (!st1.isFile()) return skip('unreadable', undefined, 'not a regular file');
    if (st1.size > BigInt(MAX_PYC_BYTES)) return skip('too-large', fingerprintOf(st1), `${formatBytes(Number(st1.size))}, above the ${formatBytes(MAX_PYC_BYTES)} any real pyc stays under; not read`);
    bytes = await readFile(cand.path);
    bytesRead += bytes.length;
  } catch (err) {
    return skip('unreadable', undefined, (err as Error).message);
  }
  const fp = fingerprintOf(st1);
  const st2 = await lstat(cand.path, { bigint: true }).catch(() => undefined);
  if (!st2 || !sameFingerprint(fp, fingerprintOf(st2)) || bytes.length !== fp.size) return skip('changed', fp);
  if (bytes.length === 0) return skip('empty', fp);

  const parsed = parseHeader(bytes);
  if (typeof parsed === 'string') return skip(parsed, fp);
  const header: PycHeader = parsed;
  if (header.version.cacheTag !== cand.name.cacheTag) {
    return skip('wrong-version', fp, `magic ${header.version.magic} is Python ${header.version.version}, name says ${cand.name.cacheTag}`);
  }
  let source: Uint8Array | undefined;
  if (header.invalidation !== 'timestamp' || transform.needsSource(header)) {
    try {
      source = await readFile(cand.source);
      bytesRead += source.length;
    } catch (err) {
      return skip('unreadable', fp, `source: ${(err as Error).message}`);
    }
    if (source.length !== Number(cand.sourceStat.size)) return skip('changed', fp, 'source changed while reading');
  }
  const fresh = checkFresh(header, { mtimeSec: mtimeSeconds(cand.sourceStat), size: Number(cand.sourceStat.size) }, source);
  if (fresh !== 'fresh') return skip('stale', fp);
  return {
    input: { bytes, header, cand, source, relName: cand.relName, sourceHash: source ? sourceHash(header.version, source) : undefined },
    fp,
    nlink: Number(st1.nlink),
    uid: Number(st1.uid),
    allocated: allocatedBytes(st1),
    bytesRead,
  };
}

/** Called when the transform refuses a pyc: may recompile it; returns the (possibly read) source, or why not. */
export type Recover = (
  input: TransformInput,
  refusal: PycstoreError,
) => Promise<{ ok: true; source: Uint8Array } | { ok: false; reason: SkipReason; detail: string }>;

/**
 * The recompile fallback: compile the pyc's source with an interpreter of its magic, and take the
 * result only when that interpreter proves the compiled code equal to the pyc's own (the body joins
 * the compile cache). A pyc CPython can't load is `corrupt`; one whose code is not its source's is
 * `code-differs`; both stay as they are. Without an interpreter to judge, a pyc the marshal reader
 * refused is `unsupported` (it may be corrupt, or a construct the reader doesn't know).
 */
export function recompileWith(compiler: CanonicalCompiler): Recover {
  return async (input, refusal) => {
    const cand = input.cand as Candidate;
    const source = input.source ?? (await readFile(cand.source));
    const r = await compiler.compile({
      sourcePath: cand.source,
      source,
      version: input.header.version,
      optimization: cand.name.optimization,
      relName: cand.relName,
      original: input.bytes.subarray(HEADER_SIZE),
    });
    if (r.ok) return { ok: true, source };
    if (r.reason === 'no-interpreter' && refusal.code === 'EMARSHAL') return { ok: false, reason: 'unsupported', detail: `${refusal.message}; ${r.detail}` };
    return r;
  };
}

export async function analyzeCandidate(cand: Candidate, transform: Transform, recover?: Recover): Promise<Analysis> {
  const r = await readCandidate(cand, transform);
  if ('ok' in r) return r;
  const sourceFp = sourceFingerprint(cand.sourceStat);
  const refused = (reason: SkipReason, detail: string): Analysis => ({ ok: false, reason, detail, fp: r.fp, sourceFp, bytesRead });
  const isRefusal = (err: unknown): err is PycstoreError => err instanceof PycstoreError && (err.code === 'ECANON' || err.code === 'EMARSHAL');
  let input = r.input;
  let bytesRead = r.bytesRead;
  let recompiled = false;
  try {
    input = { ...input, prepared: transform.prepare(input) };
  } catch (err) {
    if (!isRefusal(err)) throw err;
    if (!recover) return refused('uncanonical', err.message);
    // The transform refused the pyc's own bytes: compile its source again and take that.
    const rec = await recover(input, err);
    if (!rec.ok) return refused(rec.reason, rec.detail);
    if (!input.source) bytesRead += rec.source.length;
    input = { ...input, source: rec.source, sourceHash: sourceHash(input.header.version, rec.source) };
    recompiled = true;
    try {
      input = { ...input, prepared: transform.prepare(input) };
    } catch (err2) {
      if (!isRefusal(err2)) throw err2;
      return refused('uncanonical', err2.message);
    }
  }
  return {
    ok: true,
    bytesRead,
    prepared: input.prepared!,
    facts: {
      recompiled,
      sourceKey: input.source ? sourceKeyOf(input.source) : undefined,
      sourceHash: input.sourceHash,
      cand,
      fp: r.fp,
      nlink: r.nlink,
      uid: r.uid,
      allocated: r.allocated,
      sourceFp,
      header: input.header,
      variants: transform.variants(input),
    },
  };
}
