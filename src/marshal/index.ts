/**
 * Marshal streams of CPython 3.8–3.15 pyc bodies, and their canonical form.
 *
 * Pycs of different venvs are never byte-identical: marshalled code embeds the absolute
 * co_filename, and CPython's writer is not deterministic (frozenset order follows
 * PYTHONHASHSEED on ≤ 3.10, FLAG_REF follows refcounts, 3.13 depends on process
 * history). The canonical form removes all of that, in pure TypeScript over bytes:
 *
 *   canonicalize(body, version, relFilename)
 *     body: the pyc bytes after the 16-byte header. Every code object's co_filename
 *     becomes relFilename (a path relative to the import root); the result is encoded
 *     canonically:
 *       - FLAG_REF only on objects reached through two or more slots of the final graph,
 *         refs numbered in emission order, each object in full at its first position;
 *       - the top-level code object always carries FLAG_REF (ref 0), as in the pycs that
 *         py_compile and importlib write (first byte 0xe3); nothing refers to it;
 *       - set/frozenset elements sorted by their standalone canonical encoding;
 *       - equal leaf constants merged: int (by value), float/complex (by IEEE bits: -0.0
 *         and 0.0 stay apart, NaNs merge only with the same payload), bytes, str (by
 *         content; interned if any occurrence was). 1, 1.0 and True never merge;
 *       - then, bottom-up, equal immutable containers merged: tuples, frozensets (as
 *         sets) and slices whose children are the same merged nodes. Needed on every
 *         version: whether the compiler shares an equal tuple/frozenset constant depends
 *         on process history (ftplib compiled after `import ftplib` on 3.11–3.15 holds
 *         two copies of a frozenset it otherwise shares). Lists, sets, dicts, frozendicts
 *         and code objects are never merged;
 *       - each value gets the type code CPython's writer would pick for it (a str read as
 *         `u` with ASCII content is written `z`, an int read as `l` that fits int32 is
 *         written `i`, and so on);
 *       - the new co_filename is one str object of its own, written not interned (3.13
 *         interns it, ≤ 3.12 don't; `_fix_co_filename` replaces it at import anyway)
 *         and never merged with an equal constant, so canonicalize(canonical) is the
 *         identity;
 *     CPython loads the result to code equal to the original; after importlib's
 *     `_imp._fix_co_filename(code, source_path)` every co_filename is the source path
 *     again. What is dropped: the FLAG_REF of objects nothing refers back to, the
 *     identity of equal constants (CPython doesn't guarantee it: its own compiler merges
 *     them), set element order (a set's iteration order comes from hashing at load
 *     time), and bytes after the root object (refused, in fact).
 *
 *     Refused with ECANON, so the caller can recompile instead: code objects with
 *     different co_filename values; a co_filename string object that is also used in
 *     another slot (a constant, a name, a qualname…); a root that isn't a code object;
 *     a shared frozendict (early 3.15 builds can't load a reference to one). EMARSHAL:
 *     anything the reader can't read (see reader.ts).
 *     (An ECANON from the check below carries data.path; a refusal never does.)
 *
 *     NEVER canonicalize a pyc that can be loaded without its source (a legacy
 *     "sourceless" `m.pyc` next to where `m.py` would be, a zip app, anything loaded by
 *     `marshal.load` directly): only SourceFileLoader applies `_fix_co_filename`, so
 *     everywhere else the relative co_filename is what tracebacks and inspect show.
 *     That rule belongs to the caller; this module can't see where a pyc lives.
 *
 *   checkCanonical(original, canonical, version, relFilename)
 *     Re-parses both and checks they hold the same code objects, fields and constants
 *     up to the canonical changes above; ECANON with data.path at the first difference.
 *
 *   canonicalizeChecked(body, version, relFilename)
 *     Both in one call, parsing the original once (canonicalize never modifies the graph
 *     it works from, so the check compares the re-parsed canonical bytes against the
 *     original as read): about 20% faster than calling the two. Use this one.
 *
 *   readCodeFilename(body, version)
 *     The root code object's co_filename, for tools and tests (canonicalize needs no
 *     check beforehand: it refuses code objects with different co_filename values).
 *
 *   parseMarshal(body, version)
 *     The object graph (types.ts), for tests and tools.
 */
export { canonicalize, canonicalizeChecked, readCodeFilename } from './canonicalize.js';
export { checkCanonical } from './check.js';
export { parseMarshal, MAX_DEPTH, type ParseOptions } from './reader.js';
export type * from './types.js';
