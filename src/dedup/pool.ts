/**
 * The analysis pool: `worker_threads` (as many as `--jobs`, default the
 * machine's cores) that read and judge pycs (read.ts) while this thread scans,
 * plans and links. Tasks go in batches; bodies come back transferred, not
 * copied. Small runs, and transforms a worker can't rebuild (a test's), are
 * judged in this thread by the same code.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Transform } from '../canonical/types.js';
import { PycstoreError } from '../errors.js';
import type { PycTask } from './analyze.js';
import type { FillResult, StoreAccess } from './read-fill.js';
import { judgeBatch, threadState, type Answer, type ReadResult, type SourceResult } from './read.js';
import { TRANSIT_LIMIT_KIB, transit, transitCounter } from './transit.js';

/**
 * A worker's young generation (MB): its garbage is each pyc's object graph, dead once the pyc is
 * judged (copies bring no bytes of their own back, read buffers are reused), so a small nursery
 * costs little and keeps RSS flat.
 */
const YOUNG_GENERATION_MB = 8;

/** What a worker is told when it starts. */
export interface WorkerSetup {
  readonly transform: 'raw' | 'canonical';
  readonly policy: string;
  /** The counter of bodies in transit to this thread, and its limit (transit.ts). */
  readonly transit: Int32Array;
  readonly transitLimitKiB: number;
  /** Where --fill's stored bodies are looked up: the ledger's file (opened read-only) and the store roots by id. */
  readonly store?: { readonly ledgerFile: string; readonly roots: readonly (readonly [number, string])[] } | undefined;
}

/** A worker's answers to (part of) a batch, in order; `done`: the last part. */
export interface BatchPart {
  readonly batch: number;
  readonly results: Answer[];
  /** KiB of bodies among them (transit.ts). */
  readonly kib: number;
  readonly done: boolean;
}

export interface Analyzer {
  /** Threads judging (0: this one). */
  readonly threads: number;
  /** Read and judge one pyc (tasks are sent in batches). */
  judge(task: PycTask): Promise<ReadResult>;
  /** Read and hash one source (a `sourceOnly` task). */
  hash(task: PycTask): Promise<SourceResult>;
  /** Read a --fill target's source and look its body up in the store (a `fill` task). */
  fill(task: PycTask): Promise<FillResult>;
  close(): Promise<void>;
}

/** Where batches are judged: worker threads, or this thread. */
type Runner = (tasks: readonly PycTask[]) => Promise<Answer[]>;

/** Tasks per batch: a message costs ~50 µs, a pyc ~200 µs of work. */
const BATCH = 16;

type Answered = ReadResult | SourceResult | FillResult;

function answerOf(a: Answer): Answered {
  if ('error' in a) throw new PycstoreError('EINTERNAL', `analysing a pyc failed unexpectedly: ${a.error}`);
  return a;
}

/** Collects single tasks into batches for `run` (sent when full, or once this turn of the event loop ends). */
function batching(threads: number, run: Runner, close: () => Promise<void>): Analyzer {
  let queue: { task: PycTask; resolve: (a: Answered) => void; reject: (e: unknown) => void }[] = [];
  let scheduled = false;
  const send = (): void => {
    scheduled = false;
    const batch = queue;
    queue = [];
    if (batch.length === 0) return;
    run(batch.map((q) => q.task)).then(
      (answers) => batch.forEach((q, i) => {
        try {
          q.resolve(answerOf(answers[i]!));
        } catch (err) {
          q.reject(err);
        }
      }),
      (err: unknown) => batch.forEach((q) => q.reject(err)),
    );
  };
  const add = (task: PycTask): Promise<Answered> =>
    new Promise((resolve, reject) => {
      queue.push({ task, resolve, reject });
      if (queue.length >= BATCH) send();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(send);
      }
    });
  return {
    threads,
    judge: (task) => add(task) as Promise<ReadResult>,
    hash: (task) => add({ ...task, sourceOnly: true }) as Promise<SourceResult>,
    fill: (task) => add({ ...task, fill: true }) as Promise<FillResult>,
    close,
  };
}

/** The worker's compiled module: next to this one, or — when this runs from src/ (the tests) — its build in dist/. */
function workerFile(): string | undefined {
  const here = fileURLToPath(new URL('./worker.js', import.meta.url));
  if (existsSync(here)) return here;
  const built = here.replace(/([\\/])src([\\/]dedup[\\/]worker\.js)$/, '$1dist$2');
  return existsSync(built) ? built : undefined;
}

function inThisThread(transform: Transform, store: StoreAccess | undefined): Analyzer {
  const state = threadState(store);
  return batching(0, async (tasks) => judgeBatch(tasks, transform, state), async () => undefined);
}

interface Slot {
  readonly worker: Worker;
  /** Tasks sent and not answered. */
  load: number;
}

/** A pool of `threads` workers; each batch goes to the least loaded one. */
function workerPool(file: string, threads: number, setup: WorkerSetup): Analyzer {
  const arrivals = transit(setup.transit, setup.transitLimitKiB);
  const pending = new Map<number, { resolve: (r: Answer[]) => void; reject: (e: Error) => void; slot: Slot; n: number; answers: Answer[] }>();
  let next = 0;
  let failure: Error | undefined;
  const slots: Slot[] = Array.from({ length: threads }, () => {
    const slot: Slot = { worker: new Worker(file, { workerData: setup, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } }), load: 0 };
    slot.worker.on('message', (m: BatchPart) => {
      arrivals.arrived(m.kib);
      const p = pending.get(m.batch);
      if (!p) return;
      p.answers.push(...m.results);
      if (!m.done) return;
      pending.delete(m.batch);
      slot.load -= p.n;
      p.resolve(p.answers);
    });
    slot.worker.on('error', (err) => {
      failure = new PycstoreError('EINTERNAL', `an analysis worker failed: ${err.message}`, { cause: err });
      for (const [id, p] of pending) {
        if (p.slot !== slot) continue;
        pending.delete(id);
        p.reject(failure);
      }
    });
    return slot;
  });
  const run: Runner = (tasks) => {
    if (failure) return Promise.reject(failure);
    const slot = slots.reduce((a, b) => (b.load < a.load ? b : a));
    const batch = next++;
    slot.load += tasks.length;
    return new Promise((resolve, reject) => {
      pending.set(batch, { resolve, reject, slot, n: tasks.length, answers: [] });
      slot.worker.postMessage({ batch, tasks });
    });
  };
  return batching(threads, run, async () => {
    await Promise.all(slots.map((s) => s.worker.terminate()));
  });
}

/**
 * The store --fill's bodies come from: the run's ledger (this thread asks it) and the ledger's file
 * a worker opens read-only — none when the run reads a private copy (a dry run's): then this thread
 * looks the bodies up (fill.ts).
 */
export interface FillStore extends StoreAccess {
  readonly ledgerFile: string | undefined;
}

/**
 * The analyzer for a run: `jobs` worker threads for a transform they know (raw, canonical), when
 * there are at least MIN_FILES_FOR_WORKERS to read; else this thread.
 */
export function makeAnalyzer(opts: { readonly jobs: number; readonly transform: Transform; readonly policy: string; readonly files: number; readonly transitLimitKiB?: number; readonly store?: FillStore | undefined }): Analyzer {
  const known = opts.transform.name === 'raw' || opts.transform.name === 'canonical';
  const file = known && opts.jobs > 0 && opts.files >= MIN_FILES_FOR_WORKERS ? workerFile() : undefined;
  if (!file) return inThisThread(opts.transform, opts.store);
  const store = opts.store?.ledgerFile ? { ledgerFile: opts.store.ledgerFile, roots: [...opts.store.roots] } : undefined;
  return workerPool(file, opts.jobs, { transform: opts.transform.name as 'raw' | 'canonical', policy: opts.policy, transit: transitCounter(), transitLimitKiB: opts.transitLimitKiB ?? TRANSIT_LIMIT_KIB, store });
}

/** Below this many files to read, starting threads costs more than it gives. */
export const MIN_FILES_FOR_WORKERS = 64;
