/**
 * The recompile fallback: where the transform refuses a pyc's own bytes (a
 * construct the marshal reader doesn't know, a co_filename shared with another
 * slot), its source is compiled again by an interpreter of its magic, and that
 * body is taken only when the interpreter proves the compiled code equal to the
 * pyc's own (python/compile.ts). A pyc CPython can't load is `corrupt`; one
 * whose code is not its source's is `code-differs`; both stay as they are.
 * Without an interpreter to judge, a pyc the marshal reader refused is
 * `unsupported`. In this thread: it is rare, and the compile pool lives here.
 */
import { sourceKeyOf } from '../canonical/compile-key.js';
import { errnoCode } from '../errors.js';
import { xxh64Hex } from '../hash/xxhash.js';
import { HEADER_SIZE, sourceHash, type PycHeader } from '../pyc/header.js';
import type { Verdict } from './analyze.js';
import type { RunContext } from './context.js';
import { readExactly } from './read.js';
import type { SourceState, Subject } from './types.js';

export async function recoverBody(
  run: RunContext,
  s: Subject,
  state: SourceState,
  refused: { readonly header: PycHeader; readonly code: string; readonly detail?: string | undefined },
  pycSize: number,
): Promise<{ verdict: Verdict; bytesRead: number }> {
  const header = refused.header;
  let source: Uint8Array | undefined;
  let pyc: Uint8Array | undefined;
  try {
    source = readExactly(s.source, state.stamp.size);
    pyc = readExactly(s.path, pycSize); // its own code, for the proof (read again: rare, and bodies don't come back from the workers)
  } catch (err) {
    return { verdict: { ok: false, reason: 'unreadable', detail: `${errnoCode(err) ?? String(err)}` }, bytesRead: 0 };
  }
  if (!source || !pyc) return { verdict: { ok: false, reason: 'changed', detail: 'changed while reading' }, bytesRead: 0 };
  const bytesRead = source.length + pyc.length;
  const made = await run.compiler.compile({ sourcePath: s.source, source, version: header.version, optimization: s.name.optimization, relName: s.relName, original: pyc.subarray(HEADER_SIZE) });
  if (!made.ok) {
    if (made.reason === 'no-interpreter' && refused.code === 'EMARSHAL') return { verdict: { ok: false, reason: 'unsupported', detail: `${refused.detail ?? ''}; ${made.detail}` }, bytesRead };
    return { verdict: { ok: false, reason: made.reason, detail: made.detail }, bytesRead };
  }
  const own = new Uint8Array(HEADER_SIZE); // the header is rebuilt from the policy; the pyc's own is not kept
  return {
    bytesRead,
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
