/**
 * A small pool of long-lived Python compile workers per interpreter, fed over
 * stdin. Used where a pyc can't be canonicalized from its bytes, and by
 * `dedup --fill` for sources that have no pyc. Workers start on first use and
 * are closed by `close()`.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { PycstoreError } from '../errors.js';
import { WORKER_SOURCE } from './compile-worker.js';

export interface CompileRequest {
  readonly source: Uint8Array;
  /** What co_filename the code gets (pycstore passes the canonical relative name). */
  readonly filename: string;
  readonly optimize: number;
  /**
   * The marshalled code of an existing pyc (its bytes after the header): the worker loads it with
   * CPython's own marshal and answers `corrupt` when CPython cannot, `code-differs` when the
   * compiled code is not equal to it (code equality ignores co_filename, as _fix_co_filename does).
   */
  readonly original?: Uint8Array;
}

/** Why a request failed: the source did not compile, or the original is not what it compiles to. */
export type CompileRefusal = 'compile-error' | 'corrupt' | 'code-differs';

export type CompileAnswer = { readonly ok: true; readonly body: Uint8Array } | { readonly ok: false; readonly kind: CompileRefusal; readonly error: string };

interface Worker {
  readonly child: ChildProcessWithoutNullStreams;
  readonly ready: Promise<{ magic: string; version: string }>;
  readonly waiting: Map<number, (a: CompileAnswer) => void>;
  busy: number;
  dead?: string;
}

export class CompilerPool {
  private readonly workers = new Map<string, Worker[]>();
  private nextId = 1;
  /** Compile requests sent (the caller, python/compile.ts, sends each compilation once). */
  compiled = 0;

  constructor(private readonly perInterpreter = 2) {}

  private start(exe: string): Worker {
    // -S: no site import (a venv's .pth files would import, and write pycs into, the venv); -B: write no bytecode.
    const child = spawn(exe, ['-I', '-S', '-B', '-c', WORKER_SOURCE], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: process.env['PATH'] ?? '', PYTHONDONTWRITEBYTECODE: '1' },
    });
    const waiting = new Map<number, (a: CompileAnswer) => void>();
    let onReady!: (v: { magic: string; version: string }) => void;
    let onFail!: (e: Error) => void;
    const ready = new Promise<{ magic: string; version: string }>((res, rej) => {
      onReady = res;
      onFail = rej;
    });
    ready.catch(() => undefined);
    const w: Worker = { child, ready, waiting, busy: 0 };
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    const rl = createInterface({ input: child.stdout });
    rl.on('line', (line) => {
      const msg = JSON.parse(line) as { ready?: boolean; magic?: string; version?: string; id?: number; ok?: boolean; body?: string; error?: string; kind?: CompileRefusal };
      if (msg.ready) {
        onReady({ magic: msg.magic!, version: msg.version! });
        return;
      }
      const cb = waiting.get(msg.id!);
      if (!cb) return;
      waiting.delete(msg.id!);
      w.busy--;
      cb(msg.ok ? { ok: true, body: new Uint8Array(Buffer.from(msg.body!, 'base64')) } : { ok: false, kind: msg.kind ?? 'compile-error', error: msg.error ?? 'unknown error' });
    });
    const die = (why: string): void => {
      w.dead = why;
      onFail(new PycstoreError('EPYTHON', `${exe}: ${why}`));
      for (const cb of waiting.values()) cb({ ok: false, kind: 'compile-error', error: `worker ${exe} ${why}` });
      waiting.clear();
    };
    child.on('error', (e) => die(`could not start (${e.message})`));
    child.on('exit', (code, sig) => die(`exited (${sig ?? code})${stderr ? `: ${stderr.trim()}` : ''}`));
    return w;
  }

  private pick(exe: string): Worker {
    let list = this.workers.get(exe);
    if (!list) {
      list = [];
      this.workers.set(exe, list);
    }
    const alive = list.filter((w) => !w.dead);
    const idle = alive.find((w) => w.busy === 0);
    if (idle) return idle;
    if (alive.length < this.perInterpreter) {
      const w = this.start(exe);
      list.push(w);
      return w;
    }
    return alive.reduce((a, b) => (a.busy <= b.busy ? a : b));
  }

  /** The interpreter's magic number (4 bytes as hex) and version, starting a worker if needed. */
  async identify(exe: string): Promise<{ magic: string; version: string }> {
    return this.pick(exe).ready;
  }

  /** Compile `req.source` with the interpreter `exe` (marshal.dumps of the code object). */
  async compile(exe: string, req: CompileRequest): Promise<CompileAnswer> {
    const w = this.pick(exe);
    await w.ready;
    const id = this.nextId++;
    this.compiled++;
    return new Promise((resolve) => {
      w.waiting.set(id, resolve);
      w.busy++;
      w.child.stdin.write(
        `${JSON.stringify({
          id,
          source: Buffer.from(req.source).toString('base64'),
          filename: req.filename,
          optimize: req.optimize,
          ...(req.original ? { original: Buffer.from(req.original).toString('base64') } : {}),
        })}\n`,
      );
    });
  }

  async close(): Promise<void> {
    const all = [...this.workers.values()].flat();
    await Promise.all(
      all.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.dead) return resolve();
            w.child.once('exit', () => resolve());
            w.child.stdin.end();
          }),
      ),
    );
    this.workers.clear();
  }
}
