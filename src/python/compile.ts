/**
 * Canonical bodies from compiling a source with a real interpreter: where a pyc
 * can't be canonicalized from its own bytes (a construct the marshal reader
 * doesn't know, or a co_filename string shared with another slot), and for
 * `dedup --fill`. The interpreter must have the pyc's magic number (the venv's
 * own, checked). This is the run's one compile cache: each (magic, optimization
 * level, relative path, source) is compiled at most once per run, also when
 * several files ask at once, and its body is checked against the compiled code
 * once, when it is made.
 */
import { compileKey, sourceKeyOf } from '../canonical/compile-key.js';
import { canonicalizeChecked } from '../marshal/index.js';
import { magicBytes, type PyVersionInfo } from '../pyc/magic.js';
import { InterpreterFinder } from './interpreters.js';
import { CompilerPool } from './pool.js';

export type CompileFailure = 'no-interpreter' | 'compile-error' | 'uncanonical' | 'corrupt' | 'code-differs';

/** `made`: this call compiled it (false: it was in the cache already). */
export type CompileOutcome =
  | { readonly ok: true; readonly body: Uint8Array; readonly made: boolean }
  | { readonly ok: false; readonly reason: CompileFailure; readonly detail: string };

export interface CompileWhat {
  readonly sourcePath: string;
  readonly source: Uint8Array;
  readonly version: PyVersionInfo;
  readonly optimization: number;
  readonly relName: string;
  /**
   * The marshalled code of the pyc this compile replaces: the interpreter proves the compiled code
   * equal to it (else `code-differs`, or `corrupt` when CPython can't load it). Always compiled
   * anew, as each original needs its own proof; the body still joins the cache.
   */
  readonly original?: Uint8Array;
}

export class CanonicalCompiler {
  private readonly bodies = new Map<string, Uint8Array>();
  private readonly inFlight = new Map<string, Promise<CompileOutcome>>();
  private readonly pool: CompilerPool;
  private readonly finder: InterpreterFinder;

  constructor(workersPerInterpreter = 2) {
    this.pool = new CompilerPool(workersPerInterpreter);
    this.finder = new InterpreterFinder(this.pool);
  }

  /** Sources compiled by an interpreter in this run. */
  get compiled(): number {
    return this.pool.compiled;
  }

  /** The checked canonical body known for this compileKey (compiled this run, or remembered). */
  body(key: string): Uint8Array | undefined {
    return this.bodies.get(key);
  }

  /** Remember a checked body found elsewhere (the store already holds this compilation). */
  remember(key: string, body: Uint8Array): void {
    this.bodies.set(key, body);
  }

  /** The checked canonical body of `what.source` compiled as `what.relName`: from the cache, or compiled now. */
  compile(what: CompileWhat, key = compileKey(what.version.magic, what.optimization, what.relName, sourceKeyOf(what.source))): Promise<CompileOutcome> {
    if (what.original) return this.make(what, key);
    const known = this.bodies.get(key);
    if (known) return Promise.resolve({ ok: true, body: known, made: false });
    const pending = this.inFlight.get(key);
    if (pending) return pending.then((o) => (o.ok ? { ...o, made: false } : o));
    const p = this.make(what, key).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, p);
    return p;
  }

  private async make(what: CompileWhat, key: string): Promise<CompileOutcome> {
    const exe = await this.finder.find(what.sourcePath, what.version);
    if (!exe) {
      const magic = Buffer.from(magicBytes(what.version)).toString('hex');
      return { ok: false, reason: 'no-interpreter', detail: `no Python ${what.version.version} interpreter (magic ${magic}) found for ${what.sourcePath}` };
    }
    const ans = await this.pool.compile(exe, {
      source: what.source,
      filename: what.relName,
      optimize: what.optimization,
      ...(what.original ? { original: what.original } : {}),
    });
    if (!ans.ok) return { ok: false, reason: ans.kind, detail: ans.error };
    try {
      const body = canonicalizeChecked(ans.body, what.version, what.relName);
      this.bodies.set(key, body);
      return { ok: true, body, made: true };
    } catch (err) {
      return { ok: false, reason: 'uncanonical', detail: (err as Error).message };
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
