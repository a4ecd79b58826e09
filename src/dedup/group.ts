/**
 * One group of the run — the files of one (cache tag, relative name) — from
 * analysis to the object each file becomes:
 *
 *   1. its sources' stamps (one stat each): when the copies disagree (or a hash policy is set), a
 *      hash header can be chosen, so the sources are read and hashed with the pycs;
 *   2. every member judged (the pool), bodies kept once per distinct body: a second file
 *      claiming a body already held is compared with it byte for byte;
 *   3. the header of each code decided (policy.ts); when a hash header was chosen for a copy whose
 *      source wasn't read, the source is hashed now, and when the code leaves timestamp objects of
 *      the store, their files in the scanned trees are read to move with it;
 *   4. each file's object: its header and body, one instance per distinct object.
 */
import { statSync } from 'node:fs';
import { objectBytes, type HeaderChoice } from '../canonical/types.js';
import path from 'node:path';
import { canonicalName } from '../canonical/relpath.js';
import { sameFingerprint, sameInode } from '../fs/fingerprint.js';
import { recordedFingerprint, type ObjectRow } from '../ledger/rows.js';
import { sourceHash } from '../pyc/header.js';
import { parseCacheName, sourceForPycache } from '../pyc/names.js';
import { packageDirProbe, statPyc, type KnownCacheName } from '../python/scan.js';
import { sameBytes } from '../store/objects.js';
import type { PycTask } from './analyze.js';
import { skipped, type RunContext } from './context.js';
import { prepareFill } from './fill.js';
import { chooseHeader, codeOf, timestampAgrees, timestampObjectsLeft, type BodyObject } from './policy.js';
import { recoverBody } from './recover.js';
import type { ReadResult } from './read.js';
import { sourceFingerprint, type Bodies, type Chosen, type FileFacts, type SourceState, type StoredBody, type Subject } from './types.js';

/** The stat of a source as the run keeps it; undefined when it is gone. */
export function sourceState(source: string): SourceState | undefined {
  try {
    const st = statSync(source, { bigint: true });
    if (!st.isFile()) return undefined;
    return { stamp: { mtime: Number(st.mtimeNs / 1_000_000_000n), size: Number(st.size) }, fp: sourceFingerprint(st), mode: Number(st.mode), uid: Number(st.uid) };
  } catch {
    return undefined;
  }
}

/** Do this group's sources disagree on their stamp, or does the policy want hash headers? Then sources are hashed up front. */
function hashUpFront(run: RunContext, states: readonly (SourceState | undefined)[]): boolean {
  if (!run.canonical) return false;
  if (run.policy === 'checked-hash' || run.policy === 'unchecked-hash') return true;
  if (run.policy !== 'auto') return false;
  const stamps = new Set(states.filter((s) => s !== undefined).map((s) => `${s.stamp.mtime}:${s.stamp.size}`));
  return stamps.size > 1;
}

function taskOf(s: Subject, state: SourceState, hashSource: boolean, extra: Pick<PycTask, 'expect' | 'share'>): PycTask {
  return { id: s.id, path: s.path, source: s.source, cacheTag: s.name.cacheTag, relName: s.relName, stamp: state.stamp, hashSource, ...extra };
}

/** The one instance of a body in this group; undefined when a file claims a known hash with other bytes. */
function keepBody(bodies: Bodies, hash: string, body: Uint8Array): Uint8Array | undefined {
  const known = bodies.get(hash);
  if (!known) {
    bodies.set(hash, body);
    return body;
  }
  return known === body || sameBytes(known, body) ? known : undefined;
}

/** A judged pyc as the group's facts (or a skip, counted and maybe remembered). */
async function factsOf(run: RunContext, s: Subject, state: SourceState, r: ReadResult, bodies: Bodies): Promise<FileFacts | undefined> {
  run.report.bytesRead += r.bytesRead;
  const seen = r.stat ? { fp: r.stat.fp, sourceFp: state.fp } : undefined;
  let v = r.verdict;
  let recompiled = false;
  if (!v.ok && v.refused && run.canonical) {
    const rec = await recoverBody(run, s, state, { ...v.refused, detail: v.detail }, r.stat?.fp.size ?? 0);
    run.report.bytesRead += rec.bytesRead;
    v = rec.verdict;
    recompiled = v.ok;
  }
  if (!v.ok || !r.stat) {
    skipped(run, s.path, v.ok ? 'changed' : v.reason, seen);
    return undefined;
  }
  // A body equal to the group's first (compared byte for byte where it was made) is that one.
  const body = (v.expected && bodies.get(v.bodyHash)) || keepBody(bodies, v.bodyHash, v.body);
  if (!body) {
    run.report.failures.push({ path: s.path, reason: 'collision', detail: `body hash ${v.bodyHash} of another body in this group: not linked` });
    return undefined;
  }
  return { subject: s, stat: r.stat, source: state, header: v.header, own: v.own, body, bodyHash: v.bodyHash, sourceHash: v.sourceHash, sourceKey: v.sourceKey, recompiled };
}

/**
 * Bytes of one group's copies being read at once after the first: copies of one big pyc (six of
 * sympy's 11.8 MB test module) are read a few at a time, each let go once compared with the body
 * kept, so memory follows the distinct bodies, not the copies.
 */
const GROUP_BYTES_IN_FLIGHT = 16 * 1024 * 1024;

/** Judge the members of a group (pycs through the pool, --fill targets here): the first, then the rest side by side within GROUP_BYTES_IN_FLIGHT. */
export async function judgeMembers(run: RunContext, subjects: readonly Subject[], bodies: Bodies, forceHash = false): Promise<FileFacts[]> {
  const states = subjects.map((s) => sourceState(s.source));
  const hash = forceHash || hashUpFront(run, states);
  const judge = async (i: number, extra: Pick<PycTask, 'expect' | 'share'>): Promise<FileFacts | undefined> => {
    const s = subjects[i]!;
    const state = states[i];
    if (!state) {
      skipped(run, s.path, 'changed');
      return undefined;
    }
    const kind = run.table.kind(s.id);
    if (kind !== 'pyc') return prepareFill(run, s, state, kind === 'fill-stale', bodies, hash);
    return factsOf(run, s, state, await run.analyzer.judge(taskOf(s, state, hash, extra)), bodies);
  };
  if (subjects.length === 0) return [];
  // The first copy's body is shared with the worker threads, which compare the others with it: copies equal to it don't travel.
  const first = await judge(0, { share: subjects.length > 1 });
  const sharable = first && (first.body.buffer instanceof SharedArrayBuffer || run.analyzer.threads === 0); // else each task would copy it
  const expect = sharable ? { bodyHash: first.bodyHash, body: first.body } : undefined;
  const size = first?.stat.fp.size ?? 0;
  const atOnce = Math.max(1, Math.floor(GROUP_BYTES_IN_FLIGHT / Math.max(1, size)));
  const rest = await inWaves(subjects.length - 1, atOnce, (k) => judge(k + 1, { expect }));
  return [first, ...rest].filter((f): f is FileFacts => f !== undefined);
}

/** `fn(0..n-1)`, at most `atOnce` at a time, results in order. */
async function inWaves<T>(n: number, atOnce: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      out[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(atOnce, n) }, lane));
  return out;
}

/** The objects of one code the store holds already (any header, any store root): as a --fill body's lookup read them with it, else asked now. */
function storedOf(run: RunContext, f: FileFacts): BodyObject[] {
  const rows = f.fill?.stored?.objects ?? run.ledger?.objectsWithBody(f.header.version.magic, f.bodyHash) ?? [];
  return rows.map((o) => ({ id: o.id, invalidation: o.invalidation, key: { hash: o.hash, size: o.size } }));
}

/** Each file's object, one instance per distinct (header, body). */
class Objects {
  private readonly made = new Map<string, { bytes: Uint8Array; key: ReturnType<RunContext['transform']['address']>; readFrom: ObjectRow | undefined }>();
  constructor(private readonly run: RunContext) {}
  of(f: FileFacts, choice: HeaderChoice): Chosen {
    const t = this.run.transform;
    const header = t.header({ header: f.header, own: f.own, stamp: f.source.stamp, sourceHash: f.sourceHash }, choice);
    const id = `${Buffer.from(header).toString('hex')}:${f.bodyHash}`;
    let o = this.made.get(id);
    if (!o) {
      const bytes = objectBytes(header, f.body);
      o = { bytes, key: t.address(bytes), readFrom: readFrom(bytes, f.fill?.stored) };
      this.made.set(id, o);
    }
    const invalidation = choice === 'as-is' ? f.header.invalidation : choice;
    const stamp = invalidation === 'timestamp' ? `${f.source.stamp.mtime}:${f.source.stamp.size}` : undefined;
    return { facts: f, bytes: o.bytes, readFrom: o.readFrom, variant: { choice, key: o.key, invalidation, bodyHash: f.bodyHash, stamp } };
  }
}

/** The row of the object file `bytes` are, whole, as this run read it (a stored body under the header it has there). */
function readFrom(bytes: Uint8Array, stored: StoredBody | undefined): ObjectRow | undefined {
  if (!stored || bytes.buffer !== stored.body.buffer) return undefined;
  return bytes.byteOffset === 0 && bytes.length === stored.body.byteOffset + stored.body.length ? stored.row : undefined;
}

/** The header each file gets (per code), and what that still needs: sources to hash, stored timestamp objects to leave. */
function decide(run: RunContext, facts: readonly FileFacts[], objects: Objects): { choices: HeaderChoice[]; unhashed: FileFacts[]; leaving: number[] } {
  const byCode = new Map<string, FileFacts[]>();
  for (const f of facts) {
    const list = byCode.get(codeOf(f));
    if (list) list.push(f);
    else byCode.set(codeOf(f), [f]);
  }
  const agrees = new Map<string, boolean>();
  const leaving: number[] = [];
  for (const [code, copies] of byCode) {
    if (run.policy !== 'auto' || !run.canonical) continue;
    const stored = storedOf(run, copies[0]!);
    const ts = copies.find((f) => f.header.invalidation === 'timestamp');
    const ok = timestampAgrees(copies, stored, () => objects.of(ts ?? copies[0]!, 'timestamp').variant.key);
    agrees.set(code, ok);
    if (!ok && ts) leaving.push(...timestampObjectsLeft(stored));
  }
  const choices = facts.map((f) => chooseHeader(f, run.transform, run.policy, agrees.get(codeOf(f)) ?? true));
  const unhashed = facts.filter((f, i) => choices[i] !== 'as-is' && choices[i] !== 'timestamp' && f.sourceHash === undefined);
  return { choices, unhashed, leaving };
}

/** Hash the sources a hash header was chosen for; a copy whose source changed meanwhile is dropped. */
async function hashSources(run: RunContext, unhashed: readonly FileFacts[]): Promise<Set<FileFacts>> {
  const dropped = new Set<FileFacts>();
  await Promise.all(
    unhashed.map(async (f) => {
      const s = f.subject;
      if (f.fill?.source) {
        f.sourceHash = sourceHash(f.header.version, f.fill.source); // read already
        return;
      }
      const r = await run.analyzer.hash({ id: s.id, path: s.path, source: s.source, cacheTag: s.name.cacheTag, relName: s.relName, stamp: f.source.stamp, hashSource: true });
      run.report.bytesRead += r.bytesRead;
      if (r.sourceHash === undefined || sourceState(s.source)?.fp !== f.source.fp) {
        skipped(run, s.path, 'changed');
        dropped.add(f);
        return;
      }
      f.sourceHash = r.sourceHash;
      f.sourceKey = r.sourceKey;
    }),
  );
  return dropped;
}

/**
 * The files in the scanned trees still linked to the store objects `ids` (timestamp objects their
 * code leaves for checked-hash): added to the table and judged, sources hashed, to move with it.
 */
async function moveLinked(run: RunContext, ids: readonly number[], bodies: Bodies): Promise<FileFacts[]> {
  const ledger = run.ledger;
  if (!ledger || ids.length === 0) return [];
  const subjects: Subject[] = [];
  for (const id of ids) {
    const object = ledger.objectById(id);
    if (!object) continue;
    for (const l of ledger.linksOfObject(id)) {
      const p = ledger.filePath(l.dir_id, l.name);
      const rootIndex = run.rootPaths.findIndex((r) => p.startsWith(r.endsWith(path.sep) ? r : `${r}${path.sep}`));
      if (rootIndex < 0 || path.basename(path.dirname(p)) !== '__pycache__') continue; // not scanned (or a prefix tree): stays
      const st = statPyc(p);
      const still = st && (l.kind === 'hardlink' ? sameInode(st.fp, object) : sameFingerprint(st.fp, recordedFingerprint(l)));
      if (!still) continue; // no longer that object: its own row, or none, says what it is
      const name = parseCacheName(path.basename(p));
      if (!name?.version) continue;
      const source = sourceForPycache(p, name);
      const row = run.table.add({ path: p, source, rootIndex, relName: canonicalName(source, packageDirProbe()), name: name as KnownCacheName });
      subjects.push(run.table.subject(row));
    }
  }
  const facts = await judgeMembers(run, subjects, bodies, true);
  run.report.shared -= facts.length;
  return facts;
}

/** Steps 3 and 4 for a group: each file and the object it becomes. */
export async function chooseObjects(run: RunContext, facts: FileFacts[], bodies: Bodies): Promise<Chosen[]> {
  const objects = new Objects(run);
  const moved = new Set<number>();
  for (let round = 0; ; round++) {
    const d = decide(run, facts, objects);
    const dropped = await hashSources(run, d.unhashed);
    const leave = d.leaving.filter((id) => !moved.has(id));
    leave.forEach((id) => moved.add(id));
    const more = round < 2 ? await moveLinked(run, leave, bodies) : [];
    if (more.length === 0) {
      const keep = facts.map((f, i) => ({ f, c: d.choices[i]! })).filter((x) => !dropped.has(x.f));
      return keep.map((x) => objects.of(x.f, x.c));
    }
    facts = [...facts.filter((f) => !dropped.has(f)), ...more];
  }
}

