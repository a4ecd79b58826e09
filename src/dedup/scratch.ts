/**
 * A thread's reusable buffers for reading pycs (read.ts), and the copies made of
 * what it keeps. Reusing them means reading 1 GB of pycs doesn't allocate 1 GB of
 * fresh memory — memory that, once garbage, the JavaScript engine frees only at
 * its next collection, which a thread judging a run of big pycs (few objects,
 * many bytes) may not reach for tens of MB.
 */
import { HEADER_SIZE } from '../pyc/header.js';

/** What a Scratch keeps for good; a bigger buffer is let go after SCRATCH_IDLE uses that didn't need it. */
export const SCRATCH_KEEP = 1024 * 1024;
/** Uses (for files of at most SCRATCH_KEEP) after which a bigger buffer is let go. */
export const SCRATCH_IDLE = 256;

/**
 * A buffer reused for every file one thread reads (or body it makes): each is done with before the
 * next. After a big one it stays big while big ones keep coming (sympy's test modules come
 * together), then shrinks back to SCRATCH_KEEP: one 11.8 MB pyc doesn't pin 12 MB for the rest of a run.
 */
export class Scratch {
  private buf = Buffer.allocUnsafeSlow(64 * 1024);
  private idle = 0;

  get(size: number): Buffer {
    if (size > SCRATCH_KEEP) this.idle = 0;
    else if (this.buf.length > SCRATCH_KEEP && ++this.idle > SCRATCH_IDLE) this.buf = Buffer.allocUnsafeSlow(SCRATCH_KEEP);
    if (this.buf.length < size) this.buf = Buffer.allocUnsafeSlow(Math.max(size, this.buf.length * 2));
    return this.buf;
  }

  /** Is `view` in this scratch's current buffer? */
  holds(view: Uint8Array): boolean {
    return view.buffer === this.buf.buffer;
  }
}

/**
 * A body's own copy, with the header room in front of it (up to HEADER_SIZE bytes: objectBytes
 * finds the pyc's header there), in a new ArrayBuffer — or a SharedArrayBuffer, to be seen by
 * every thread without copies.
 */
export function copyOut(body: Uint8Array, shared: boolean): Uint8Array {
  const front = Math.min(body.byteOffset, HEADER_SIZE);
  const n = front + body.length;
  const out = new Uint8Array(shared ? new SharedArrayBuffer(n) : new ArrayBuffer(n));
  out.set(new Uint8Array(body.buffer, body.byteOffset - front, n));
  return out.subarray(front);
}
