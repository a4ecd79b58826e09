/**
 * When a pyc can't be canonicalized from its own bytes (a construct the marshal
 * reader doesn't know, or a co_filename string shared with another slot), its
 * source is compiled by an interpreter with the same magic number, and the
 * result is canonicalized instead. Each (magic, optimization level, relative
 * path, source) is compiled at most once per run.
 */
import { readFile } from 'node:fs/promises';
import type { TransformInput } from '../dedup/transform.js';
import { canonicalize } from '../marshal/index.js';
import { magicBytes } from '../pyc/magic.js';
import type { InterpreterFinder } from '../python/interpreters.js';
import type { CompilerPool } from '../python/pool.js';
import { compileKey } from './transform.js';

export type RecoverResult = { readonly ok: true; readonly source: Uint8Array } | { readonly ok: false; readonly reason: 'no-interpreter' | 'compile-error' | 'uncanonical'; readonly detail: string };

export async function recompile(
  input: TransformInput,
  pool: CompilerPool,
  finder: InterpreterFinder,
  bodies: Map<string, { body: Uint8Array; compiled: Uint8Array }>,
): Promise<RecoverResult> {
  const version = input.header.version;
  const rel = input.relName!;
  const source = input.source ?? (await readFile(input.cand.source));
  const key = compileKey(version.magic, input.cand.name.optimization, rel, source);
  if (bodies.has(key)) return { ok: true, source };
  const exe = await finder.find(input.cand.source, version);
  if (!exe) {
    return {
      ok: false,
      reason: 'no-interpreter',
      detail: `no Python ${version.version} interpreter (magic ${Buffer.from(magicBytes(version)).toString('hex')}) found for ${input.cand.source}`,
    };
  }
  const ans = await pool.compile(exe, key, { source, filename: rel, optimize: input.cand.name.optimization });
  if (!ans.ok) return { ok: false, reason: 'compile-error', detail: ans.error };
  try {
    bodies.set(key, { body: canonicalize(ans.body, version, rel), compiled: ans.body });
  } catch (err) {
    return { ok: false, reason: 'uncanonical', detail: (err as Error).message };
  }
  return { ok: true, source };
}
