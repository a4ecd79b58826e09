/**
 * Reading one pyc for analysis (the I/O around analyze.ts's pure decision):
 * one lstat (the fingerprint every later check compares with), one read of
 * exactly the size it said, and the source only when the decision needs it.
 * Synchronous: it runs in a worker thread (worker.ts), where blocking is the
 * point, or in the main thread for small runs.
 */
import { sourceKeyOf } from '../canonical/compile-key.js';
import type { Transform } from '../canonical/types.js';
import { errnoCode } from '../errors.js';
import { MAX_PYC_BYTES, parseHeader } from '../pyc/header.js';
import { formatBytes } from '../util/format.js';
import { statPyc, type PycStat } from '../python/scan.js';
import { versionForCacheTag } from '../pyc/magic.js';
import { judgePyc, needsSource, type PycTask, type Verdict } from './analyze.js';
import { readFill, type FillResult } from './read-fill.js';
import { copyOut } from './scratch.js';
import { readExactly, threadState, type ThreadState } from './thread-state.js';

export { readExactly, threadState, type ThreadState };

/** What reading and judging one pyc gave. */
export interface ReadResult {
  readonly id: number;
  /** Its lstat right before it was read (undefined: gone, or not a regular file). */
  readonly stat: PycStat | undefined;
  readonly verdict: Verdict;
  readonly bytesRead: number;
}

function failed(id: number, stat: PycStat | undefined, bytesRead: number, reason: 'unreadable' | 'changed' | 'too-large', detail: string): ReadResult {
  return { id, stat, bytesRead, verdict: { ok: false, reason, detail } };
}

const sharedRoom = (size: number): Uint8Array => new Uint8Array(new SharedArrayBuffer(size));

/**
 * Read and judge one pyc. The body returned is never a view of `state`'s buffers: a copy of its own
 * (`share`: in shared memory) — or, equal to the task's `expect`, that very body.
 */
export function readAndJudge(task: PycTask, transform: Transform, state: ThreadState = threadState(), share = false): ReadResult {
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
  const verdict = judgePyc(task, bytes, header, source, transform, { hashes: state.hashes, room: share ? sharedRoom : undefined });
  if (!verdict.ok || verdict.expected) return { id: task.id, stat, bytesRead, verdict };
  // A body in the read buffer (raw bodies, their header in front), or not in shared memory when asked to be, gets bytes of its own.
  const own = share ? !(verdict.body.buffer instanceof SharedArrayBuffer) : state.pyc.holds(verdict.body);
  return { id: task.id, stat, bytesRead, verdict: own ? { ...verdict, body: copyOut(verdict.body, share) } : verdict };
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

export type Answer = ReadResult | SourceResult | FillResult | { readonly id: number; readonly error: string };

/** What judging one task in a worker gives: the answer, the buffers its bytes are in (to transfer, not copied), and how many bytes travel with it. */
export interface Judged {
  readonly answer: Answer;
  readonly transfer: ArrayBuffer[];
  /** Bytes on their way with the answer: none for a body equal to the task's `expect`; a shared body's counts, though nothing is transferred. */
  readonly bytes: number;
}

/** The buffers of bytes an answer carries, to transfer (never a thread's scratch: those are copied first), and their size. */
function carrying(answer: Answer, ...parts: (Uint8Array | undefined)[]): Judged {
  const transfer: ArrayBuffer[] = [];
  let bytes = 0;
  for (const p of parts) {
    if (!p) continue;
    if (p.buffer instanceof ArrayBuffer) {
      if (!transfer.includes(p.buffer)) transfer.push(p.buffer);
      bytes += p.buffer.byteLength;
    } else bytes += p.length;
  }
  return { answer, transfer, bytes };
}

/**
 * Judge one task; an unexpected exception (a bug, not a refusal) comes back as `error`. A body of its
 * own comes with its buffer to transfer — or, asked to `share` it, in shared memory.
 */
export function judgeTask(t: PycTask, transform: Transform, state: ThreadState): Judged {
  try {
    if (t.sourceOnly) return carrying(hashSource(t, state));
    if (t.fill) {
      const f = readFill(t, state.store, state);
      return carrying(f, f.stored?.body, f.source);
    }
    const r = readAndJudge(t, transform, state, t.share === true);
    const v = r.verdict;
    return !v.ok || v.expected ? carrying(r) : carrying(r, v.body);
  } catch (err) {
    return carrying({ id: t.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
}

/** Judge a batch in this thread (small runs, a test's transform). */
export function judgeBatch(tasks: readonly PycTask[], transform: Transform, state: ThreadState): Answer[] {
  return tasks.map((t) => judgeTask(t.share ? { ...t, share: false } : t, transform, state).answer); // one thread: nothing to share
}
