/**
 * Canonical bodies from compiling a source with a real interpreter: where a pyc
 * can't be canonicalized from its own bytes (a construct the marshal reader
 * doesn't know, or a co_filename string shared with another slot), and for
 * `dedup --fill`. The interpreter must have the pyc's magic number (the venv's
 * own, checked); each (magic, optimization level, relative path, source) is
 * compiled at most once per run, and its body checked against the compiled
 * code once, when it is made.
 */
import { readFile } from 'node:fs/promises';
import type { TransformInput } from '../canonical/types.js';
import type { SkipReason } from '../dedup/types.js';
import { xxh64Hex } from '../hash/xxhash.js';
import { canonicalizeChecked } from '../marshal/index.js';
import { magicBytes, type PyVersionInfo } from '../pyc/magic.js';
import type { InterpreterFinder } from './interpreters.js';
import type { CompilerPool } from './pool.js';

/** Checked canonical bodies of compilations, by compileKey. */
export type CompiledBodies = Map<string, Uint8Array>;

/** A source's identity for compilations: xxh64 of its bytes, "-", its length. */
export function sourceKeyOf(source: Uint8Array): string {
  return `${xxh64Hex(source)}-${source.length}`;
}

/** Identifies one compilation: (magic, optimization level, relative path, source content). */
export function compileKey(magic: number, optimization: number, relName: string, sourceKey: string): string {
  return `${magic}:${optimization}:${relName}:${sourceKey}`;
}

/** `made`: this call compiled it (false: it was already in `bodies`). */
export type CompileOutcome = { readonly ok: true; readonly body: Uint8Array; readonly made: boolean } | { readonly ok: false; readonly reason: SkipReason; readonly detail: string };

/** The checked canonical body of `source` compiled as `relName`, from `bodies` or compiled now (and kept there). */
export async function compileCanonical(
  c: { readonly pool: CompilerPool; readonly finder: InterpreterFinder; readonly bodies: CompiledBodies },
  what: { readonly sourcePath: string; readonly source: Uint8Array; readonly version: PyVersionInfo; readonly optimization: number; readonly relName: string },
  key = compileKey(what.version.magic, what.optimization, what.relName, sourceKeyOf(what.source)),
): Promise<CompileOutcome> {
  const known = c.bodies.get(key);
  if (known) return { ok: true, body: known, made: false };
  const exe = await c.finder.find(what.sourcePath, what.version);
  if (!exe) {
    const magic = Buffer.from(magicBytes(what.version)).toString('hex');
    return { ok: false, reason: 'no-interpreter', detail: `no Python ${what.version.version} interpreter (magic ${magic}) found for ${what.sourcePath}` };
  }
  const ans = await c.pool.compile(exe, key, { source: what.source, filename: what.relName, optimize: what.optimization });
  if (!ans.ok) return { ok: false, reason: 'compile-error', detail: ans.error };
  const again = c.bodies.get(key); // another file with the same compilation got there first
  if (again) return { ok: true, body: again, made: false };
  try {
    const body = canonicalizeChecked(ans.body, what.version, what.relName);
    c.bodies.set(key, body);
    return { ok: true, body, made: true };
  } catch (err) {
    return { ok: false, reason: 'uncanonical', detail: (err as Error).message };
  }
}

/** The recompile fallback for a pyc the transform refused: its source, with the body now in `bodies`. */
export async function recompile(
  input: TransformInput,
  c: { readonly pool: CompilerPool; readonly finder: InterpreterFinder; readonly bodies: CompiledBodies },
): Promise<{ ok: true; source: Uint8Array } | { ok: false; reason: SkipReason; detail: string }> {
  const source = input.source ?? (await readFile(input.cand.source));
  const r = await compileCanonical(c, {
    sourcePath: input.cand.source,
    source,
    version: input.header.version,
    optimization: input.cand.name.optimization,
    relName: input.relName!,
  });
  return r.ok ? { ok: true, source } : r;
}
