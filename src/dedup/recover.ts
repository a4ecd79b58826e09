/**
 * The recompile fallback: where the transform refuses a pyc's own bytes (a
 * construct the marshal reader doesn't know, a co_filename shared with another
 * slot), its source is compiled again by an interpreter of its magic and that
 * body is taken — checked against the compiled code when it is made
 * (python/compile.ts). In this thread: it is rare, and the compile pool lives here.
 */
import { sourceKeyOf } from '../canonical/compile-key.js';
import { errnoCode } from '../errors.js';
import { xxh64Hex } from '../hash/xxhash.js';
import { HEADER_SIZE, sourceHash, type PycHeader } from '../pyc/header.js';
import type { Verdict } from './analyze.js';
import type { RunContext } from './context.js';
import { readExactly } from './read.js';
import type { SourceState, Subject } from './types.js';

export async function recoverBody(run: RunContext, s: Subject, state: SourceState, header: PycHeader): Promise<{ verdict: Verdict; bytesRead: number }> {
  let source: Uint8Array | undefined;
  try {
    source = readExactly(s.source, state.stamp.size);
  } catch (err) {
    return { verdict: { ok: false, reason: 'unreadable', detail: `source: ${errnoCode(err) ?? String(err)}` }, bytesRead: 0 };
  }
  if (!source) return { verdict: { ok: false, reason: 'changed', detail: 'source changed while reading' }, bytesRead: 0 };
  const made = await run.compiler.compile({ sourcePath: s.source, source, version: header.version, optimization: s.name.optimization, relName: s.relName });
  if (!made.ok) return { verdict: { ok: false, reason: made.reason, detail: made.detail }, bytesRead: source.length };
  const own = new Uint8Array(HEADER_SIZE); // the header is rebuilt from the policy; the pyc's own is not kept
  return {
    bytesRead: source.length,
    verdict: {
      ok: true,
      header,
      own,
      body: made.body,
      bodyHash: xxh64Hex(made.body),
      sourceHash: sourceHash(header.version, source),
      sourceKey: sourceKeyOf(source),
    },
  };
}
