/**
 * A worker thread of the analysis pool (pool.ts): it reads and judges the pycs
 * it is sent (read.ts, analyze.ts) and sends back each verdict, the checked
 * bodies transferred, not copied. Everything it does is per file; it keeps
 * nothing between batches.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { rawTransform } from '../canonical/raw.js';
import { canonicalTransform } from '../canonical/transform.js';
import type { InvalidationPolicy } from '../canonical/types.js';
import { initHash } from '../hash/xxhash.js';
import type { WorkerSetup } from './pool.js';
import { judgeBatch, threadState } from './read.js';
import type { PycTask } from './analyze.js';

await initHash();
const setup = workerData as WorkerSetup;
const transform = setup.transform === 'raw' ? rawTransform : canonicalTransform(setup.policy as InvalidationPolicy);
const state = threadState();
const port = parentPort!;
port.on('message', (msg: { readonly batch: number; readonly tasks: readonly PycTask[] }) => {
  const { results, transfer } = judgeBatch(msg.tasks, transform, state);
  port.postMessage({ batch: msg.batch, results }, transfer);
});
