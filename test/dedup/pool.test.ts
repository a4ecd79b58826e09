/**
 * The analysis pool (src/dedup/pool.ts): worker threads judge real pycs exactly as this thread
 * does, also when the bodies in transit are held to 1 KiB (every body makes a worker send what it
 * holds and wait until this thread has taken it in: transit.ts); a group's first body comes in
 * shared memory and the copies equal to it come back as it; a worker blocked in waitForRoom wakes
 * when this thread takes bodies in.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalTransform } from '../../src/canonical/transform.js';
import type { PycTask } from '../../src/dedup/analyze.js';
import { makeAnalyzer } from '../../src/dedup/pool.js';
import type { ReadResult } from '../../src/dedup/read.js';
import { transit, transitCounter } from '../../src/dedup/transit.js';
import { initHash } from '../../src/hash/xxhash.js';
import { pythonEnv } from '../helpers/interpreters.js';
import { makeVenv, venvPython } from '../helpers/venv.js';

let work: string;
let tasks: PycTask[];
beforeAll(async () => {
  await initHash();
  work = mkdtempSync(path.join(os.tmpdir(), 'pycstore-pool-'));
  const venv = makeVenv(path.join(work, 'v'));
  const tag = execFileSync(venvPython(venv), ['-c', 'import sys; print(sys.implementation.cache_tag)'], { env: pythonEnv() }).toString().trim();
  const pkg = execFileSync(venvPython(venv), ['-c', 'import pip, os; print(os.path.dirname(pip.__file__))'], { env: pythonEnv() }).toString().trim();
  execFileSync(venvPython(venv), ['-m', 'compileall', '-q', path.join(pkg, '_internal', 'commands')], { env: pythonEnv() });
  const dir = path.join(pkg, '_internal', 'commands');
  const cache = path.join(dir, '__pycache__');
  tasks = readdirSync(cache)
    .filter((n) => n.endsWith(`.${tag}.pyc`))
    .map((n, id) => {
      const source = path.join(dir, `${n.slice(0, -`.${tag}.pyc`.length)}.py`);
      const st = statSync(source);
      return { id, path: path.join(cache, n), source, cacheTag: tag, relName: `pip/_internal/commands/${path.basename(source)}`, stamp: { mtime: Math.floor(st.mtimeMs / 1000), size: st.size }, hashSource: false };
    });
}, 180_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function judgeAll(jobs: number, transitLimitKiB?: number): Promise<ReadResult[]> {
  // 4 rounds of the same pycs: enough files for the pool to start its threads
  const all = [0, 1, 2, 3].flatMap((r) => tasks.map((t) => ({ ...t, id: r * tasks.length + t.id })));
  const a = makeAnalyzer({ jobs, transform: canonicalTransform('auto'), policy: 'auto', files: all.length, ...(transitLimitKiB ? { transitLimitKiB } : {}) });
  try {
    expect(a.threads).toBe(jobs);
    return await Promise.all(all.map((t) => a.judge(t)));
  } finally {
    await a.close();
  }
}

const summary = (r: ReadResult): string => (r.verdict.ok ? `${r.id} ok ${r.verdict.bodyHash} ${r.verdict.body.length}` : `${r.id} ${r.verdict.reason}`);

describe('analysis pool', () => {
  it('worker threads judge as this thread does, with bodies in transit held to 1 KiB too', async () => {
    expect(tasks.length).toBeGreaterThan(16);
    const here = (await judgeAll(0)).map(summary);
    expect(here.filter((s) => s.includes(' ok ')).length).toBe(here.length);
    expect((await judgeAll(2)).map(summary)).toEqual(here);
    expect((await judgeAll(2, 1)).map(summary)).toEqual(here);
  }, 120_000);

  it('a body asked to be shared comes in shared memory; copies given it as expected come back as it, others with their own bytes', async () => {
    const here = new Map((await judgeAll(0)).map((r) => [r.id, r]));
    const a = makeAnalyzer({ jobs: 2, transform: canonicalTransform('auto'), policy: 'auto', files: 4 * tasks.length });
    try {
      const leaders = await Promise.all(tasks.map((t) => a.judge({ ...t, share: true })));
      const bodyOf = (r: ReadResult): Uint8Array => (r.verdict.ok ? r.verdict.body : new Uint8Array(0));
      for (const r of leaders) {
        expect(bodyOf(r).buffer).toBeInstanceOf(SharedArrayBuffer);
        expect(summary(r)).toBe(summary(here.get(r.id)!));
      }
      const ok = (r: ReadResult) => (r.verdict.ok ? r.verdict : undefined);
      // Each pyc again, expecting its own body (equal) and its neighbour's (another body).
      const again = await Promise.all(
        tasks.flatMap((t, i) => {
          const own = ok(leaders[i]!)!;
          const other = ok(leaders[(i + 1) % tasks.length]!)!;
          return [a.judge({ ...t, expect: { bodyHash: own.bodyHash, body: own.body } }), a.judge({ ...t, expect: { bodyHash: other.bodyHash, body: other.body } })];
        }),
      );
      again.forEach((r, k) => {
        const v = ok(r)!;
        const equal = k % 2 === 0;
        expect(v.expected).toBe(equal);
        expect(summary(r)).toBe(summary(here.get(r.id)!));
        // The same memory as the leader's when equal (nothing of its own came); else bytes of its own, equal to this thread's.
        expect(v.body.buffer instanceof SharedArrayBuffer).toBe(equal);
        expect(Buffer.from(v.body).equals(Buffer.from(bodyOf(here.get(r.id)!)))).toBe(true);
      });
    } finally {
      await a.close();
    }
  }, 120_000);

  it('a worker waiting for room wakes when this thread takes bodies in', async () => {
    const counter = transitCounter();
    const gate = transit(counter, 4);
    gate.sending(8 * 1024); // 8 KiB on their way: over the limit
    expect(gate.hasRoom()).toBe(false);
    const worker = new Worker(
      `const { workerData, parentPort } = require('node:worker_threads');
       const c = workerData;
       parentPort.postMessage('waiting');
       while (Atomics.load(c, 0) >= 4) Atomics.wait(c, 0, Atomics.load(c, 0));
       parentPort.postMessage('woke');`,
      { eval: true, workerData: counter },
    );
    const said: string[] = [];
    const woke = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: string) => {
        said.push(m);
        if (m === 'waiting') gate.arrived(8);
        if (m === 'woke') resolve();
      });
      worker.on('error', reject);
    });
    await woke;
    await worker.terminate();
    expect(said).toEqual(['waiting', 'woke']);
    expect(gate.hasRoom()).toBe(true);
    expect(Atomics.load(counter, 0)).toBe(0);
  });
});
