/**
 * Step 3, analyze, the per-file decision, pure: given a pyc's bytes (and its
 * source's, when needed), is it a fresh, well-formed pyc of the version its
 * name says, and what is its checked body? No file access: read.ts feeds it,
 * in a worker thread (pool.ts) or in this one.
 */
import { sourceKeyOf } from '../canonical/compile-key.js';
import type { BodyOutput, SourceStamp, Transform } from '../canonical/types.js';
import { PycstoreError } from '../errors.js';
import { xxh64Hex } from '../hash/xxhash.js';
import { HEADER_SIZE, sourceHash, type HeaderProblem, type PycHeader } from '../pyc/header.js';
import type { PyVersionInfo } from '../pyc/magic.js';
import { sameBytes } from '../store/objects.js';
import type { SkipReason } from './types.js';

/** One pyc to judge, as it crosses to a worker: plain strings and numbers. */
export interface PycTask {
  /** The file's row in the run's table. */
  readonly id: number;
  readonly path: string;
  readonly source: string;
  /** The cache tag its name says (the magic must agree). */
  readonly cacheTag: string;
  readonly relName: string;
  /** The source's stamp when its group started: what a fresh timestamp header names. */
  readonly stamp: SourceStamp;
  /** Read and hash the source even for a timestamp pyc: a hash header may be chosen for it. */
  readonly hashSource: boolean;
  /** Only read and hash the source (the pyc was judged already; a hash header was chosen for it). */
  readonly sourceOnly?: boolean;
  /** A --fill target: read its source and look its body up in the store (read-fill.ts). */
  readonly fill?: boolean;
  /**
   * The body the group holds already for this code (its first copy's, in memory shared with the
   * worker threads): a body equal to it byte for byte comes back as this very body, so the copy's own
   * bytes never travel.
   */
  readonly expect?: { readonly bodyHash: string; readonly body: Uint8Array } | undefined;
  /** A worker puts the body in memory shared with the other threads (it is the `expect` of the group's other copies). */
  readonly share?: boolean;
}

export type Verdict =
  | {
      readonly ok: true;
      readonly header: PycHeader;
      /** The pyc's own 16 header bytes. */
      readonly own: Uint8Array;
      /** The checked body (canonical, or the raw bytes after the header). */
      readonly body: Uint8Array;
      readonly bodyHash: string;
      /** The body is the task's `expect`: compared byte for byte, equal. */
      readonly expected?: boolean;
      /** `_imp.source_hash` of the source, when it was read. */
      readonly sourceHash?: string | undefined;
      /** xxh64-size of the source bytes, when they were read (the ledger's compilations table). */
      readonly sourceKey?: string | undefined;
    }
  | {
      readonly ok: false;
      readonly reason: SkipReason;
      readonly detail?: string | undefined;
      /** The transform refused the pyc's own bytes: recompiling its source may give a body (the caller decides). */
      readonly refused?: { readonly header: PycHeader; readonly sourceHash?: string | undefined; readonly code: string } | undefined;
    };

/**
 * `_imp.source_hash` of sources, remembered by content key (xxh64 and size) for the header of
 * timestamp pycs going checked-hash: the copies of one package in several venvs have the same
 * source, hashed once (SipHash in JS is ~100 MB/s). Never used for a hash pyc's freshness, which
 * is always computed: a wrong entry could at worst give a header CPython finds stale and recompiles.
 */
export class SourceHashes {
  private readonly known = new Map<string, string>();
  constructor(private readonly max = 4096) {}
  get(version: PyVersionInfo, key: string, source: Uint8Array): string {
    const k = `${version.magic}:${key}`;
    let h = this.known.get(k);
    if (h === undefined) {
      h = sourceHash(version, source);
      if (this.known.size >= this.max) this.known.delete(this.known.keys().next().value!);
      this.known.set(k, h);
    }
    return h;
  }
}

/** Does judging a pyc with this header need its source's bytes? Hash pycs always (freshness is the source's hash). */
export function needsSource(header: PycHeader | HeaderProblem, task: Pick<PycTask, 'hashSource'>): boolean {
  return typeof header !== 'string' && (header.invalidation !== 'timestamp' || task.hashSource);
}

const skip = (reason: SkipReason, detail?: string): Verdict => ({ ok: false, reason, detail });

function isRefusal(err: unknown): err is PycstoreError {
  return err instanceof PycstoreError && (err.code === 'ECANON' || err.code === 'EMARSHAL');
}

/** What a thread lends judgePyc: its source hashes, and where to make bodies (Transform.body's `out.room`). */
export interface JudgeAids {
  readonly hashes: SourceHashes;
  readonly room?: BodyOutput['room'];
}

/**
 * Judge one pyc. `header` is parseHeader(bytes) (the caller looked at it to know whether to read the
 * source); `source` is given when needsSource says so. The body may be a view of `bytes` (raw): the
 * caller copies what it keeps.
 */
export function judgePyc(
  task: PycTask,
  bytes: Uint8Array,
  header: PycHeader | HeaderProblem,
  source: Uint8Array | undefined,
  transform: Transform,
  aids: JudgeAids = { hashes: new SourceHashes() },
): Verdict {
  const hashes = aids.hashes;
  if (bytes.length === 0) return skip('empty');
  if (typeof header === 'string') return skip(header);
  if (header.version.cacheTag !== task.cacheTag) {
    return skip('wrong-version', `magic ${header.version.magic} is Python ${header.version.version}, name says ${task.cacheTag}`);
  }
  if (source && source.length !== task.stamp.size) return skip('changed', 'source changed while reading');
  const sourceKey = source ? sourceKeyOf(source) : undefined;
  // A hash pyc's freshness is its source's hash, computed; a timestamp pyc's hash (for a hash header) may come from `hashes`.
  const hash = !source ? undefined : header.invalidation !== 'timestamp' ? sourceHash(header.version, source) : hashes.get(header.version, sourceKey!, source);
  const fresh =
    header.invalidation === 'timestamp'
      ? header.mtime === task.stamp.mtime >>> 0 && header.sourceSize === task.stamp.size >>> 0
      : hash !== undefined && hash === header.sourceHash;
  if (!fresh) return skip('stale');
  let body: Uint8Array;
  try {
    body = transform.body(bytes, header, task.relName, { room: aids.room, expect: task.expect?.body });
  } catch (err) {
    if (!isRefusal(err)) throw err;
    return { ok: false, reason: 'uncanonical', detail: err.message, refused: { header, sourceHash: hash, code: err.code } };
  }
  // The expected body returned itself (canonical: compared byte for byte as it was made) has its hash already.
  const bodyHash = task.expect && body === task.expect.body ? task.expect.bodyHash : xxh64Hex(body);
  // Else a raw body equal to it is compared here.
  const expected = task.expect !== undefined && task.expect.bodyHash === bodyHash && (body === task.expect.body || sameBytes(task.expect.body, body));
  return {
    ok: true,
    header,
    own: bytes.slice(0, HEADER_SIZE),
    body: expected ? task.expect!.body : body,
    bodyHash,
    expected,
    sourceHash: hash,
    sourceKey,
  };
}
