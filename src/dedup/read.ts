/**
 * Reading one pyc for analysis (the I/O around analyze.ts's pure decision):
 * one lstat (the fingerprint every later check compares with), one read of
 * exactly the size it said, and the source only when the decision needs it.
 * Synchronous: it runs in a worker thread (worker.ts), where blocking is the
 * point, or in the main thread for small runs.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { sourceKeyOf } from '../canonical/compile-key.js';
import type { Transform } from '../canonical/types.js';
import { errnoCode } from '../errors.js';
import { MAX_PYC_BYTES, parseHeader } from '../pyc/header.js';
import { formatBytes } from '../util/format.js';
import { statPyc, type PycStat } from '../python/scan.js';
import { versionForCacheTag } from '../pyc/magic.js';
import { judgePyc, needsSource, SourceHashes, type PycTask, type Verdict } from './analyze.js';

/** What reading and judging one pyc gave. */
export interface ReadResult {
  readonly id: number;
  /** Its lstat right before it was read (undefined: gone, or not a regular file). */
  readonly stat: PycStat | undefined;
  readonly verdict: Verdict;
  readonly bytesRead: number;
}

/**
 * A buffer reused for every read of one thread (each file is judged before the next is read), so
 * reading 1 GB of pycs doesn't allocate — and fault in — 1 GB of fresh memory.
 */
export class Scratch {
  private buf = Buffer.allocUnsafeSlow(64 * 1024);
  get(size: number): Buffer {
    if (this.buf.length < size) this.buf = Buffer.allocUnsafeSlow(Math.max(size, this.buf.length * 2));
    return this.buf;
  }
}

/**
 * Read `size` bytes of a file, exactly: undefined if it holds another number of bytes now. Into
 * `scratch` when given (the result is valid until its next use), else into a buffer of its own.
 */
export function readExactly(p: string, size: number, scratch?: Scratch): Uint8Array | undefined {
  const fd = openSync(p, 'r');
  try {
    const buf = scratch ? scratch.get(size + 1) : Buffer.allocUnsafeSlow(size + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, n);
      if (got === 0) break;
      n += got;
      if (n > size) return undefined;
    }
    return n === size ? new Uint8Array(buf.buffer, buf.byteOffset, size) : undefined;
  } finally {
    closeSync(fd);
  }
}

function failed(id: number, stat: PycStat | undefined, bytesRead: number, reason: 'unreadable' | 'changed' | 'too-large', detail: string): ReadResult {
  return { id, stat, bytesRead, verdict: { ok: false, reason, detail } };
}

/** A thread's reusable state: its read buffers and its source hashes (analyze.ts). */
export interface ThreadState {
  readonly pyc: Scratch;
  readonly source: Scratch;
  readonly hashes: SourceHashes;
}

export function threadState(): ThreadState {
  return { pyc: new Scratch(), source: new Scratch(), hashes: new SourceHashes() };
}

/** Read and judge one pyc. The body returned is never a view of `state`'s buffers. */
export function readAndJudge(task: PycTask, transform: Transform, state: ThreadState = threadState()): ReadResult {
  const stat = statPyc(task.path);
  if (!stat) return failed(task.id, undefined, 0, 'changed', 'gone, or no longer a regular file');
  if (stat.fp.size > MAX_PYC_BYTES) return failed(task.id, stat, 0, 'too-large', `${formatBytes(stat.fp.size)}, above the ${formatBytes(MAX_PYC_BYTES)} any real pyc stays under; not read`);
  let bytes: Uint8Array | undefined;
  try {
    bytes = readExactly(task.path, stat.fp.size, state.pyc);
  } catch (err) {
    return failed(task.id, stat, 0, 'unreadable', errnoCode(err) ?? String(err));
  }
  if (!bytes) return failed(task.id, stat, 0, 'changed', 'its size changed while it was read');
  let bytesRead = bytes.length;
  const header = parseHeader(bytes);
  let source: Uint8Array | undefined;
  if (needsSource(header, task)) {
    try {
      source = readExactly(task.source, task.stamp.size, state.source);
    } catch (err) {
      return failed(task.id, stat, bytesRead, 'unreadable', `source: ${errnoCode(err) ?? String(err)}`);
    }
    if (!source) return failed(task.id, stat, bytesRead, 'changed', 'source changed while reading');
    bytesRead += source.length;
  }
  const verdict = judgePyc(task, bytes, header, source, transform, state.hashes);
  // A body that is a view of the read buffer (raw bodies) gets bytes of its own: the whole pyc's, so its header stays in front (objectBytes).
  if (verdict.ok && verdict.body.buffer === bytes.buffer) {
    const at = verdict.body.byteOffset - bytes.byteOffset;
    return { id: task.id, stat, bytesRead, verdict: { ...verdict, body: bytes.slice().subarray(at, at + verdict.body.length) } };
  }
  return { id: task.id, stat, bytesRead, verdict };
}

/** What hashing one source gave (a hash header was chosen for a pyc whose source wasn't read). */
export interface SourceResult {
  readonly id: number;
  /** Undefined: the source changed since its stamp was taken, or can't be read. */
  readonly sourceHash: string | undefined;
  readonly sourceKey: string | undefined;
  readonly bytesRead: number;
}

/** Read a pyc's source (exactly the size its stamp says) and hash it. */
export function hashSource(task: PycTask, state: ThreadState): SourceResult {
  let source: Uint8Array | undefined;
  try {
    source = readExactly(task.source, task.stamp.size, state.source);
  } catch {
    source = undefined;
  }
  if (!source) return { id: task.id, sourceHash: undefined, sourceKey: undefined, bytesRead: 0 };
  const key = sourceKeyOf(source);
  return { id: task.id, sourceHash: state.hashes.get(versionForCacheTag(task.cacheTag)!, key, source), sourceKey: key, bytesRead: source.length };
}

export type Answer = ReadResult | SourceResult | { readonly id: number; readonly error: string };

/** Judge one task; an unexpected exception (a bug, not a refusal) comes back as `error`. With it, the body's buffer, to transfer. */
export function judgeTask(t: PycTask, transform: Transform, state: ThreadState): { answer: Answer; body?: ArrayBuffer } {
  try {
    if (t.sourceOnly) return { answer: hashSource(t, state) };
    const r = readAndJudge(t, transform, state);
    return r.verdict.ok && r.verdict.body.buffer instanceof ArrayBuffer ? { answer: r, body: r.verdict.body.buffer } : { answer: r };
  } catch (err) {
    return { answer: { id: t.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) } };
  }
}

/** Judge a batch in this thread (small runs, a test's transform). */
export function judgeBatch(tasks: readonly PycTask[], transform: Transform, state: ThreadState): Answer[] {
  return tasks.map((t) => judgeTask(t, transform, state).answer);
}
